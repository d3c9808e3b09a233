import type { Kysely } from 'kysely';
import type { DatabaseHandle } from '../database/index.js';
import type { OrganisationInput } from '../permissions/organisation.js';
import type { CatalogTables } from './tables.js';

/**
 * Reads every User and Group entity with its direct memberships and group
 * parents, as the last refresh stored them. The `memberOf` and `childOf`
 * relations exist whichever side declared the link, so membership declared
 * only on the Group (`spec.members`) counts too.
 */
export async function readOrganisation(database: DatabaseHandle): Promise<OrganisationInput> {
  const db = database.db as Kysely<CatalogTables>;
  const entities = await db
    .selectFrom('catalog_entities')
    .select('entity_ref')
    .where((eb) => eb.or([eb('entity_ref', 'like', 'user:%'), eb('entity_ref', 'like', 'group:%')]))
    .execute();
  const relations = await db
    .selectFrom('catalog_relations')
    .select(['source_ref', 'type', 'target_ref'])
    .where('type', 'in', ['memberOf', 'childOf'])
    .execute();

  const links = new Map<string, Set<string>>();
  for (const relation of relations) {
    let targets = links.get(relation.source_ref);
    if (!targets) {
      targets = new Set();
      links.set(relation.source_ref, targets);
    }
    targets.add(relation.target_ref);
  }

  const input: {
    users: OrganisationInput['users'][number][];
    groups: OrganisationInput['groups'][number][];
  } = {
    users: [],
    groups: [],
  };
  for (const entity of entities) {
    const targets = [...(links.get(entity.entity_ref) ?? [])].filter((ref) =>
      ref.startsWith('group:'),
    );
    if (entity.entity_ref.startsWith('user:')) {
      input.users.push({ ref: entity.entity_ref, groupRefs: targets });
    } else {
      input.groups.push({ ref: entity.entity_ref, parentRefs: targets });
    }
  }
  return input;
}
