import { type Entity, parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import type { Kysely } from 'kysely';
import type { DatabaseHandle } from '../database/index.js';
import type { PermissionResourceType } from '../permissions/index.js';
import { CATALOG_ENTITY_RESOURCE_TYPE } from './api/index.js';
import type { CatalogTables } from './tables.js';

/** Backstage's plugin id for the catalog, sent with conditional catalog-entity decisions. */
export const CATALOG_PLUGIN_ID = 'catalog';

/** References per IN list. */
const CHUNK = 500;

/**
 * Creates the catalog-entity resource type: entities by reference with all
 * their outgoing relations, as the rules' in-memory checks expect them.
 * References compare without case; one that is not an entity reference
 * (such as `booking-api` without a kind) finds nothing.
 */
export function createEntityResourceType(database: DatabaseHandle): PermissionResourceType<Entity> {
  const db = database.db as Kysely<CatalogTables>;

  return {
    resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
    pluginId: CATALOG_PLUGIN_ID,

    async getResources(refs) {
      const normalized = refs.map(normalizeEntityRef);
      const requested = [...new Set(normalized.filter((ref): ref is string => ref !== undefined))];
      const entities = new Map<string, Entity>();

      for (let start = 0; start < requested.length; start += CHUNK) {
        const chunk = requested.slice(start, start + CHUNK);
        const rows = await db
          .selectFrom('catalog_entities')
          .select(['entity_ref', 'body'])
          .where('entity_ref', 'in', chunk)
          .execute();
        for (const row of rows) {
          entities.set(row.entity_ref, { ...(JSON.parse(row.body) as Entity), relations: [] });
        }

        const relations = await db
          .selectFrom('catalog_relations')
          .select(['source_ref', 'type', 'target_ref'])
          .distinct()
          .where('source_ref', 'in', chunk)
          .execute();
        for (const relation of relations) {
          entities
            .get(relation.source_ref)
            ?.relations?.push({ type: relation.type, targetRef: relation.target_ref });
        }
      }

      return normalized.map((ref) => (ref === undefined ? undefined : entities.get(ref)));
    },
  };
}

function normalizeEntityRef(ref: string): string | undefined {
  try {
    return stringifyEntityRef(parseEntityRef(ref)).toLocaleLowerCase('en-US');
  } catch {
    return undefined;
  }
}
