import { InputError } from '../../errors/index.js';
import type { EntitySearchFilter } from './entity-filter.js';
import { MAX_SEARCH_KEY_LENGTH, MAX_SEARCH_VALUE_LENGTH } from './search-entries.js';

/**
 * Caps on the size of one request to the catalog read API, listed in
 * docs/api.md. They keep every query small enough to plan and run in about a
 * second on 100,000 entities; a request over a cap gets a 400 that names the
 * parameter, the count and the cap.
 */
export const INPUT_LIMITS = {
  /** `filter` parameters (sets of conditions) in one request. */
  filterSets: 20,
  /** Conditions in one `filter` parameter; conditions on the same key count once. */
  conditionsPerSet: 50,
  /** Conditions across all `filter` parameters. */
  conditions: 100,
  /** Values of one condition, such as `kind=a,kind=b` in one set. */
  valuesPerCondition: 100,
  /** Values across all conditions. */
  values: 1_000,
  /** Longer search keys and values are not indexed, so they could never match. */
  keyLength: MAX_SEARCH_KEY_LENGTH,
  valueLength: MAX_SEARCH_VALUE_LENGTH,
  /** Paths in `fields`, and the length of one path. */
  fields: 100,
  fieldLength: 500,
  /** `order` or `orderField` parameters in one request. */
  orderFields: 10,
  /** Keys in `fullTextFilterFields`. */
  fullTextFields: 20,
  /** Facets in one entity-facets request. */
  facets: 50,
  /** Characters of a by-query cursor, and the nesting depth of its JSON. */
  cursorLength: 64 * 1024,
  cursorDepth: 8,
} as const;

/** The conditions of one `filter` parameter: an entity must match all of them. */
export type FilterSet = EntitySearchFilter[];

/** Shortens a value for an error message. */
export function excerpt(text: string, length = 60): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}

function tooMany(parameter: string, message: string, count: number): InputError {
  return new InputError(message, {
    details: [{ path: `query.${parameter}`, value: count, message }],
  });
}

/**
 * Checks the filter sets of a request or a cursor against INPUT_LIMITS.
 * `parameter` names the query parameter the sets came from.
 */
export function checkFilterSets(sets: readonly FilterSet[], parameter: string): void {
  const limits = INPUT_LIMITS;
  if (sets.length > limits.filterSets) {
    throw tooMany(
      parameter,
      `${parameter} has ${sets.length} filter sets: use at most ${limits.filterSets} filter parameters in one request`,
      sets.length,
    );
  }

  let conditions = 0;
  let values = 0;
  for (const set of sets) {
    if (set.length > limits.conditionsPerSet) {
      throw tooMany(
        parameter,
        `${parameter} '${excerpt(set.map((item) => item.key).join(','))}' has ${set.length} conditions: use at most ${limits.conditionsPerSet} keys in one filter parameter`,
        set.length,
      );
    }
    conditions += set.length;

    for (const condition of set) {
      checkConditionText(condition, parameter);
      const count = condition.values?.length ?? 0;
      if (count > limits.valuesPerCondition) {
        throw tooMany(
          parameter,
          `${parameter} key '${excerpt(condition.key)}' has ${count} values: use at most ${limits.valuesPerCondition} values for one key in one filter parameter`,
          count,
        );
      }
      values += count;
    }
  }

  if (conditions > limits.conditions) {
    throw tooMany(
      parameter,
      `${parameter} has ${conditions} conditions in total: use at most ${limits.conditions} across all filter parameters`,
      conditions,
    );
  }
  if (values > limits.values) {
    throw tooMany(
      parameter,
      `${parameter} has ${values} values in total: use at most ${limits.values} across all filter parameters`,
      values,
    );
  }
}

function checkConditionText(condition: EntitySearchFilter, parameter: string): void {
  const { keyLength, valueLength } = INPUT_LIMITS;
  if (condition.key.length > keyLength) {
    throw tooMany(
      parameter,
      `${parameter} key '${excerpt(condition.key)}' has ${condition.key.length} characters: use at most ${keyLength}, because longer keys are not indexed and never match`,
      condition.key.length,
    );
  }
  const long = condition.values?.find((value) => value.length > valueLength);
  if (long !== undefined) {
    throw tooMany(
      parameter,
      `${parameter} value '${excerpt(long)}' of key '${excerpt(condition.key)}' has ${long.length} characters: use at most ${valueLength}, because longer values are not indexed and never match`,
      long.length,
    );
  }
}

/** Rejects a list parameter with more items than `max`. */
export function checkCount(parameter: string, count: number, max: number, unit: string): void {
  if (count > max) {
    throw tooMany(parameter, `${parameter} has ${count} ${unit}: use at most ${max}`, count);
  }
}

/** Rejects a text longer than `max` characters. */
export function checkLength(parameter: string, text: string, max: number, reason = ''): void {
  if (text.length > max) {
    throw tooMany(
      parameter,
      `${parameter} '${excerpt(text)}' has ${text.length} characters: use at most ${max}${reason}`,
      text.length,
    );
  }
}
