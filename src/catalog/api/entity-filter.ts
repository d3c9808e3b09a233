/**
 * A condition on one search key, in Backstage's `EntitiesSearchFilter` shape:
 * the key exists (no `values`) or has one of the values. Keys and values
 * compare without case. Keys starting with `relations.` match relations of
 * that type, with the values as target references.
 */
export interface EntitySearchFilter {
  key: string;
  values?: string[];
}

/** Search conditions combined with `allOf`, `anyOf` and `not`, as in Backstage's `EntityFilter`. */
export type EntityFilter =
  | { allOf: EntityFilter[] }
  | { anyOf: EntityFilter[] }
  | { not: EntityFilter }
  | EntitySearchFilter;

export function isSearchFilter(filter: EntityFilter): filter is EntitySearchFilter {
  return 'key' in filter;
}

/** Joins filters with AND and leaves out absent ones; returns undefined when none is left. */
export function allOfFilters(
  ...filters: Array<EntityFilter | undefined>
): EntityFilter | undefined {
  const present = filters.filter((filter): filter is EntityFilter => filter !== undefined);
  if (present.length === 0) {
    return undefined;
  }
  return present.length === 1 ? present[0] : { allOf: present };
}

/** Returns the relation type of a `relations.<type>` key, or undefined for other keys. */
export function relationTypeOfKey(key: string): string | undefined {
  const prefix = 'relations.';
  return key.toLocaleLowerCase('en-US').startsWith(prefix) ? key.slice(prefix.length) : undefined;
}
