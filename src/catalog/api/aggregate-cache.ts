import { sql } from 'kysely';
import type { AnyKysely, QueryContext } from './query-plan.js';

/** Results kept per database; the oldest is dropped first. */
const MAX_ENTRIES = 500;

interface Entry {
  version: string;
  value: unknown;
}

const caches = new WeakMap<AnyKysely, Map<string, Entry>>();

/**
 * Reads a value that changes whenever a location refresh commits: the number
 * of locations and the latest refresh time. The ingestion writes a location's
 * entities and its refresh time in one transaction, so a cached result is
 * never served after the data it was computed from has changed.
 */
async function catalogVersion(context: QueryContext): Promise<string> {
  const result = await sql<{ locations: number | string; refreshed: string | null }>`
    select count(*) as locations, max(refreshed_at) as refreshed from catalog_locations
  `.execute(context.db);
  const row = result.rows[0];
  return `${row?.locations ?? 0}|${row?.refreshed ?? ''}`;
}

/**
 * Computes an aggregate over the catalog (a total, facet counts) once per
 * catalog version and selection. Large totals cost tens of milliseconds on
 * SQLite, and list views ask for the same one on every page and reload.
 */
export async function cachedAggregate<T>(
  context: QueryContext,
  key: string,
  compute: () => Promise<T>,
): Promise<T> {
  let cache = caches.get(context.db);
  if (!cache) {
    cache = new Map();
    caches.set(context.db, cache);
  }

  const version = await catalogVersion(context);
  const hit = cache.get(key);
  if (hit && hit.version === version) {
    cache.delete(key);
    cache.set(key, hit);
    return hit.value as T;
  }

  const value = await compute();
  cache.delete(key);
  cache.set(key, { version, value });
  if (cache.size > MAX_ENTRIES) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) {
      cache.delete(oldest);
    }
  }
  return value;
}
