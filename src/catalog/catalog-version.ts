import { sql } from 'kysely';
import type { DatabaseHandle } from '../database/index.js';

/**
 * Reads a value that changes whenever a location refresh or an entity
 * provider's change commits: the number of locations and the latest refresh
 * time. Both writers set the location's `refreshed_at` in the transaction
 * that writes its entities. A reader that sees an unchanged value has
 * therefore seen no newer commit, except for two commits within the same
 * millisecond and a commit by a replica whose clock lags behind.
 */
export async function readCatalogVersion(database: DatabaseHandle): Promise<string> {
  const result = await sql<{ locations: number | string; refreshed: string | null }>`
    select count(*) as locations, max(refreshed_at) as refreshed from catalog_locations
  `.execute(database.db);
  const row = result.rows[0];
  return `${row?.locations ?? 0}|${row?.refreshed ?? ''}`;
}
