import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../../database/index.js';
import { type EntityFilter, isSearchFilter } from './entity-filter.js';
import { MATCH_ALL, normalizeFilter } from './filter-normalize.js';
import {
  type CompileOptions,
  compileEntityFilter,
  type EntityColumns,
  escapeLikePattern,
  type SqlCondition,
} from './filter-sql.js';
import { analyzeFilter, type Candidates, type FilterAnalysis } from './plan-candidates.js';
import { countAllEntities, ESTIMATE_CAP, estimateRows } from './plan-estimates.js';

// biome-ignore lint/suspicious/noExplicitAny: queries are raw SQL over the catalog tables.
export type AnyKysely = Kysely<any>;

/** The database and its dialect, which decides a few SQL spellings. */
export interface QueryContext {
  db: AnyKysely;
  dialect: DialectName;
  /**
   * True when the database orders text byte by byte (SQLite, PostgreSQL with
   * the C collation), so a kind's reference range can use the reference index.
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
 * Access path of a query. A `driven` plan first collects the matching
 * references of the most selective part of the filter from its indexes, and
 * checks the rest per candidate. Otherwise the query walks an index in result
 * order and checks every condition per row until the page is full.
 */
export interface SelectionPlan {
  driven: boolean;
  /** Driven by kind ranges of the reference index, which are already in reference order. */
  direct: boolean;
  /**
   * The WHERE condition on the entity that `entity` names. With
   * `rangeWithoutIndex`, SQLite may not read a kind condition's reference
   * range as the access path, because the query walks another index.
   */
  where(entity: EntityColumns, rangeWithoutIndex?: boolean): SqlCondition;
  /**
   * The driven plan for the same selection, when this plan walks in result
   * order but the filter offers candidates: the fallback for a walk that
   * finds matches too rarely.
   */
  drivenAlternative?: SelectionPlan;
  /** Number of candidates that a driven plan collects, which its cost follows. */
  candidates?: CandidateCount;
  /**
   * The check per row tests kinds only, which the entity reference shows, so
   * a walk tests it inside the index scan without a lookup.
   */
  checksKindsOnly: boolean;
}

export interface CandidateCount {
  estimate: number;
  /** The estimate stopped at the cap of its count, so the true number may be larger. */
  capped: boolean;
  /** Counts the candidates up to `cap`, as estimateRows does. */
  countUpTo(cap: number): Promise<number>;
}

/**
 * Cap of the counts that rank conditions against each other: an eighth of
 * the catalog, so ranking a request's conditions stays cheap, within bounds
 * that keep small catalogs exact and large ones affordable.
 */
function rankingCap(total: number): number {
  return Math.min(ESTIMATE_CAP, Math.max(2_000, Math.ceil(total / 8)));
}

/** Decides whether collecting the candidates first is cheaper than walking in result order. */
function preferDriver(estimate: number, total: number, goal: QueryGoal): boolean {
  if (goal === 'count' || goal === 'all') {
    return estimate < total;
  }
  // A walk in result order meets about one match every total/estimate rows.
  const walkRows = (goal.rows * total) / Math.max(estimate, 1);
  return estimate * 2 < walkRows;
}

/** The largest estimate at which preferDriver still chooses the driver. */
function driverThreshold(total: number, goal: QueryGoal): number {
  if (goal === 'count' || goal === 'all') {
    return total;
  }
  return Math.sqrt((goal.rows * total) / 2);
}

function compileOptions(context: QueryContext, rangeWithoutIndex: boolean): CompileOptions {
  return {
    strategy: 'exists',
    dialect: context.dialect,
    bytewiseText: context.bytewiseText,
    rangeWithoutIndex,
  };
}

function fullTextCondition(entity: EntityColumns, fullText: FullTextFilter): SqlCondition {
  const pattern = `%${escapeLikePattern(fullText.term)}%`;
  return sql`exists (select 1 from catalog_search ft where ft.entity_id = ${entity.id} and ft.key in (${sql.join(fullText.fields)}) and ft.value like ${pattern} escape '\\')`;
}

/**
 * Builds the WHERE condition of a plan: with `candidates`, the reference must
 * be among them and `residual` (the part of the filter they do not cover) is
 * checked per row; without, the whole filter is checked per row.
 */
function buildPlan(
  context: QueryContext,
  filter: EntityFilter,
  fullText: FullTextFilter | undefined,
  driver: { candidates: Candidates; residual: EntityFilter } | undefined,
  candidates?: CandidateCount,
): SelectionPlan {
  // A direct driver needs no IN list: its kind ranges in the filter are the access path.
  const collected = driver !== undefined && !driver.candidates.direct;
  const checked = collected ? driver.residual : filter;
  return {
    driven: driver !== undefined,
    direct: driver?.candidates.direct ?? false,
    ...(candidates ? { candidates } : {}),
    checksKindsOnly: fullText === undefined && testsKindsOnly(checked),
    where(entity, rangeWithoutIndex = false) {
      const parts: SqlCondition[] = [];
      if (collected) {
        const { column, subquery } = driver.candidates;
        parts.push(sql`${entity[column]} in (${subquery})`);
      }
      parts.push(
        compileEntityFilter(
          checked,
          entity,
          compileOptions(context, collected || rangeWithoutIndex),
        ),
      );
      if (fullText && fullText.fields.length > 0) {
        parts.push(fullTextCondition(entity, fullText));
      }
      return sql.join(parts, sql` and `);
    },
  };
}

function testsKindsOnly(filter: EntityFilter): boolean {
  if (isSearchFilter(filter)) {
    return filter.key.toLocaleLowerCase('en-US') === 'kind' && filter.values !== undefined;
  }
  if ('not' in filter) {
    return testsKindsOnly(filter.not);
  }
  return ('allOf' in filter ? filter.allOf : filter.anyOf).every(testsKindsOnly);
}

/**
 * Picks the candidates that drive a plan: those of the most selective child
 * of a top-level `allOf`, with its other children left to check per row, or
 * those of the whole filter.
 */
function rootDriver(
  analysis: FilterAnalysis,
): { candidates: Candidates; residual: EntityFilter } | undefined {
  const [best, ...rest] = analysis.children ?? [];
  if (best?.candidates) {
    return {
      candidates: best.candidates,
      residual: rest.length === 1 ? rest[0]!.filter : { allOf: rest.map((item) => item.filter) },
    };
  }
  if (analysis.candidates) {
    return { candidates: analysis.candidates, residual: MATCH_ALL };
  }
  return undefined;
}

/** Chooses how to find the selected entities and prepares the WHERE condition. */
export async function planSelection(
  context: QueryContext,
  selection: EntitySelection,
  goal: QueryGoal,
): Promise<SelectionPlan> {
  const normalized = selection.filter ? normalizeFilter(selection.filter) : MATCH_ALL;
  const total = await countAllEntities(context);
  const analysis = await analyzeFilter(context, normalized, rankingCap(total), { next: 0 });
  const filter = analysis.filter;
  const driver = rootDriver(analysis);
  if (!driver) {
    return buildPlan(context, filter, selection.fullText, undefined);
  }

  // Counts the index rows that drive these candidates, an upper bound of their number.
  const countUpTo = (cap: number) =>
    estimateRows(
      context,
      `refine:${JSON.stringify(normalized)}`,
      driver.candidates.countQuery,
      Math.min(ESTIMATE_CAP, cap),
    );
  let { estimate, capped } = driver.candidates;
  const threshold = driverThreshold(total, goal);
  if (capped && estimate < threshold) {
    // Ranking stopped counting early, so count far enough to decide.
    const cap = Math.min(ESTIMATE_CAP, Math.ceil(threshold) + 1);
    estimate = await countUpTo(cap);
    capped = estimate >= cap;
  }

  const driven = buildPlan(context, filter, selection.fullText, driver, {
    estimate,
    capped,
    countUpTo,
  });
  if (preferDriver(estimate, total, goal)) {
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
  entity: EntityColumns,
): SqlCondition {
  const filter = selection.filter ? normalizeFilter(selection.filter) : MATCH_ALL;
  return compileEntityFilter(filter, entity, compileOptions(context, true));
}
