import { sql } from 'kysely';
import { type EntityFilter, isSearchFilter, relationTypeOfKey } from './entity-filter.js';
import {
  type CompileOptions,
  compileEntityFilter,
  type EntityColumns,
  entityById,
  entityByRef,
  relationTypeCondition,
  SQL_TRUE,
  type SqlCondition,
} from './filter-sql.js';
import { estimateRows } from './plan-estimates.js';
import type { QueryContext } from './query-plan.js';

/**
 * The column a candidate subquery returns: entity ids (`id`) or entity
 * references (`ref`), whichever its index holds.
 */
export type CandidateColumn = 'id' | 'ref';

/**
 * A subquery returning candidate entities in the one column named by
 * `column`, and its estimated number of rows.
 */
export interface Candidates {
  subquery: SqlCondition;
  column: CandidateColumn;
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
   * A union of kind ranges of the reference index, which a query can read in
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

/**
 * Builds the subquery of the entities that match one search condition, read
 * from its index: entity ids for kinds (the reference index holds the id)
 * and search rows, references for relations.
 */
function leafSubquery(
  context: QueryContext,
  key: string,
  values: string[] | undefined,
): { subquery: SqlCondition; column: CandidateColumn } {
  if (values !== undefined && values.length === 0) {
    return { subquery: NO_CANDIDATES, column: 'id' };
  }
  if (values !== undefined && lower(key) === 'kind') {
    const column = context.bytewiseText ? sql`k.entity_ref` : sql`k.entity_ref collate "C"`;
    const ranges = [...new Set(values.map(lower))].map(
      (kind) => sql`(${column} >= ${`${kind}:`} and ${column} < ${`${kind};`})`,
    );
    return {
      subquery: sql`select k.id as id from catalog_entities k where ${sql.join(ranges, sql` or `)}`,
      column: 'id',
    };
  }

  const relationType = relationTypeOfKey(key);
  if (relationType !== undefined) {
    const targets = values === undefined ? SQL_TRUE : sql`dr.target_ref in (${valueList(values)})`;
    return {
      subquery: sql`select dr.source_ref as ref from catalog_relations dr where ${relationTypeCondition('dr', relationType)} and ${targets}`,
      column: 'ref',
    };
  }

  const matches = values === undefined ? SQL_TRUE : sql`ds.value in (${valueList(values)})`;
  return {
    subquery: sql`select ds.entity_id as id from catalog_search ds where ds.key = ${lower(key)} and ${matches}`,
    column: 'id',
  };
}

/** A subquery with no rows, in the `id` column. */
const NO_CANDIDATES = sql`select cast(null as integer) as id where 1 = 0`;

/** Returns the columns of the entity that the candidate column of a subquery under `alias` names. */
function candidateEntity(alias: string, column: CandidateColumn): EntityColumns {
  const own = sql.ref(`${alias}.${column}`);
  return column === 'id' ? entityById(own) : entityByRef(own);
}

/** Turns candidates into the ids of the entities they name; references of no entity drop out. */
function candidateIds(candidates: Candidates): SqlCondition {
  if (candidates.column === 'id') {
    return candidates.subquery;
  }
  return sql`select cx.id as id from catalog_entities cx where cx.entity_ref in (${candidates.subquery})`;
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
    const { subquery, column } = leafSubquery(context, filter.key, filter.values);
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
      candidates: { subquery, column, countQuery: subquery, estimate, capped, direct },
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
  const { column, estimate, capped, countQuery } = best.candidates;
  const check = compileEntityFilter(
    { allOf: rest.map((child) => child.filter) },
    candidateEntity(alias, column),
    compileOptions(context),
  );
  const own = sql.ref(`${alias}.${column}`);
  const subquery = sql`select ${own} as ${sql.raw(column)} from (${best.candidates.subquery}) ${sql.raw(alias)} where ${check}`;
  return {
    filter,
    estimate,
    capped,
    candidates: { subquery, column, countQuery, estimate, capped, direct: false },
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
    const subquery = NO_CANDIDATES;
    return {
      filter,
      estimate: 0,
      capped: false,
      candidates: {
        subquery,
        column: 'id',
        countQuery: subquery,
        estimate: 0,
        capped: false,
        direct: false,
      },
    };
  }
  const parts = children.map((child) => child.candidates);
  if (!parts.every((part): part is Candidates => part !== undefined)) {
    return { filter, estimate, capped };
  }
  // Branches that return different columns are joined as entity ids.
  const column = parts.every((part) => part.column === 'ref') ? 'ref' : 'id';
  const subquery = sql.join(
    parts.map((part) => (column === 'ref' ? part.subquery : candidateIds(part))),
    sql` union all `,
  );
  // Each branch counts as rows of one constant, so branches over ids and
  // over references can be joined.
  const countQuery = sql.join(
    parts.map((part) => sql`select 1 as one from (${part.countQuery}) cq`),
    sql` union all `,
  );
  const direct = parts.every((part) => part.direct);
  return {
    filter,
    estimate,
    capped,
    candidates: { subquery, column, countQuery, estimate, capped, direct },
  };
}
