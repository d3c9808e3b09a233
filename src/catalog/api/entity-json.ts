import type { Entity } from '@backstage/catalog-model';
import type { EntityRow, RelationItem } from './entity-queries.js';
import { pickFields } from './fields.js';

/**
 * Writes an entity as the API returns it: the stored body with `relations`
 * added, pruned to `fields` when given. Without fields the stored JSON text is
 * reused as it is, which keeps large pages cheap.
 */
export function renderEntityJson(
  row: EntityRow,
  relations: readonly RelationItem[] | undefined,
  fields: readonly string[] | undefined,
): string {
  if (!fields) {
    const end = row.body.lastIndexOf('}');
    return `${row.body.slice(0, end)},"relations":${JSON.stringify(relations ?? [])}}`;
  }
  return JSON.stringify(pickFields(parseEntity(row, relations), fields));
}

/** Parses a stored entity and adds its relations, for checks that need the object. */
export function parseEntity(
  row: EntityRow,
  relations: readonly RelationItem[] | undefined,
): Entity & Record<string, unknown> {
  const entity = JSON.parse(row.body) as Entity & Record<string, unknown>;
  entity.relations = [...(relations ?? [])];
  return entity;
}

/** Joins rendered JSON values into a JSON array. */
export function jsonArray(items: readonly string[]): string {
  return `[${items.join(',')}]`;
}
