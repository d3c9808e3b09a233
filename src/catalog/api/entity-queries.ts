import { sql } from 'kysely';
import { cachedAggregate } from './aggregate-cache.js';
import { entityColumns, type SqlCondition } from './filter-sql.js';
import type { OrderField } from './query-params.js';
import {
  checkSelection,
  type EntitySelection,
  planSelection,
  type QueryContext,
} from './query-plan.js';

/** One stored entity: its lowercase reference and its body as JSON text, without relations. */
export interface EntityRow {
  ref: string;
  body: string;
}

export interface RelationItem {
  type: string;
  targetRef: string;
}

/** Rows per IN list when loading by reference. */
const CHUNK = 500;
/** Entities per relation query: a whole page of the largest size. */
const RELATION_CHUNK = 1_000;

const ENTITY = entityColumns('e');

/** Finds one entity by reference or uid among the selected ones. */
export async function findEntity(
  context: QueryContext,
  by: { ref: string } | { uid: string },
  selection: EntitySelection,
): Promise<EntityRow | undefined> {
  const match = 'ref' in by ? sql`e.entity_ref = ${by.ref}` : sql`e.uid = ${by.uid}`;
  const result = await sql<EntityRow>`
    select e.entity_ref as ref, e.body as body
    from catalog_entities e
    where ${match} and ${checkSelection(context, selection, ENTITY)}
  `.execute(context.db);
  return result.rows[0];
}

/** Loads the selected entities among the references, by reference. */
export async function findEntitiesByRefs(
  context: QueryContext,
  refs: readonly string[],
  selection: EntitySelection,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const unique = [...new Set(refs)];
  const check = checkSelection(context, selection, ENTITY);

  for (let start = 0; start < unique.length; start += CHUNK) {
    const chunk = unique.slice(start, start + CHUNK);
    const result = await sql<EntityRow>`
      select e.entity_ref as ref, e.body as body
      from catalog_entities e
      where e.entity_ref in (${sql.join(chunk)}) and ${check}
    `.execute(context.db);
    for (const row of result.rows) {
      found.set(row.ref, row.body);
    }
  }
  return found;
}

/**
 * Builds the sort keys of GET /entities: per field the smallest value, so an
 * entity with several values (tags) appears once, and entities without one last.
 */
function orderTerms(order: readonly OrderField[]): SqlCondition {
  const terms = order.map(
    ({ field, order: direction }) =>
      sql`(select min(x.value) from catalog_search x where x.entity_id = e.id and x.key = ${field}) ${sql.raw(direction)} nulls last`,
  );
  terms.push(sql`e.entity_ref asc`);
  return sql.join(terms);
}

/**
 * Lists the references of the selected entities in order, for GET /entities.
 * Without a limit every reference is returned and the offset is applied here,
 * because SQLite accepts OFFSET only after a LIMIT.
 */
export async function listEntityRefs(
  context: QueryContext,
  selection: EntitySelection,
  options: {
    order: readonly OrderField[];
    limit?: number | undefined;
    offset?: number | undefined;
  },
): Promise<string[]> {
  const { limit, offset = 0 } = options;
  const plan = await planSelection(
    context,
    selection,
    limit === undefined || options.order.length > 0 ? 'all' : { rows: offset + limit },
  );
  const pagination = limit === undefined ? sql`` : sql`limit ${limit} offset ${offset}`;

  const result = await sql<{ ref: string }>`
    select e.entity_ref as ref
    from catalog_entities e
    where ${plan.where(ENTITY)}
    order by ${orderTerms(options.order)}
    ${pagination}
  `.execute(context.db);

  const refs = result.rows.map((row) => row.ref);
  return limit === undefined && offset > 0 ? refs.slice(offset) : refs;
}

/**
 * Loads the bodies of listed entities by reference, keeping the order of
 * `refs`. The selection is checked again, so an entity is left out when a
 * refresh has removed it since it was listed, or changed it so that it no
 * longer matches or is no longer readable.
 */
export async function loadBodies(
  context: QueryContext,
  refs: readonly string[],
  selection: EntitySelection,
): Promise<EntityRow[]> {
  const bodies = new Map<string, string>();
  const check = checkSelection(context, selection, ENTITY);
  for (let start = 0; start < refs.length; start += CHUNK) {
    const chunk = refs.slice(start, start + CHUNK);
    const result = await sql<EntityRow>`
      select e.entity_ref as ref, e.body as body
      from catalog_entities e
      where e.entity_ref in (${sql.join(chunk)}) and ${check}
    `.execute(context.db);
    for (const row of result.rows) {
      bodies.set(row.ref, row.body);
    }
  }
  return refs.flatMap((ref) => {
    const body = bodies.get(ref);
    return body === undefined ? [] : [{ ref, body }];
  });
}

/** Counts the selected entities, once per catalog version. */
export function countEntities(context: QueryContext, selection: EntitySelection): Promise<number> {
  return cachedAggregate(context, JSON.stringify(['count', selection]), async () => {
    const plan = await planSelection(context, selection, 'count');
    const result = await sql<{ count: number | string }>`
      select count(*) as count from catalog_entities e where ${plan.where(ENTITY)}
    `.execute(context.db);
    return Number(result.rows[0]?.count ?? 0);
  });
}

/**
 * Loads the outgoing relations of the entities (rows whose source is the
 * entity), without duplicates, sorted by type and then target. Targets the
 * caller may not read stay as references, as in Backstage, whose permission
 * filter selects entities and leaves their relations as stored. One query
 * reads up to RELATION_CHUNK entities, so a page is one query.
 */
export async function loadRelations(
  context: QueryContext,
  refs: readonly string[],
): Promise<Map<string, RelationItem[]>> {
  const byRef = new Map<string, RelationItem[]>();
  const unique = [...new Set(refs)];

  for (let start = 0; start < unique.length; start += RELATION_CHUNK) {
    const chunk = unique.slice(start, start + RELATION_CHUNK);
    const result = await sql<{ source_ref: string; type: string; target_ref: string }>`
      select distinct r.source_ref, r.type, r.target_ref
      from catalog_relations r
      where r.source_ref in (${sql.join(chunk)})
    `.execute(context.db);
    for (const row of result.rows) {
      const list = byRef.get(row.source_ref) ?? [];
      list.push({ type: row.type, targetRef: row.target_ref });
      byRef.set(row.source_ref, list);
    }
  }

  for (const list of byRef.values()) {
    list.sort((a, b) =>
      a.type === b.type ? compareText(a.targetRef, b.targetRef) : compareText(a.type, b.type),
    );
  }
  return byRef;
}

export function compareText(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  return a < b ? -1 : 1;
}
