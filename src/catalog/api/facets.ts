import type { Entity } from '@backstage/catalog-model';
import { sql } from 'kysely';
import { cachedAggregate } from './aggregate-cache.js';
import { relationTypeOfKey } from './entity-filter.js';
import { compareText } from './entity-queries.js';
import { entityById, entityByRef, entityColumns, relationTypeCondition } from './filter-sql.js';
import {
  type AnyKysely,
  type EntitySelection,
  planSelection,
  type QueryContext,
} from './query-plan.js';
import { buildSearchEntries } from './search-entries.js';

export interface FacetValue {
  value: string;
  count: number;
}

interface FacetRow {
  facet: string;
  value: string;
  count: number | string;
  /** Id of one entity with the value. */
  sample: number;
}

/**
 * Counts, for each facet (a search key such as `kind` or `spec.owner`), how
 * many selected entities have each value. The search table stores values in
 * lowercase, so each value is shown as written in one entity that has it.
 * `relations.<type>` facets count the targets of that relation type among the
 * selected entities' relations, whether or not the caller may read the
 * target, as the relations of those entities show them.
 */
export function countFacets(
  context: QueryContext,
  facets: readonly string[],
  selection: EntitySelection,
): Promise<Record<string, FacetValue[]>> {
  return cachedAggregate(context, JSON.stringify(['facets', facets, selection]), () =>
    computeFacets(context, facets, selection),
  );
}

async function computeFacets(
  context: QueryContext,
  facets: readonly string[],
  selection: EntitySelection,
): Promise<Record<string, FacetValue[]>> {
  const result: Record<string, FacetValue[]> = {};
  const searchFacets = new Map<string, string[]>();

  for (const facet of facets) {
    const relationType = relationTypeOfKey(facet);
    if (relationType !== undefined) {
      result[facet] = await countRelationFacet(context, relationType, selection);
      continue;
    }
    const key = facet.toLocaleLowerCase('en-US');
    searchFacets.set(key, [...(searchFacets.get(key) ?? []), facet]);
  }

  if (searchFacets.size > 0) {
    const rows = await countSearchFacets(context, [...searchFacets.keys()], selection);
    const display = await loadDisplayValues(context.db, rows);
    for (const [key, requested] of searchFacets) {
      const values = rows
        .filter((row) => row.facet === key)
        .map((row) => ({
          value: display.get(displayKey(row)) ?? row.value,
          count: Number(row.count),
        }))
        .sort((a, b) => compareText(a.value, b.value));
      for (const facet of requested) {
        result[facet] = values;
      }
    }
  }
  return result;
}

async function countSearchFacets(
  context: QueryContext,
  keys: readonly string[],
  selection: EntitySelection,
): Promise<FacetRow[]> {
  const plan = await planSelection(context, selection, 'all');
  // A driven plan starts from the candidate entities, and SQLite keeps that order of a
  // CROSS JOIN. Otherwise the index of the facet keys is read in group order.
  const source = plan.driven
    ? sql`catalog_entities e ${sql.raw(context.dialect === 'sqlite' ? 'cross join' : 'join')} catalog_search fc on fc.entity_id = e.id`
    : sql`catalog_search fc`;
  const where = plan.where(
    plan.driven
      ? entityColumns('e')
      : { ...entityById(sql.ref('fc.entity_id')), kind: sql.ref('fc.entity_kind') },
  );
  const result = await sql<FacetRow>`
    select fc.key as facet, fc.value as value, count(*) as count, min(fc.entity_id) as sample
    from ${source}
    where fc.key in (${sql.join(keys)}) and fc.value is not null and ${where}
    group by fc.key, fc.value
  `.execute(context.db);
  return result.rows;
}

async function countRelationFacet(
  context: QueryContext,
  relationType: string,
  selection: EntitySelection,
): Promise<FacetValue[]> {
  const plan = await planSelection(context, selection, 'all');
  const where = plan.where(entityByRef(sql.ref('rc.source_ref')));
  const result = await sql<{ value: string; count: number | string }>`
    select rc.target_ref as value, count(distinct rc.source_ref) as count
    from catalog_relations rc
    where ${relationTypeCondition('rc', relationType)} and ${where}
    group by rc.target_ref
    order by rc.target_ref
  `.execute(context.db);
  return result.rows.map((row) => ({ value: row.value, count: Number(row.count) }));
}

function displayKey(row: { facet: string; value: string }): string {
  return `${row.facet}\u0000${row.value}`;
}

/** Reads one entity per facet value and finds the value there as written. */
async function loadDisplayValues(
  db: AnyKysely,
  rows: readonly FacetRow[],
): Promise<Map<string, string>> {
  const wantedBySample = new Map<number, FacetRow[]>();
  for (const row of rows) {
    const sample = Number(row.sample);
    wantedBySample.set(sample, [...(wantedBySample.get(sample) ?? []), row]);
  }

  const display = new Map<string, string>();
  const samples = [...wantedBySample.keys()];
  for (let start = 0; start < samples.length; start += 500) {
    const chunk = samples.slice(start, start + 500);
    const result = await sql<{ id: number; body: string }>`
      select e.id as id, e.body as body from catalog_entities e
      where e.id in (${sql.join(chunk)})
    `.execute(db);

    for (const { id, body } of result.rows) {
      const entries = buildSearchEntries(JSON.parse(body) as Entity);
      for (const row of wantedBySample.get(Number(id)) ?? []) {
        const entry = entries.find((item) => item.key === row.facet && item.value === row.value);
        if (entry?.original) {
          display.set(displayKey(row), entry.original);
        }
      }
    }
  }
  return display;
}
