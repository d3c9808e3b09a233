import { sql } from 'kysely';
import type { CursorPosition } from './cursor.js';
import { entityColumns, type SqlCondition } from './filter-sql.js';
import { countAllEntities } from './plan-estimates.js';
import type { OrderField } from './query-params.js';
import {
  type EntitySelection,
  planSelection,
  type QueryContext,
  type SelectionPlan,
} from './query-plan.js';

/** A row of a by-query page: the entity and its sort value (null when it has none). */
export interface PageRow {
  ref: string;
  id: number;
  body: string;
  value: string | null;
}

export interface PageRequest {
  selection: EntitySelection;
  /** The sort field; without one, entities are in reference order. */
  sort?: OrderField | undefined;
  /** The row next to the page: the page starts after it, or ends before it when `backward`. */
  position?: CursorPosition | undefined;
  backward: boolean;
  /** Rows to skip first; only for a forward page without a position. */
  offset?: number | undefined;
  /** Rows to return at most. */
  count: number;
  /** Index rows a walk reads before it changes plan; tests set it small to reach every path. */
  walkWindow?: number | undefined;
}

/**
 * A page scans its rows in one or two segments, each one ordered index range.
 * With a sort field, the entities that have a value for it come first (in
 * value order, then in the order of their ids), then those without one (in
 * reference order), so missing values are last in both directions, as in
 * Backstage. Backstage also orders equal values by its internal entity id.
 * An entity with several values for the field sorts by its smallest one.
 */
type Segment = 'valued' | 'unvalued' | 'all';

/**
 * Fields every stored entity has with a short value (a name has at most 63
 * characters), so no entity falls in the segment without a value.
 */
const ALWAYS_VALUED = new Set([
  'kind',
  'apiversion',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
]);

/**
 * Index rows a walk reads for the cost of collecting and sorting one
 * candidate, when the walk checks kinds only and when it looks rows up.
 * NOTE: estimated on SQLite with 100,000 generated entities, where a
 * candidate cost 2 to 3 µs and an index row 0.1 µs with a kind check and 1 to
 * 2 µs with a lookup. The ratio differs by filter and database.
 */
const KIND_CHECKS_PER_CANDIDATE = 20;
const LOOKUPS_PER_CANDIDATE = 2;

/**
 * Index rows of the first window of a walk in result order. The window fills
 * a page when at least one row in 20 matches, and reading it costs a few
 * milliseconds on SQLite when fewer do.
 */
function walkWindow(rows: number): number {
  return 1000 + 20 * rows;
}

/** Fetches one page of a by-query listing, in display order. */
export async function fetchQueryPage(
  context: QueryContext,
  request: PageRequest,
): Promise<PageRow[]> {
  const { sort, position, backward } = request;
  const plan = await planSelection(context, request.selection, {
    rows: request.count + (request.offset ?? 0),
  });

  let segments: Segment[] = ['all'];
  if (sort) {
    segments = ALWAYS_VALUED.has(sort.field) ? ['valued'] : ['valued', 'unvalued'];
  }

  // The segment holding the position comes first; the scan then moves away from it.
  let order = backward ? [...segments].reverse() : segments;
  if (position && sort) {
    const current: Segment = position.value === null ? 'unvalued' : 'valued';
    order = order.includes(current) ? order.slice(order.indexOf(current)) : [];
  }

  const rows: PageRow[] = [];
  let offset = request.offset ?? 0;
  for (const segment of order) {
    const wanted = request.count - rows.length;
    if (wanted <= 0) {
      break;
    }

    const bound = position && segmentOf(position, sort) === segment ? position : undefined;
    const scan: SegmentScan = { context, request, segment };
    // Kind ranges are read in reference order anyway, so the segments in
    // reference order need no walk.
    const segmentPlan =
      segment !== 'valued' && plan.drivenAlternative?.direct ? plan.drivenAlternative : plan;
    const found =
      offset > 0 || segmentPlan.driven
        ? await fetchSegment(scan, segmentPlan, bound, undefined, wanted, offset)
        : await walkSegment(scan, segmentPlan, bound, wanted);
    rows.push(...found);

    if (offset > 0) {
      // Rows skipped in this segment no longer count against the next one.
      offset = found.length > 0 ? 0 : Math.max(0, offset - (await countSegment(scan, segmentPlan)));
    }
  }
  return backward ? rows.reverse() : rows;
}

interface SegmentScan {
  context: QueryContext;
  request: PageRequest;
  segment: Segment;
}

/**
 * Walks a segment in result order, first through one window of index rows.
 * When the window ends before the page is full, nextWalkStep decides how the
 * walk goes on. It reads on to the end of the page in one query, reads
 * windows twice as large each time, or hands the rest of the page to the
 * driven plan, whose cost follows the number of candidates however rare the
 * matches are in result order.
 */
async function walkSegment(
  scan: SegmentScan,
  plan: SelectionPlan,
  bound: CursorPosition | undefined,
  limit: number,
): Promise<PageRow[]> {
  const rows: PageRow[] = [];
  let from = bound;
  let size = scan.request.walkWindow ?? walkWindow(limit);
  let walked = 0;
  for (;;) {
    const edge = await windowEdge(scan, from, size);
    rows.push(...(await fetchSegment(scan, plan, from, edge, limit - rows.length, 0)));
    if (rows.length >= limit || edge === undefined) {
      return rows;
    }
    walked += size;

    const step = await nextWalkStep(scan.context, plan, walked);
    if (step === 'window') {
      from = edge;
      size *= 2;
      continue;
    }
    const restPlan = step === 'collect' ? plan.drivenAlternative! : plan;
    const rest = await fetchSegment(scan, restPlan, edge, undefined, limit - rows.length, 0);
    return [...rows, ...rest];
  }
}

/**
 * Chooses how a walk goes on after `walked` index rows without filling its
 * page. Without a driven plan it walks to the end of the page. A walk that
 * checks kinds only tests each row inside the index, so it walks to the end
 * when reading an index row for every entity costs less than collecting the
 * candidates, and collects them otherwise. Any other walk reads windows until
 * it has cost as much as collecting the candidates, and then collects them,
 * so it costs at most about twice the cheaper of the two.
 */
async function nextWalkStep(
  context: QueryContext,
  plan: SelectionPlan,
  walked: number,
): Promise<'walk' | 'window' | 'collect'> {
  const driven = plan.drivenAlternative;
  if (!driven) {
    return 'walk';
  }
  if (plan.checksKindsOnly) {
    const total = await countAllEntities(context);
    return (await candidatesExceed(driven, total / KIND_CHECKS_PER_CANDIDATE)) ? 'walk' : 'collect';
  }
  return (await candidatesExceed(driven, walked / LOOKUPS_PER_CANDIDATE)) ? 'window' : 'collect';
}

/**
 * Returns true when the driven plan collects more than `count` candidates.
 * An estimate that stopped at its cap below `count` is counted again further.
 */
async function candidatesExceed(driven: SelectionPlan, count: number): Promise<boolean> {
  const candidates = driven.candidates;
  if (!candidates) {
    return false;
  }
  if (candidates.estimate > count) {
    return true;
  }
  if (!candidates.capped) {
    return false;
  }
  return (await candidates.countUpTo(Math.floor(count) + 1)) > count;
}

function segmentOf(position: CursorPosition, sort: OrderField | undefined): Segment {
  if (!sort) {
    return 'all';
  }
  return position.value === null ? 'unvalued' : 'valued';
}

/** Picks the comparisons and the direction of a scan in display order or against it. */
function scanDirection(request: PageRequest): {
  after: SqlCondition;
  upTo: SqlCondition;
  direction: SqlCondition;
} {
  const ascending = (request.sort?.order ?? 'asc') === 'asc';
  const forwardScan = ascending !== request.backward;
  return {
    after: sql.raw(forwardScan ? '>' : '<'),
    upTo: sql.raw(forwardScan ? '<=' : '>='),
    direction: sql.raw(forwardScan ? 'asc' : 'desc'),
  };
}

/**
 * Finds the position of the last index row of a window of `size` rows after
 * `from`; undefined when fewer rows are left in the segment.
 */
async function windowEdge(
  scan: SegmentScan,
  from: CursorPosition | undefined,
  size: number,
): Promise<CursorPosition | undefined> {
  const { after, direction } = scanDirection(scan.request);
  if (scan.segment === 'valued') {
    const start = from
      ? sql`and (w.value, w.entity_id) ${after} (${from.value}, ${from.id})`
      : sql``;
    // Only the edge row is joined to its entity, for the reference.
    const result = await sql<CursorPosition>`
      select p.value as value, p.id as id, e.entity_ref as ref
      from (
        select w.value as value, w.entity_id as id from catalog_search w
        where w.key = ${scan.request.sort!.field} and w.value is not null ${start}
        order by w.value ${direction}, w.entity_id ${direction}
        limit 1 offset ${size - 1}
      ) p join catalog_entities e on e.id = p.id
    `.execute(scan.context.db);
    const row = result.rows[0];
    return row ? { value: row.value, ref: row.ref, id: Number(row.id) } : undefined;
  }

  const start = from ? sql`where w.entity_ref ${after} ${from.ref}` : sql``;
  const result = await sql<{ ref: string; id: number }>`
    select w.entity_ref as ref, w.id as id from catalog_entities w ${start}
    order by w.entity_ref ${direction}
    limit 1 offset ${size - 1}
  `.execute(scan.context.db);
  const row = result.rows[0];
  return row ? { value: null, ref: row.ref, id: Number(row.id) } : undefined;
}

/**
 * Builds the FROM clause of the valued segment. A driven plan starts from the
 * candidate entities, and a walk in result order starts from the sort field's
 * index. SQLite keeps the join order of a CROSS JOIN, so it cannot pick the
 * other order. PostgreSQL chooses by its statistics.
 */
function valuedSource(context: QueryContext, plan: SelectionPlan): SqlCondition {
  const join = sql.raw(context.dialect === 'sqlite' ? 'cross join' : 'join');
  return plan.driven
    ? sql`catalog_entities e ${join} catalog_search o on o.entity_id = e.id`
    : sql`catalog_search o ${join} catalog_entities e on e.id = o.entity_id`;
}

/**
 * Builds the filter of the valued segment. A walk checks kinds on the sort
 * field's index row, so both databases test them inside the index scan and
 * join an entity only when its row matches. Relation conditions need the
 * joined entity's reference.
 */
function valuedWhere(plan: SelectionPlan): SqlCondition {
  return plan.driven
    ? plan.where(entityColumns('e'))
    : plan.where(
        {
          id: sql.ref('o.entity_id'),
          ref: sql.ref('e.entity_ref'),
          kind: sql.ref('o.entity_kind'),
        },
        true,
      );
}

/** Rows of a segment after `bound` and up to `edge` (inclusive), in scan order. */
async function fetchSegment(
  scan: SegmentScan,
  plan: SelectionPlan,
  bound: CursorPosition | undefined,
  edge: CursorPosition | undefined,
  limit: number,
  offset: number,
): Promise<PageRow[]> {
  const { context, request, segment } = scan;
  const { after, upTo, direction } = scanDirection(request);
  const skip = offset > 0 ? sql`offset ${offset}` : sql``;

  if (segment === 'valued') {
    const field = request.sort!.field;
    const start = bound
      ? sql`and (o.value, o.entity_id) ${after} (${bound.value}, ${bound.id})`
      : sql``;
    // The bound on o.value alone repeats the row comparison, because SQLite
    // stops a descending index scan only at a bound on a single column.
    const end = edge
      ? sql`and (o.value, o.entity_id) ${upTo} (${edge.value}, ${edge.id}) and o.value ${upTo} ${edge.value}`
      : sql``;
    const result = await sql<PageRow>`
      select e.entity_ref as ref, e.id as id, e.body as body, o.value as value
      from ${valuedSource(context, plan)}
      where o.key = ${field} and o.value is not null
        and ${smallestValueOnly(field)}
        and ${valuedWhere(plan)}
        ${start} ${end}
      order by o.value ${direction}, o.entity_id ${direction}
      limit ${limit} ${skip}
    `.execute(context.db);
    return result.rows.map((row) => ({ ...row, id: Number(row.id) }));
  }

  const start = bound ? sql`and e.entity_ref ${after} ${bound.ref}` : sql``;
  const end = edge ? sql`and e.entity_ref ${upTo} ${edge.ref}` : sql``;
  const result = await sql<{ ref: string; id: number; body: string }>`
    select e.entity_ref as ref, e.id as id, e.body as body
    from catalog_entities e
    where ${plan.where(entityColumns('e'))}
      ${segment === 'unvalued' ? withoutValue(request.sort!.field) : sql``}
      ${start} ${end}
    order by e.entity_ref ${direction}
    limit ${limit} ${skip}
  `.execute(context.db);
  return result.rows.map((row) => ({ ...row, id: Number(row.id), value: null }));
}

/**
 * Keeps only the search row with the entity's smallest value for the field.
 * It names the entity through `e`, so a walk runs it only once the joined
 * entity has passed the cheaper checks.
 */
function smallestValueOnly(field: string): SqlCondition {
  return sql`not exists (select 1 from catalog_search x where x.entity_id = e.id and x.key = ${field} and x.value < o.value)`;
}

function withoutValue(field: string): SqlCondition {
  return sql`and not exists (select 1 from catalog_search x where x.entity_id = e.id and x.key = ${field} and x.value is not null)`;
}

/** Counts the rows of a whole segment; needed only when an offset skips past it. */
async function countSegment(scan: SegmentScan, plan: SelectionPlan): Promise<number> {
  const { context, request, segment } = scan;
  const field = request.sort?.field;
  const query =
    segment === 'valued'
      ? sql<{ count: number | string }>`
          select count(*) as count from ${valuedSource(context, plan)}
          where o.key = ${field} and o.value is not null and ${smallestValueOnly(field!)}
            and ${valuedWhere(plan)}`
      : sql<{ count: number | string }>`
          select count(*) as count from catalog_entities e
          where ${plan.where(entityColumns('e'))}
            ${segment === 'unvalued' ? withoutValue(field!) : sql``}`;
  const result = await query.execute(context.db);
  return Number(result.rows[0]?.count ?? 0);
}
