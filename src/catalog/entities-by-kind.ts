import type { Kysely } from 'kysely';
import type { DatabaseHandle } from '../database/index.js';
import type { CatalogTables } from './tables.js';

/** An entity as the last refresh stored it, with where it was read from. */
export interface StoredEntity {
  /** Lowercase reference, such as `microfrontend:default/deployments`. */
  entityRef: string;
  /** Id of the catalog location that stores it. */
  locationId: string;
  /** Absolute path of the file it was read from, and its document index there. */
  file: string;
  docIndex?: number;
  /** The entity as stored, without `relations`. */
  entity: Record<string, unknown>;
}

/**
 * Reads every stored entity of one kind, ignoring case, sorted by reference.
 * It reads the catalog's committed rows, so an entity appears after the
 * refresh that stored it has committed.
 */
export async function readEntitiesByKind(
  database: DatabaseHandle,
  kind: string,
): Promise<StoredEntity[]> {
  const db = database.db as Kysely<CatalogTables>;
  const rows = await db
    .selectFrom('catalog_entities')
    .select(['entity_ref', 'location_id', 'file', 'doc_index', 'body'])
    .where('entity_ref', 'like', `${kind.toLowerCase()}:%`)
    .orderBy('entity_ref')
    .execute();
  return rows.map((row) => ({
    entityRef: row.entity_ref,
    locationId: row.location_id,
    file: row.file,
    docIndex: row.doc_index,
    entity: JSON.parse(row.body) as Record<string, unknown>,
  }));
}
