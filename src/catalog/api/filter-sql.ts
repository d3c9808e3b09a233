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
 * the lowercase kind and a colon: a range of the primary key instead of a
 * search-table lookup. Under a linguistic collation the range is compared
 * with collation "C", which keeps it exact but leaves the index unused.
 */
export function kindCondition(
  kinds: readonly string[],
  entityRef: SqlCondition,
  options: CompileOptions,
): SqlCondition {
  if (kinds.length === 0) {
    return SQL_FALSE;
  }
  let column = entityRef;
  if (!options.bytewiseText) {
    column = sql`${entityRef} collate "C"`;
  } else if (options.dialect === 'sqlite' && options.rangeWithoutIndex) {
    column = sql`+${entityRef}`;
  }
  const ranges = [...new Set(kinds.map(lower))].map(
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
  entityRef: SqlCondition,
  options: CompileOptions,
): SqlCondition {
  const { key, values } = filter;
  if (values !== undefined && values.length === 0) {
    return SQL_FALSE;
  }
  if (values !== undefined && lower(key) === 'kind') {
    return kindCondition(values, entityRef, options);
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
      ? sql`${entityRef} in (select fr.source_ref from catalog_relations fr where ${typeCondition} and ${targetCondition})`
      : sql`exists (select 1 from catalog_relations fr where fr.source_ref = ${entityRef} and ${typeCondition} and ${targetCondition})`;
  }

  const keyCondition = sql`fs.key = ${lower(key)}`;
  const valueCondition =
    values === undefined
      ? SQL_TRUE
      : values.length === 1
        ? sql`fs.value = ${lower(values[0]!)}`
        : sql`fs.value in (${valueList(values)})`;
  return strategy === 'in'
    ? sql`${entityRef} in (select fs.entity_ref from catalog_search fs where ${keyCondition} and ${valueCondition})`
    : sql`exists (select 1 from catalog_search fs where fs.entity_ref = ${entityRef} and ${keyCondition} and ${valueCondition})`;
}

/**
 * Turns a filter into a SQL condition on the entity reference column
 * `entityRef` (such as `e.entity_ref`). The subqueries use the aliases `fs`
 * and `fr`, so the outer query must not. An empty `allOf` is true and an empty
 * `anyOf` is false, as in Backstage's permission criteria.
 */
export function compileEntityFilter(
  filter: EntityFilter,
  entityRef: SqlCondition,
  options: CompileOptions,
): SqlCondition {
  if (isSearchFilter(filter)) {
    return searchCondition(filter, entityRef, options);
  }
  if ('not' in filter) {
    return sql`not (${compileEntityFilter(filter.not, entityRef, options)})`;
  }
  if ('allOf' in filter) {
    if (filter.allOf.length === 0) {
      return SQL_TRUE;
    }
    const parts = filter.allOf.map((item) => compileEntityFilter(item, entityRef, options));
    return sql`(${sql.join(parts, sql` and `)})`;
  }
  if (filter.anyOf.length === 0) {
    return SQL_FALSE;
  }
  const parts = filter.anyOf.map((item) => compileEntityFilter(item, entityRef, options));
  return sql`(${sql.join(parts, sql` or `)})`;
}

/** Escapes `%`, `_` and the escape character itself for a LIKE pattern with `escape '\'`. */
export function escapeLikePattern(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}
