import * as catalogModel from '@backstage/catalog-model';
import { type RawBuilder, sql } from 'kysely';
import type { DialectName } from '../../database/index.js';
import {
  type EntityFilter,
  type EntitySearchFilter,
  isSearchFilter,
  relationTypeOfKey,
} from './entity-filter.js';

export type SqlCondition = RawBuilder<unknown>;

/**
 * The entity a condition tests, as two SQL expressions: its integer id,
 * which search rows carry, and its lowercase reference, which kinds and
 * relations are matched on. Either may be a subquery that looks up one from
 * the other, which the database runs only where a condition uses it.
 */
export interface EntityColumns {
  id: SqlCondition;
  ref: SqlCondition;
  /** The lowercase kind, when a column at hand contains it. Without it, kinds are matched on `ref`. */
  kind?: SqlCondition | undefined;
}

/** Returns the columns of `catalog_entities` under `alias`. */
export function entityColumns(alias: string): EntityColumns {
  return { id: sql.ref(`${alias}.id`), ref: sql.ref(`${alias}.entity_ref`) };
}

/** Columns of an entity known by id, whose reference is looked up when a condition needs it. */
export function entityById(id: SqlCondition): EntityColumns {
  return { id, ref: sql`(select rx.entity_ref from catalog_entities rx where rx.id = ${id})` };
}

/** Columns of an entity known by reference, whose id is looked up when a condition needs it. */
export function entityByRef(ref: SqlCondition): EntityColumns {
  return { id: sql`(select ix.id from catalog_entities ix where ix.entity_ref = ${ref})`, ref };
}

export const SQL_TRUE: SqlCondition = sql`1 = 1`;
export const SQL_FALSE: SqlCondition = sql`1 = 0`;

/**
 * Form of a search condition in SQL. `in` tests the reference against a
 * subquery that the database can also drive the scan from, which suits a
 * selective condition. `exists` probes the indexes once per candidate row,
 * which suits an ordered scan that stops after one page.
 */
export type FilterStrategy = 'in' | 'exists';

export interface CompileOptions {
  strategy: FilterStrategy;
  dialect: DialectName;
  /** The database orders text byte by byte, so kind ranges need no collation of their own. */
  bytewiseText: boolean;
  /**
   * Keeps SQLite from choosing a kind condition's reference range as the
   * access path, when the query already names a better one.
   */
  rangeWithoutIndex?: boolean;
}

/**
 * Matches entities of the kinds through their reference, which starts with
 * the lowercase kind and a colon: a range of the reference index instead of a
 * search-table lookup. Under a linguistic collation the range is compared
 * with collation "C", which keeps it exact but leaves the index unused. When
 * `entity` has a kind column, the kinds are compared with it instead.
 */
export function kindCondition(
  kinds: readonly string[],
  entity: EntityColumns,
  options: CompileOptions,
): SqlCondition {
  if (kinds.length === 0) {
    return SQL_FALSE;
  }
  const unique = [...new Set(kinds.map(lower))];
  if (entity.kind !== undefined) {
    return sql`${entity.kind} in (${sql.join(unique)})`;
  }
  const entityRef = entity.ref;
  let column = entityRef;
  if (!options.bytewiseText) {
    column = sql`${entityRef} collate "C"`;
  } else if (options.dialect === 'sqlite' && options.rangeWithoutIndex) {
    column = sql`+${entityRef}`;
  }
  const ranges = unique.map(
    (kind) => sql`(${column} >= ${`${kind}:`} and ${column} < ${`${kind};`})`,
  );
  return ranges.length === 1 ? ranges[0]! : sql`(${sql.join(ranges, sql` or `)})`;
}

/** Relation types of Backstage's catalog model by their lowercase form, for case-free keys. */
const KNOWN_RELATION_TYPES = new Map<string, string>(
  Object.entries(catalogModel)
    .filter(([name, value]) => name.startsWith('RELATION_') && typeof value === 'string')
    .map(([, value]) => [(value as string).toLocaleLowerCase('en-US'), value as string]),
);

function lower(value: string): string {
  return value.toLocaleLowerCase('en-US');
}

function valueList(values: string[]): SqlCondition {
  return sql.join(values.map((value) => sql`${lower(value)}`));
}

/**
 * Matches the relation type column of the table aliased `alias` without case.
 * Known types compare as stored, so the index on `type` stays usable.
 */
export function relationTypeCondition(alias: string, relationType: string): SqlCondition {
  const lowerType = lower(relationType);
  const known = KNOWN_RELATION_TYPES.get(lowerType);
  const column = sql.ref(`${alias}.type`);
  return known === undefined ? sql`lower(${column}) = ${lowerType}` : sql`${column} = ${known}`;
}

function searchCondition(
  filter: EntitySearchFilter,
  entity: EntityColumns,
  options: CompileOptions,
): SqlCondition {
  const { key, values } = filter;
  if (values !== undefined && values.length === 0) {
    return SQL_FALSE;
  }
  if (values !== undefined && lower(key) === 'kind') {
    return kindCondition(values, entity, options);
  }
  const { strategy } = options;

  const relationType = relationTypeOfKey(key);
  if (relationType !== undefined) {
    const typeCondition = relationTypeCondition('fr', relationType);
    const targetCondition =
      values === undefined
        ? SQL_TRUE
        : values.length === 1
          ? sql`fr.target_ref = ${lower(values[0]!)}`
          : sql`fr.target_ref in (${valueList(values)})`;
    return strategy === 'in'
      ? sql`${entity.ref} in (select fr.source_ref from catalog_relations fr where ${typeCondition} and ${targetCondition})`
      : sql`exists (select 1 from catalog_relations fr where fr.source_ref = ${entity.ref} and ${typeCondition} and ${targetCondition})`;
  }

  const keyCondition = sql`fs.key = ${lower(key)}`;
  const valueCondition =
    values === undefined
      ? SQL_TRUE
      : values.length === 1
        ? sql`fs.value = ${lower(values[0]!)}`
        : sql`fs.value in (${valueList(values)})`;
  return strategy === 'in'
    ? sql`${entity.id} in (select fs.entity_id from catalog_search fs where ${keyCondition} and ${valueCondition})`
    : sql`exists (select 1 from catalog_search fs where fs.entity_id = ${entity.id} and ${keyCondition} and ${valueCondition})`;
}

/**
 * Turns a filter into a SQL condition on the entity that `entity` names
 * (such as entityColumns('e')). The subqueries use the aliases `fs`, `fr`,
 * `rx` and `ix`, so the outer query must not. An empty `allOf` is true and an
 * empty `anyOf` is false, as in Backstage's permission criteria.
 */
export function compileEntityFilter(
  filter: EntityFilter,
  entity: EntityColumns,
  options: CompileOptions,
): SqlCondition {
  if (isSearchFilter(filter)) {
    return searchCondition(filter, entity, options);
  }
  if ('not' in filter) {
    return sql`not (${compileEntityFilter(filter.not, entity, options)})`;
  }
  if ('allOf' in filter) {
    if (filter.allOf.length === 0) {
      return SQL_TRUE;
    }
    const parts = filter.allOf.map((item) => compileEntityFilter(item, entity, options));
    return sql`(${sql.join(parts, sql` and `)})`;
  }
  if (filter.anyOf.length === 0) {
    return SQL_FALSE;
  }
  const parts = filter.anyOf.map((item) => compileEntityFilter(item, entity, options));
  return sql`(${sql.join(parts, sql` or `)})`;
}

/** Escapes `%`, `_` and the escape character itself for a LIKE pattern with `escape '\'`. */
export function escapeLikePattern(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}
