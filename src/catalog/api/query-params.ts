import { InputError } from '../../errors/index.js';
import type { EntityFilter, EntitySearchFilter } from './entity-filter.js';
import {
  checkCount,
  checkFilterSets,
  checkLength,
  type FilterSet,
  INPUT_LIMITS,
} from './input-limits.js';

/** Query string as Fastify parses it: repeated parameters become arrays. */
export type QueryParams = Record<string, string | string[] | undefined>;

/**
 * Maximum page size of the list routes and maximum number of references in
 * one by-refs request. @backstage/catalog-client 1.16 streams pages of 500 and
 * sends by-refs in chunks of at most 1,000, so both fit.
 */
export const MAX_PAGE_SIZE = 1000;

/** Maximum number of facets in one entity-facets request. */
export const MAX_FACETS = INPUT_LIMITS.facets;

export interface OrderField {
  /** Lowercase search key, such as `metadata.name`. */
  field: string;
  order: 'asc' | 'desc';
}

function invalid(name: string, value: unknown, expected: string): InputError {
  return new InputError(`${name} '${String(value)}' is invalid: ${expected}`, {
    details: [{ path: `query.${name}`, value, message: expected }],
  });
}

/** Returns the parameter's only value, and rejects a repeated parameter. */
export function singleParam(query: QueryParams, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) {
    throw new InputError(`${name} is given ${value.length} times: give it once`, {
      details: [{ path: `query.${name}`, value, message: 'give it once' }],
    });
  }
  return value;
}

/** Returns every value of a repeatable parameter, in order. */
export function listParam(query: QueryParams, name: string): string[] | undefined {
  const value = query[name];
  if (value === undefined) {
    return undefined;
  }
  return Array.isArray(value) ? value : [value];
}

function parseWholeNumber(
  query: QueryParams,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const text = singleParam(query, name);
  if (text === undefined) {
    return undefined;
  }
  const expected =
    max === Number.MAX_SAFE_INTEGER
      ? `use a whole number of at least ${min}`
      : `use a whole number from ${min} to ${max}`;
  if (!/^\d+$/.test(text)) {
    throw invalid(name, text, expected);
  }
  const number = Number(text);
  if (number < min || number > max) {
    throw invalid(name, text, expected);
  }
  return number;
}

/** `limit`: 1 to MAX_PAGE_SIZE, or from 0 where a count alone is useful. */
export function parseLimit(query: QueryParams, options: { allowZero?: boolean } = {}) {
  return parseWholeNumber(query, 'limit', options.allowZero ? 0 : 1, MAX_PAGE_SIZE);
}

export function parseOffset(query: QueryParams): number | undefined {
  return parseWholeNumber(query, 'offset', 0, Number.MAX_SAFE_INTEGER);
}

/**
 * Parses `filter` parameters. Each is a set of comma-separated conditions,
 * `key` (exists) or `key=value`, and an entity matches a set when it matches
 * all of them. An entity matches the filter when it matches any set.
 * Conditions on the same key within a set join into one list of accepted
 * values, as in Backstage. The sets must stay within INPUT_LIMITS.
 */
export function parseFilterParams(query: QueryParams): EntityFilter | undefined {
  const sets = parseFilterSets(listParam(query, 'filter') ?? []);
  checkFilterSets(sets, 'filter');
  return filterOfSets(sets);
}

function parseFilterSets(texts: readonly string[]): FilterSet[] {
  const sets: FilterSet[] = [];
  for (const text of texts) {
    const byKey = new Map<string, EntitySearchFilter>();
    const statements = text
      .split(',')
      .map((statement) => statement.trim())
      .filter(Boolean);
    for (const statement of statements) {
      const equals = statement.indexOf('=');
      const key = (equals === -1 ? statement : statement.slice(0, equals)).trim();
      const value = equals === -1 ? undefined : statement.slice(equals + 1).trim();
      if (!key) {
        throw invalid(
          'filter',
          text,
          `'${statement}' has no key: write key, key=value or several joined by commas, such as kind=component,spec.type=service`,
        );
      }

      const lowerKey = key.toLocaleLowerCase('en-US');
      const condition = byKey.get(lowerKey) ?? { key: lowerKey };
      byKey.set(lowerKey, condition);
      if (value !== undefined) {
        condition.values = [...(condition.values ?? []), value.toLocaleLowerCase('en-US')];
      }
    }
    if (byKey.size > 0) {
      sets.push([...byKey.values()]);
    }
  }
  return sets;
}

/** Builds the filter of parsed sets: one `allOf` per set, joined by `anyOf` when there are several. */
export function filterOfSets(sets: readonly FilterSet[]): EntityFilter | undefined {
  const parsed = sets.map((set) => ({ allOf: set }));
  if (parsed.length === 0) {
    return undefined;
  }
  return parsed.length === 1 ? parsed[0] : { anyOf: parsed };
}

/**
 * Returns the sets of a filter that `filterOfSets` built, or undefined for a
 * filter of any other shape, such as one read from a forged cursor.
 */
export function setsOfFilter(filter: EntityFilter): FilterSet[] | undefined {
  const sets = 'anyOf' in filter ? filter.anyOf : [filter];
  if (sets.length === 0) {
    return undefined;
  }
  const result: FilterSet[] = [];
  for (const set of sets) {
    if (!('allOf' in set) || set.allOf.length === 0 || !set.allOf.every((item) => 'key' in item)) {
      return undefined;
    }
    result.push(set.allOf as FilterSet);
  }
  return result;
}

/**
 * Parses `fields` (repeatable, each a comma-separated list of dotted paths)
 * or the same paths from a request body.
 */
export function parseFields(values: string[] | undefined, name = 'fields'): string[] | undefined {
  if (!values) {
    return undefined;
  }
  const fields = values
    .flatMap((value) => value.split(','))
    .map((field) => field.trim())
    .filter(Boolean);
  checkCount(name, fields.length, INPUT_LIMITS.fields, 'paths');
  for (const field of fields) {
    checkLength(name, field, INPUT_LIMITS.fieldLength);
  }
  const withIndex = fields.find((field) => field.includes('['));
  if (withIndex !== undefined) {
    throw invalid(
      name,
      withIndex,
      'array indexes are not supported: name the whole array, such as spec.dependsOn',
    );
  }
  return fields.length > 0 ? fields : undefined;
}

/** Parses `order=asc:metadata.name` (repeatable) of GET /entities. */
export function parseOrderParams(query: QueryParams): OrderField[] | undefined {
  const items = listParam(query, 'order');
  checkCount('order', items?.length ?? 0, INPUT_LIMITS.orderFields, 'parameters');
  return items?.map((item) => {
    const match = /^(asc|desc):(.+)$/.exec(item);
    if (!match) {
      throw invalid('order', item, 'write asc:<field> or desc:<field>, such as asc:metadata.name');
    }
    return {
      order: match[1] as 'asc' | 'desc',
      field: parseSearchKey('order', match[2]!),
    };
  });
}

/** Trims and lowercases a search key, which may be at most INPUT_LIMITS.keyLength long. */
function parseSearchKey(parameter: string, text: string): string {
  const key = text.trim().toLocaleLowerCase('en-US');
  checkLength(parameter, key, INPUT_LIMITS.keyLength, ', because longer keys are not indexed');
  return key;
}

/** Parses `orderField=metadata.name,asc` (repeatable) of GET /entities/by-query. */
export function parseOrderFieldParams(query: QueryParams): OrderField[] | undefined {
  const items = listParam(query, 'orderField');
  checkCount('orderField', items?.length ?? 0, INPUT_LIMITS.orderFields, 'parameters');
  return items?.map((item) => {
    const [field, order, ...rest] = item.split(',').map((part) => part.trim());
    if (!field || rest.length > 0 || (order !== undefined && order !== 'asc' && order !== 'desc')) {
      throw invalid(
        'orderField',
        item,
        'write <field>,asc or <field>,desc, such as metadata.name,asc',
      );
    }
    return {
      field: parseSearchKey('orderField', field),
      order: (order ?? 'asc') as 'asc' | 'desc',
    };
  });
}

/** Parses `totalItems`: `include` (the default) or `exclude`. */
export function parseTotalItems(query: QueryParams): 'include' | 'exclude' {
  const value = singleParam(query, 'totalItems');
  if (value === undefined || value === 'include' || value === 'exclude') {
    return value ?? 'include';
  }
  throw invalid('totalItems', value, 'use include or exclude');
}

/** Parses the `facet` parameters of GET /entity-facets. */
export function parseFacetParams(query: QueryParams): string[] {
  const facets = (listParam(query, 'facet') ?? []).map((facet) => facet.trim()).filter(Boolean);
  if (facets.length === 0) {
    throw new InputError('facet is missing: name at least one field, such as facet=kind', {
      details: [{ path: 'query.facet', message: 'name at least one field' }],
    });
  }
  checkCount('facet', facets.length, MAX_FACETS, 'facets');
  for (const facet of facets) {
    checkLength('facet', facet, INPUT_LIMITS.keyLength, ', because longer keys are not indexed');
  }
  return facets;
}

/**
 * Parses `fullTextFilterTerm` and `fullTextFilterFields` of GET
 * /entities/by-query; returns undefined without a term.
 */
export function parseFullTextParams(
  query: QueryParams,
): { term: string; fields?: string[] } | undefined {
  const term = singleParam(query, 'fullTextFilterTerm')?.trim();
  const fields = singleParam(query, 'fullTextFilterFields')
    ?.split(',')
    .map((field) => field.trim())
    .filter(Boolean);
  if (!term) {
    return undefined;
  }
  checkLength(
    'fullTextFilterTerm',
    term,
    INPUT_LIMITS.valueLength,
    ', because longer values are not indexed',
  );
  if (fields) {
    checkCount('fullTextFilterFields', fields.length, INPUT_LIMITS.fullTextFields, 'fields');
    for (const field of fields) {
      parseSearchKey('fullTextFilterFields', field);
    }
  }
  return { term, ...(fields ? { fields } : {}) };
}
