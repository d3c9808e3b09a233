import type { Kysely } from 'kysely';
import type { DatabaseHandle } from '../database/index.js';
import type { CatalogTables } from './tables.js';

/** Values looked up per query; PostgreSQL and SQLite both take this many bound parameters. */
const VALUES_PER_QUERY = 500;

/**
 * Finds the Group entities whose annotation `annotation` has one of `values`,
 * ignoring case, through the search table's lowercase rows. Returns a map
 * from each lowercase value to the sorted, lowercase references of the
 * Groups that carry it. A value that no Group carries is absent.
 */
export async function findGroupRefsByAnnotation(
  database: DatabaseHandle,
  annotation: string,
  values: readonly string[],
): Promise<Map<string, string[]>> {
  const db = database.db as Kysely<CatalogTables>;
  const key = `metadata.annotations.${annotation}`.toLowerCase();
  const wanted = [...new Set(values.map((value) => value.trim().toLowerCase()))].filter(
    (value) => value !== '',
  );

  const found = new Map<string, string[]>();
  for (let start = 0; start < wanted.length; start += VALUES_PER_QUERY) {
    const rows = await db
      .selectFrom('catalog_search as s')
      .innerJoin('catalog_entities as e', 'e.id', 's.entity_id')
      .select(['s.value', 'e.entity_ref'])
      .where('s.key', '=', key)
      .where('s.value', 'in', wanted.slice(start, start + VALUES_PER_QUERY))
      .where('e.entity_ref', 'like', 'group:%')
      .execute();
    for (const row of rows) {
      if (row.value === null) {
        continue;
      }
      const refs = found.get(row.value) ?? [];
      refs.push(row.entity_ref);
      found.set(row.value, refs);
    }
  }

  for (const refs of found.values()) {
    refs.sort();
  }
  return found;
}
