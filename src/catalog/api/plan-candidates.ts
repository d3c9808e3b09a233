import { sql } from 'kysely';
import { type EntityFilter, isSearchFilter, relationTypeOfKey } from './entity-filter.js';
import {
  type CompileOptions,
  compileEntityFilter,
  relationTypeCondition,
  SQL_TRUE,
  type SqlCondition,
} from './filter-sql.js';
import { estimateRows } from './plan-estimates.js';
import type { QueryContext } from './query-plan.js';

/**
 * A subquery returning candidate references in one column named `ref`, and
 * its estimated number of rows.
 */
export interface Candidates {
  subquery: SqlCondition;
  /**
   * A cheaper subquery whose rows include every candidate, for counting: the
   * index range that drives `subquery`, without the checks per row.
   */
  countQuery: SqlCondition;
  /** Rows of the subquery, at most the cap it was counted with. */
  estimate: number;
  /** The estimate reached its cap, so the true number may be larger. */
  capped: boolean;
  /**
   * A union of kind ranges of the primary key, which a query can read in
   * place without collecting it first.
   */
  direct: boolean;
}

/**
 * A filter with the facts the planner needs: its estimated number of matching
 * entities and, when the filter has no `not` in the way, a subquery that
 * returns exactly those entities. Children of `allOf` are ordered with the
 * most selective first and children of `anyOf` with the least selective
 * first, so a check per row stops at the first condition that decides it.
 */
export interface FilterAnalysis {
  filter: EntityFilter;
  estimate: number;
  capped: boolean;
  candidates?: Candidates | undefined;
  /** For `allOf`: its children, analysed and ordered. */
  children?: FilterAnalysis[];
}

/**
 * Smallest cap of a count that only ranks the conditions of one branch of an
 * `anyOf`, once the earlier branches have used up the caller's cap.
 */
const MIN_RANK_CAP = 1_000;

/** Counter for the aliases of nested candidate subqueries (`c0`, `c1`, ...). */
export interface AliasCounter {
  next: number;
}

function lower(value: string): string {
  return value.toLocaleLowerCase('en-US');
}

function valueList(values: readonly string[]): SqlCondition {
  return sql.join(values.map((value) => sql`${lower(value)}`));
}

function compileOptions(context: QueryContext): CompileOptions {
  return {
    strategy: 'exists',
    dialect: context.dialect,
    bytewiseText: context.bytewiseText,
    rangeWithoutIndex: true,
  };
}

/** Builds the subquery of the entities that match one search condition, read from its index. */
function leafSubquery(
  context: QueryContext,
  key: string,
  values: string[] | undefined,
): SqlCondition {
  if (values !== undefined && values.length === 0) {
    return sql`select null as ref where 1 = 0`;
  }
  if (values !== undefined && lower(key) === 'kind') {
    const column = context.bytewiseText ? sql`k.entity_ref` : sql`k.entity_ref collate "C"`;
    const ranges = [...new Set(values.map(lower))].map(
      (kind) => sql`(${column} >= ${`${kind}:`} and ${column} < ${`${kind};`})`,
    );
    return sql`select k.entity_ref as ref from catalog_entities k where ${sql.join(ranges, sql` or `)}`;
  }

  const relationType = relationTypeOfKey(key);
  if (relationType !== undefined) {
    const targets = values === undefined ? SQL_TRUE : sql`dr.target_ref in (${valueList(values)})`;
    return sql`select dr.source_ref as ref from catalog_relations dr where ${relationTypeCondition('dr', relationType)} and ${targets}`;
  }

  const matches = values === undefined ? SQL_TRUE : sql`ds.value in (${valueList(values)})`;
  return sql`select ds.entity_ref as ref from catalog_search ds where ds.key = ${lower(key)} and ${matches}`;
}

/**
 * Analyses a normalized filter (see FilterAnalysis). Estimates are counted up
 * to `cap`: inside `allOf` a child is counted only up to the smallest count so
 * far, and inside `anyOf` only up to what is left of the cap, so the counts of
 * one request read a bounded number of index entries.
 */
export async function analyzeFilter(
  context: QueryContext,
  filter: EntityFilter,
  cap: number,
  aliases: AliasCounter,
): Promise<FilterAnalysis> {
  if (isSearchFilter(filter)) {
    const subquery = leafSubquery(context, filter.key, filter.values);
    const estimate =
      filter.values?.length === 0
        ? 0
        : await estimateRows(context, JSON.stringify(filter), subquery, cap);
    const direct = filter.values !== undefined && lower(filter.key) === 'kind';
    const capped = estimate >= cap;
    return {
      filter,
      estimate,
      capped,
      candidates: { subquery, countQuery: subquery, estimate, capped, direct },
    };
  }
  if ('not' in filter) {
    // Nothing is counted under `not`: it offers no candidates, and its check per row is one branch.
    return { filter, estimate: cap, capped: true };
  }
  if ('allOf' in filter) {
    return analyzeAllOf(context, filter.allOf, cap, aliases);
  }
  return analyzeAnyOf(context, filter.anyOf, cap, aliases);
}

async function analyzeAllOf(
  context: QueryContext,
  items: readonly EntityFilter[],
  cap: number,
  aliases: AliasCounter,
): Promise<FilterAnalysis> {
  const children: FilterAnalysis[] = [];
  let bound = cap;
  for (const item of items) {
    const child = await analyzeFilter(context, item, bound, aliases);
    children.push(child);
    if (child.candidates) {
      bound = Math.max(1, Math.min(bound, child.estimate));
    }
  }
  // Children with candidates first, smallest first, then by tieBreak.
  children.sort((a, b) => rank(a) - rank(b) || tieBreak(a.filter) - tieBreak(b.filter));

  const filter: EntityFilter = { allOf: children.map((child) => child.filter) };
  const [best, ...rest] = children;
  if (!best?.candidates) {
    return { filter, estimate: cap, capped: true, children };
  }

  const alias = `c${aliases.next++}`;
  const check = compileEntityFilter(
    { allOf: rest.map((child) => child.filter) },
    sql.ref(`${alias}.ref`),
    compileOptions(context),
  );
  const subquery = sql`select ${sql.ref(`${alias}.ref`)} as ref from (${best.candidates.subquery}) ${sql.raw(alias)} where ${check}`;
  const { estimate, capped, countQuery } = best.candidates;
  return {
    filter,
    estimate,
    capped,
    candidates: { subquery, countQuery, estimate, capped, direct: false },
    children,
  };
}

function rank(analysis: FilterAnalysis): number {
  return analysis.candidates ? analysis.estimate : Number.POSITIVE_INFINITY;
}

/**
 * Orders conditions whose counts both reached the cap, by how many entities
 * such a condition usually matches: a value before a kind range, a kind range
 * before the existence of a key, and the existence of a relation last (most
 * entities of a kind have its relations).
 */
function tieBreak(filter: EntityFilter): number {
  if (!isSearchFilter(filter)) {
    return 2;
  }
  if (filter.values !== undefined) {
    return lower(filter.key) === 'kind' ? 1 : 0;
  }
  return relationTypeOfKey(filter.key) === undefined ? 2 : 3;
}

async function analyzeAnyOf(
  context: QueryContext,
  items: readonly EntityFilter[],
  cap: number,
  aliases: AliasCounter,
): Promise<FilterAnalysis> {
  const children: FilterAnalysis[] = [];
  let sum = 0;
  for (const item of items) {
    const child = await analyzeFilter(context, item, Math.max(MIN_RANK_CAP, cap - sum), aliases);
    children.push(child);
    sum += child.estimate;
  }
  // The branch most likely to match first, so a check per row stops early.
  children.sort((a, b) => b.estimate - a.estimate);

  const filter: EntityFilter = { anyOf: children.map((child) => child.filter) };
  const estimate = Math.min(sum, cap);
  const capped = sum >= cap || children.some((child) => child.capped);
  if (children.length === 0) {
    const subquery = sql`select null as ref where 1 = 0`;
    return {
      filter,
      estimate: 0,
      capped: false,
      candidates: { subquery, countQuery: subquery, estimate: 0, capped: false, direct: false },
    };
  }
  const parts = children.map((child) => child.candidates);
  if (!parts.every((part): part is Candidates => part !== undefined)) {
    return { filter, estimate, capped };
  }
  const subquery = sql.join(
    parts.map((part) => part.subquery),
    sql` union all `,
  );
  const countQuery = sql.join(
    parts.map((part) => part.countQuery),
    sql` union all `,
  );
  const direct = parts.every((part) => part.direct);
  return {
    filter,
    estimate,
    capped,
    candidates: { subquery, countQuery, estimate, capped, direct },
  };
}
