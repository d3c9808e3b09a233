import { sql } from 'kysely';
import type { SqlCondition } from './filter-sql.js';
import type { AnyKysely, QueryContext } from './query-plan.js';

/** No candidate count reads more index entries than this. */
export const ESTIMATE_CAP = 200_000;
/** Estimates only choose between plans, so a little staleness is harmless. */
const ESTIMATE_TTL_MS = 30_000;
const ESTIMATE_CACHE_SIZE = 1_000;

interface CachedCount {
  count: number;
  /** The LIMIT of the count; a count that reached it means "at least this many". */
  cap: number;
  expires: number;
}

const estimates = new WeakMap<AnyKysely, Map<string, CachedCount>>();

function cacheOf(context: QueryContext): Map<string, CachedCount> {
  let cache = estimates.get(context.db);
  if (!cache) {
    cache = new Map();
    estimates.set(context.db, cache);
  }
  return cache;
}

/**
 * Counts the rows of `subquery` up to `cap`, so the count reads at most `cap`
 * index entries, and returns min(count, cap). Counts are cached per
 * `cacheKey`; a cached count that reached its own cap answers only requests
 * with a cap no larger than it.
 */
export async function estimateRows(
  context: QueryContext,
  cacheKey: string,
  subquery: SqlCondition,
  cap: number,
): Promise<number> {
  const cache = cacheOf(context);
  const now = Date.now();
  const hit = cache.get(cacheKey);
  if (hit && hit.expires > now && (hit.count < hit.cap || cap <= hit.cap)) {
    return Math.min(hit.count, cap);
  }

  const result = await sql<{ count: number | string }>`
    select count(*) as count from (${subquery} limit ${cap}) capped
  `.execute(context.db);
  const count = Number(result.rows[0]?.count ?? 0);
  if (cache.size >= ESTIMATE_CACHE_SIZE) {
    cache.clear();
  }
  cache.set(cacheKey, { count, cap, expires: now + ESTIMATE_TTL_MS });
  return count;
}

/** Number of stored entities, cached like the estimates. */
export async function countAllEntities(context: QueryContext): Promise<number> {
  const cache = cacheOf(context);
  const now = Date.now();
  const hit = cache.get('total');
  if (hit && hit.expires > now) {
    return hit.count;
  }
  const result = await sql<{ count: number | string }>`
    select count(*) as count from catalog_entities
  `.execute(context.db);
  const count = Number(result.rows[0]?.count ?? 0);
  cache.set('total', { count, cap: Number.POSITIVE_INFINITY, expires: now + ESTIMATE_TTL_MS });
  return count;
}
