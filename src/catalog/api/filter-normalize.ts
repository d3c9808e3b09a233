import { type EntityFilter, isSearchFilter } from './entity-filter.js';

/** The filter every entity matches, and the one none matches. */
export const MATCH_ALL: EntityFilter = { allOf: [] };
export const MATCH_NONE: EntityFilter = { anyOf: [] };

function isMatchAll(filter: EntityFilter): boolean {
  return 'allOf' in filter && filter.allOf.length === 0;
}

function isMatchNone(filter: EntityFilter): boolean {
  return 'anyOf' in filter && filter.anyOf.length === 0;
}

/** Returns the kinds a `kind` condition accepts, or undefined for any other condition. */
function kindsOf(filter: EntityFilter): Set<string> | undefined {
  if (
    !isSearchFilter(filter) ||
    filter.key.toLocaleLowerCase('en-US') !== 'kind' ||
    !filter.values
  ) {
    return undefined;
  }
  return new Set(filter.values.map((value) => value.toLocaleLowerCase('en-US')));
}

function intersect(a: Set<string> | undefined, b: Set<string>): Set<string> {
  return a === undefined ? b : new Set([...a].filter((item) => b.has(item)));
}

/** Lifts the items of nested combinations of the same kind into one list. */
function flatten(items: readonly EntityFilter[], combination: 'allOf' | 'anyOf'): EntityFilter[] {
  return items.flatMap((item) =>
    combination in item
      ? flatten((item as Record<typeof combination, EntityFilter[]>)[combination], combination)
      : [item],
  );
}

/**
 * Simplifies a filter without changing which entities match: nested `allOf`
 * and `anyOf` are flattened, constant branches are folded, and `kind`
 * conditions are decided where the surrounding conditions already fix the
 * kind. Every entity has exactly one kind, so in
 * `kind=component AND (owned by X OR kind in [group, user])` the second
 * branch can never match and the filter becomes `kind=component AND owned by
 * X`, which the database reads from the ownership index alone.
 *
 * `kinds` is the set of kinds the entity is already known to have.
 */
export function normalizeFilter(filter: EntityFilter, kinds?: Set<string>): EntityFilter {
  const ownKinds = kindsOf(filter);
  if (ownKinds) {
    if (kinds === undefined) {
      return filter;
    }
    const remaining = intersect(kinds, ownKinds);
    if (remaining.size === 0) {
      return MATCH_NONE;
    }
    return remaining.size === kinds.size ? MATCH_ALL : filter;
  }
  if (isSearchFilter(filter)) {
    return filter;
  }

  if ('not' in filter) {
    const inner = normalizeFilter(filter.not, kinds);
    if (isMatchAll(inner)) return MATCH_NONE;
    if (isMatchNone(inner)) return MATCH_ALL;
    return { not: inner };
  }

  if ('allOf' in filter) {
    const parts = flatten(filter.allOf, 'allOf');
    // Kind conditions directly under this allOf narrow the context of their siblings.
    let narrowed = kinds;
    for (const item of parts) {
      const itemKinds = kindsOf(item);
      if (itemKinds) {
        narrowed = intersect(narrowed, itemKinds);
      }
    }
    if (narrowed !== undefined && narrowed.size === 0) {
      return MATCH_NONE;
    }

    const items: EntityFilter[] = [];
    for (const item of parts) {
      // A kind condition of this allOf is checked against the outer context only.
      const normalized = normalizeFilter(item, kindsOf(item) ? kinds : narrowed);
      if (isMatchNone(normalized)) return MATCH_NONE;
      if (isMatchAll(normalized)) continue;
      items.push(...('allOf' in normalized ? normalized.allOf : [normalized]));
    }
    return items.length === 1 ? items[0]! : { allOf: items };
  }

  const items: EntityFilter[] = [];
  for (const item of flatten(filter.anyOf, 'anyOf')) {
    const normalized = normalizeFilter(item, kinds);
    if (isMatchAll(normalized)) return MATCH_ALL;
    if (isMatchNone(normalized)) continue;
    items.push(...('anyOf' in normalized ? normalized.anyOf : [normalized]));
  }
  return items.length === 1 ? items[0]! : { anyOf: items };
}
