import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../../database/index.js';
import { type EntityFilter, isSearchFilter, relationTypeOfKey } from './entity-filter.js';
import { MATCH_ALL, normalizeFilter } from './filter-normalize.js';
import {
  compileEntityFilter,
  escapeLikePattern,
  relationTypeCondition,
  SQL_TRUE,
  type SqlCondition,
} from './filter-sql.js';

// biome-ignore lint/suspicious/noExplicitAny: queries are raw SQL over the catalog tables.
export type AnyKysely = Kysely<any>;

/** The database and its dialect, which decides a few SQL spellings. */
export interface QueryContext {
  db: AnyKysely;
  dialect: DialectName;
  /**
   * True when the database orders text byte by byte (SQLite, PostgreSQL with
   * the C collation), so a kind's reference range can use the primary key.
   */
  bytewiseText: boolean;
}

/**
 * Finds out whether the database orders text byte by byte; see QueryContext.
 * PostgreSQL is asked to compare two pairs that a linguistic collation (libc
 * or ICU) orders the other way: capitals before small letters, and ';' after
 * ':' even when more letters follow.
 */
export async function detectBytewiseText(db: AnyKysely, dialect: DialectName): Promise<boolean> {
  if (dialect === 'sqlite') {
    return true;
  }
  const result = await sql<{ bytewise: boolean }>`
    select ('B' < 'a' and 'a;' > 'a:zzz') as bytewise
  `.execute(db);
  return result.rows[0]?.bytewise === true;
}

export interface FullTextFilter {
  /** Lowercase term, matched anywhere inside the values. */
  term: string;
  /** Lowercase search keys to look in. */
  fields: string[];
}

/** Selection of entities: the caller's filter and permissions, and a full-text term. */
export interface EntitySelection {
  filter?: EntityFilter | undefined;
  fullText?: FullTextFilter | undefined;
}

/**
 * Amount a query reads: a page of `rows` rows (offset included), or every row
 * for a count, a complete listing or facet counts.
 */
export type QueryGoal = { rows: number } | 'count' | 'all';

/**
 * Access path of a query. A `driven` plan first collects candidate references
 * from the indexes of the most selective conditions and checks the rest per
 * candidate. Otherwise the query walks an index in result order and checks
 * every condition per row until the page is full.
 */
export interface SelectionPlan {
  driven: boolean;
  /** Driven by kind ranges of the primary key, which are already in reference order. */
  direct: boolean;
  /** The WHERE condition on the column holding the entity reference. */
  where(entityRef: SqlCondition): SqlCondition;
  /**
   * The driven plan for the same selection, when this plan walks in result
   * order but the filter offers candidates: the fallback for a walk that
   * finds matches too rarely.
   */
  drivenAlternative?: SelectionPlan;
}

/**
 * Candidate counts are looked up with a LIMIT, so an estimate costs at most
 * this many index entries; a larger set counts as "at least this many".
 */
const ESTIMATE_CAP = 200_000;
/** Estimates only choose between plans, so a little staleness is harmless. */
const ESTIMATE_TTL_MS = 30_000;
const ESTIMATE_CACHE_SIZE = 1_000;

interface CachedCount {
  count: number;
  expires: number;
}

const estimates = new WeakMap<AnyKysely, Map<string, CachedCount>>();

async function cachedCount(
  context: QueryContext,
  cacheKey: string,
  query: SqlCondition,
): Promise<number> {
  let cache = estimates.get(context.db);
  if (!cache) {
    cache = new Map();
    estimates.set(context.db, cache);
  }
  const now = Date.now();
  const hit = cache.get(cacheKey);
  if (hit && hit.expires > now) {
    return hit.count;
  }

  const result = await sql<{ count: number | string }>`${query}`.execute(context.db);
  const count = Number(result.rows[0]?.count ?? 0);
  if (cache.size >= ESTIMATE_CACHE_SIZE) {
    cache.clear();
  }
  cache.set(cacheKey, { count, expires: now + ESTIMATE_TTL_MS });
  return count;
}

/** Number of stored entities, cached like the estimates. */
function countAllEntities(context: QueryContext): Promise<number> {
  return cachedCount(context, 'total', sql`select count(*) as count from catalog_entities`);
}

function lower(value: string): string {
  return value.toLocaleLowerCase('en-US');
}

function valueList(values: readonly string[]): SqlCondition {
  return sql.join(values.map((value) => sql`${lower(value)}`));
}

/**
 * A set of candidate references: a subquery returning one column, and its
 * estimated size. A `direct` driver is a union of kind ranges of the primary
 * key, which the query can read in place without collecting it first.
 */
interface Driver {
  subquery: SqlCondition;
  estimate: number;
  direct: boolean;
}

/** Builds the subquery of the candidates of one search condition, read from its index. */
function leafSubquery(
  context: QueryContext,
  key: string,
  values: string[] | undefined,
): SqlCondition {
  if (values !== undefined && lower(key) === 'kind') {
    const column = context.bytewiseText ? sql`k.entity_ref` : sql`k.entity_ref collate "C"`;
    const ranges = [...new Set(values.map(lower))].map(
      (kind) => sql`(${column} >= ${`${kind}:`} and ${column} < ${`${kind};`})`,
    );
    return sql`select k.entity_ref from catalog_entities k where ${sql.join(ranges, sql` or `)}`;
  }

  const relationType = relationTypeOfKey(key);
  if (relationType !== undefined) {
    const targets = values === undefined ? SQL_TRUE : sql`dr.target_ref in (${valueList(values)})`;
    return sql`select dr.source_ref from catalog_relations dr where ${relationTypeCondition('dr', relationType)} and ${targets}`;
  }

  const matches = values === undefined ? SQL_TRUE : sql`ds.value in (${valueList(values)})`;
  return sql`select ds.entity_ref from catalog_search ds where ds.key = ${lower(key)} and ${matches}`;
}

/**
 * Finds the smallest candidate set the filter allows: for `allOf` the
 * smallest of its parts, for `anyOf` the union of all parts, none under `not`.
 */
async function findDriver(
  context: QueryContext,
  filter: EntityFilter,
): Promise<Driver | undefined> {
  if (isSearchFilter(filter)) {
    if (filter.values !== undefined && filter.values.length === 0) {
      return { subquery: sql`select null where 1 = 0`, estimate: 0, direct: false };
    }
    const subquery = leafSubquery(context, filter.key, filter.values);
    const estimate = await cachedCount(
      context,
      JSON.stringify(filter),
      sql`select count(*) as count from (${subquery} limit ${ESTIMATE_CAP}) capped`,
    );
    const direct = filter.values !== undefined && lower(filter.key) === 'kind';
    return { subquery, estimate, direct };
  }
  if ('not' in filter) {
    return undefined;
  }

  if ('allOf' in filter) {
    let best: Driver | undefined;
    for (const item of filter.allOf) {
      const driver = await findDriver(context, item);
      if (driver && (!best || driver.estimate < best.estimate)) {
        best = driver;
      }
    }
    return best;
  }

  const parts: Driver[] = [];
  for (const item of filter.anyOf) {
    const driver = await findDriver(context, item);
    if (!driver) {
      return undefined;
    }
    parts.push(driver);
  }
  if (parts.length === 0) {
    return { subquery: sql`select null where 1 = 0`, estimate: 0, direct: false };
  }
  return {
    subquery: sql.join(
      parts.map((part) => part.subquery),
      sql` union all `,
    ),
    estimate: parts.reduce((sum, part) => sum + part.estimate, 0),
    direct: parts.every((part) => part.direct),
  };
}

/** Decides whether collecting the candidates first is cheaper than walking in result order. */
function preferDriver(driver: Driver, total: number, goal: QueryGoal): boolean {
  if (goal === 'count' || goal === 'all') {
    return driver.estimate < total;
  }
  // A walk in result order meets about one match every total/estimate rows.
  const walkRows = (goal.rows * total) / Math.max(driver.estimate, 1);
  return driver.estimate * 2 < walkRows;
}

function buildPlan(
  context: QueryContext,
  filter: EntityFilter,
  fullText: FullTextFilter | undefined,
  driver: Driver | undefined,
): SelectionPlan {
  // A direct driver needs no IN list: its kind ranges in the filter are the access path.
  const collected = driver !== undefined && !driver.direct;
  return {
    driven: driver !== undefined,
    direct: driver?.direct ?? false,
    where(entityRef) {
      const parts: SqlCondition[] = [];
      if (collected) {
        parts.push(sql`${entityRef} in (${driver.subquery})`);
      }
      parts.push(
        compileEntityFilter(filter, entityRef, {
          strategy: 'exists',
          dialect: context.dialect,
          bytewiseText: context.bytewiseText,
          rangeWithoutIndex: collected,
        }),
      );
      if (fullText && fullText.fields.length > 0) {
        const pattern = `%${escapeLikePattern(fullText.term)}%`;
        parts.push(
          sql`exists (select 1 from catalog_search ft where ft.entity_ref = ${entityRef} and ft.key in (${sql.join(fullText.fields)}) and ft.value like ${pattern} escape '\\')`,
        );
      }
      return sql.join(parts, sql` and `);
    },
  };
}

/** Chooses how to find the selected entities and prepares the WHERE condition. */
export async function planSelection(
  context: QueryContext,
  selection: EntitySelection,
  goal: QueryGoal,
): Promise<SelectionPlan> {
  const filter = selection.filter ? normalizeFilter(selection.filter) : MATCH_ALL;
  const driver = await findDriver(context, filter);
  if (!driver) {
    return buildPlan(context, filter, selection.fullText, undefined);
  }

  const driven = buildPlan(context, filter, selection.fullText, driver);
  if (preferDriver(driver, await countAllEntities(context), goal)) {
    return driven;
  }
  return {
    ...buildPlan(context, filter, selection.fullText, undefined),
    drivenAlternative: driven,
  };
}

/**
 * Builds the WHERE condition for queries that already name their candidates
 * (by reference or uid), with every condition checked per row.
 */
export function checkSelection(
  context: QueryContext,
  selection: EntitySelection,
  entityRef: SqlCondition,
): SqlCondition {
  const filter = selection.filter ? normalizeFilter(selection.filter) : MATCH_ALL;
  return compileEntityFilter(filter, entityRef, {
    strategy: 'exists',
    dialect: context.dialect,
    bytewiseText: context.bytewiseText,
    rangeWithoutIndex: true,
  });
}
