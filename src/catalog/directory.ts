import type { Kysely } from 'kysely';
import type { DatabaseHandle } from '../database/index.js';
import type { CatalogDirectory } from './catalog.js';
import type { CatalogTables } from './tables.js';

/**
 * Creates the read-only view of User and Group entities that sign-in
 * resolution uses. Every query reads the catalog tables as the last refresh
 * left them; references in and out are lowercase.
 */
export function createCatalogDirectory(database: DatabaseHandle): CatalogDirectory {
  const db = database.db as Kysely<CatalogTables>;

  async function entityExists(ref: string): Promise<boolean> {
    const row = await db
      .selectFrom('catalog_entities')
      .select('entity_ref')
      .where('entity_ref', '=', ref)
      .executeTakeFirst();
    return row !== undefined;
  }

  return {
    async findUserRefByEmail(email) {
      const value = email.trim().toLowerCase();
      if (value === '') {
        return undefined;
      }

      // NOTE: when several User entities share an email, the first reference
      // in sort order wins; the catalog does not reject such duplicates.
      const row = await db
        .selectFrom('catalog_search as s')
        .innerJoin('catalog_entities as e', 'e.id', 's.entity_id')
        .select('e.entity_ref')
        .where('s.key', '=', 'spec.profile.email')
        .where('s.value', '=', value)
        .where('e.entity_ref', 'like', 'user:%')
        .orderBy('e.entity_ref')
        .executeTakeFirst();
      return row?.entity_ref;
    },

    async findUserRefByName(name) {
      const value = name.trim().toLowerCase();
      if (value === '' || value.includes('/') || value.includes(':')) {
        return undefined;
      }

      const ref = `user:default/${value}`;
      return (await entityExists(ref)) ? ref : undefined;
    },

    async findUserRef(ref) {
      const value = ref.trim().toLowerCase();
      if (!value.startsWith('user:')) {
        return undefined;
      }
      return (await entityExists(value)) ? value : undefined;
    },

    async findGroupRef(ref) {
      const value = ref.trim().toLowerCase();
      if (!value.startsWith('group:')) {
        return undefined;
      }
      return (await entityExists(value)) ? value : undefined;
    },

    async getDirectGroupRefs(userRef) {
      const ref = userRef.toLowerCase();
      // Ingestion writes both directions of a membership, whichever side
      // declared it; reading both keeps this right if only one row exists.
      const rows = await db
        .selectFrom('catalog_relations')
        .select(['source_ref', 'type', 'target_ref'])
        .where((where) =>
          where.or([
            where.and([where('source_ref', '=', ref), where('type', '=', 'memberOf')]),
            where.and([where('target_ref', '=', ref), where('type', '=', 'hasMember')]),
          ]),
        )
        .execute();

      const groups = new Set<string>();
      for (const row of rows) {
        const group = row.type === 'memberOf' ? row.target_ref : row.source_ref;
        if (group.startsWith('group:')) {
          groups.add(group);
        }
      }
      return [...groups].sort();
    },

    async expandGroupAncestors(groupRefs) {
      const parentsOf = await loadParentEdges(
        db,
        groupRefs.map((ref) => ref.toLowerCase()),
      );
      return walkAncestors(
        groupRefs.map((ref) => ref.toLowerCase()),
        parentsOf,
      );
    },
  };
}

/**
 * Reads the parent edges of every group reachable from `start`, one query per
 * level of the hierarchy, from `childOf` rows and from `parentOf` rows.
 */
async function loadParentEdges(
  db: Kysely<CatalogTables>,
  start: readonly string[],
): Promise<Map<string, string[]>> {
  const parentsOf = new Map<string, string[]>();
  let frontier = [...new Set(start)];

  while (frontier.length > 0) {
    for (const group of frontier) {
      parentsOf.set(group, []);
    }

    const rows = await db
      .selectFrom('catalog_relations')
      .select(['source_ref', 'type', 'target_ref'])
      .where((where) =>
        where.or([
          where.and([where('source_ref', 'in', frontier), where('type', '=', 'childOf')]),
          where.and([where('target_ref', 'in', frontier), where('type', '=', 'parentOf')]),
        ]),
      )
      .execute();

    const next = new Set<string>();
    for (const row of rows) {
      const child = row.type === 'childOf' ? row.source_ref : row.target_ref;
      const parent = row.type === 'childOf' ? row.target_ref : row.source_ref;
      if (!parent.startsWith('group:')) {
        continue;
      }
      const parents = parentsOf.get(child) ?? [];
      if (!parents.includes(parent)) {
        parents.push(parent);
      }
      parentsOf.set(child, parents);
      if (!parentsOf.has(parent)) {
        next.add(parent);
      }
    }
    frontier = [...next];
  }

  for (const parents of parentsOf.values()) {
    parents.sort();
  }
  return parentsOf;
}

/**
 * Collects the groups and their ancestors depth first. A parent already on the
 * current path closes a cycle: the walk does not follow it again, and the
 * cycle is returned once, rotated to start at its smallest reference.
 */
function walkAncestors(
  start: readonly string[],
  parentsOf: ReadonlyMap<string, readonly string[]>,
): { groupRefs: string[]; cycles: string[][] } {
  const reached = new Set<string>();
  const cycles = new Map<string, string[]>();
  const path: string[] = [];
  const onPath = new Set<string>();

  const visit = (group: string) => {
    if (onPath.has(group)) {
      const cycle = path.slice(path.indexOf(group));
      const normalized = rotateToSmallest(cycle);
      cycles.set(normalized.join(' '), normalized);
      return;
    }
    if (reached.has(group)) {
      return;
    }

    reached.add(group);
    path.push(group);
    onPath.add(group);
    for (const parent of parentsOf.get(group) ?? []) {
      visit(parent);
    }
    path.pop();
    onPath.delete(group);
  };

  for (const group of start) {
    visit(group);
  }
  return { groupRefs: [...reached].sort(), cycles: [...cycles.values()] };
}

function rotateToSmallest(cycle: readonly string[]): string[] {
  let smallest = 0;
  cycle.forEach((ref, index) => {
    if (ref < cycle[smallest]!) {
      smallest = index;
    }
  });
  return [...cycle.slice(smallest), ...cycle.slice(0, smallest)];
}
