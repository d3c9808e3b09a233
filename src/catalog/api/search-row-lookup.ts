import type { Entity } from '@backstage/catalog-model';
import { MAX_SEARCH_KEY_LENGTH, MAX_SEARCH_VALUE_LENGTH } from './search-entries.js';

/**
 * Paths that walkSearchLeaves (catalog/ingestion/search.ts) leaves out of its
 * generic walk. NOTE: a copy of that module's private list, so a change there
 * must be made here too; search-row-lookup.test.ts compares the two walks.
 */
const SKIPPED_PATHS = new Set([
  'attachments',
  'relations',
  'status',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'metadata.etag',
]);

/** Paths of the three rows that walkSearchLeaves adds after its generic walk. */
const ADDED_PATHS = ['metadata.name', 'metadata.namespace', 'metadata.uid'] as const;

/**
 * A search row to look for: a lowercase key, and a lowercase value unless
 * any value matches, with what the walk can tell from the key alone.
 */
interface RowQuery {
  key: string;
  value: string | undefined;
  /**
   * Lengths of the skipped paths that the key starts with, up to a dot or
   * its end. Only a path of an ASCII name with one of these lengths can be
   * a skipped path, so other paths need no look-up in SKIPPED_PATHS.
   */
  skippedLengths: readonly number[];
  /** The path of ADDED_PATHS that is the key, if any. */
  addedPath: (typeof ADDED_PATHS)[number] | undefined;
}

/** `offset` of a path whose lowercase form is not known to be a prefix of the key. */
const UNKNOWN_OFFSET = -1;

/**
 * Returns whether buildSearchEntries(entity) contains a row with the key and,
 * when `value` is given, with that value. Both must be lowercase already. The
 * walk is the one of walkSearchLeaves, but it enters only object keys that
 * can still lead to `key`, so it builds no rows and, for ASCII keys and
 * values, no lowercase copies.
 */
export function hasSearchRow(entity: Entity, key: string, value: string | undefined): boolean {
  return searchRowCheck(key, value)(entity);
}

/**
 * Returns hasSearchRow for one key and value as a check of an entity, which
 * works out once what the key alone decides.
 */
export function searchRowCheck(
  key: string,
  value: string | undefined,
): (entity: Entity) => boolean {
  // A longer key is never stored, and a longer value is stored as null, so
  // no row matches either.
  if (
    key.length > MAX_SEARCH_KEY_LENGTH ||
    (value !== undefined && value.length > MAX_SEARCH_VALUE_LENGTH)
  ) {
    return () => false;
  }
  const query: RowQuery = {
    key,
    value,
    skippedLengths: [...SKIPPED_PATHS]
      .filter(
        (path) =>
          key.startsWith(path) &&
          (key.length === path.length || key.charCodeAt(path.length) === DOT),
      )
      .map((path) => path.length),
    addedPath: ADDED_PATHS.find((path) => path === key),
  };
  return (entity) => {
    if (visitNode(query, '', 0, entity)) {
      return true;
    }
    // walkSearchLeaves adds these three rows after the generic walk.
    const { addedPath } = query;
    if (addedPath === undefined) {
      return false;
    }
    const metadata = entity.metadata;
    const rawValue =
      addedPath === 'metadata.name'
        ? metadata.name
        : addedPath === 'metadata.namespace'
          ? (metadata.namespace ?? 'default')
          : metadata.uid;
    return valueMatches(query.value, rawValue);
  };
}

/**
 * Visits one node as walkSearchLeaves does. `offset` is the length of the
 * path's lowercase form, which is known to equal the start of the key, or
 * UNKNOWN_OFFSET once the path contains a character outside ASCII.
 */
function visitNode(query: RowQuery, path: string, offset: number, current: unknown): boolean {
  if (
    (offset === UNKNOWN_OFFSET || query.skippedLengths.includes(offset)) &&
    SKIPPED_PATHS.has(path)
  ) {
    return false;
  }
  if (
    current === undefined ||
    current === null ||
    typeof current === 'string' ||
    typeof current === 'number' ||
    typeof current === 'boolean'
  ) {
    return pathMatches(query.key, path, offset) && valueMatches(query.value, current);
  }
  if (typeof current !== 'object') {
    return false;
  }

  if (Array.isArray(current)) {
    for (const item of current) {
      if (visitNode(query, path, offset, item)) {
        return true;
      }
      // A string item also makes the row `<path>.<item>` with the value true.
      if (
        typeof item === 'string' &&
        valueMatches(query.value, true) &&
        itemKeyMatches(query.key, path, offset, item)
      ) {
        return true;
      }
    }
    return false;
  }

  const record = current as Record<string, unknown>;
  // for...in with Object.hasOwn visits the names of Object.keys in the same
  // order without building an array for each object.
  for (const name in record) {
    if (!Object.hasOwn(record, name)) {
      continue;
    }
    const childOffset = offsetAfter(query.key, path, offset, name);
    if (childOffset === undefined) {
      continue;
    }
    const childPath = path === '' ? name : `${path}.${name}`;
    if (visitNode(query, childPath, childOffset, record[name])) {
      return true;
    }
  }
  return false;
}

/**
 * Returns the offset of the child path `<path>.<name>` when the key can
 * still start with its lowercase form, or undefined when no row under it can
 * have the key.
 */
function offsetAfter(key: string, path: string, offset: number, name: string): number | undefined {
  if (offset === UNKNOWN_OFFSET) {
    return UNKNOWN_OFFSET;
  }
  let start = 0;
  if (path !== '') {
    if (key.charCodeAt(offset) !== DOT) {
      return undefined;
    }
    start = offset + 1;
  }
  const compared = compareAsciiLowercase(name, key, start);
  if (compared === NOT_ASCII) {
    return UNKNOWN_OFFSET;
  }
  if (compared === MISMATCH) {
    return undefined;
  }
  const end = start + name.length;
  if (end !== key.length && key.charCodeAt(end) !== DOT) {
    return undefined;
  }
  return end;
}

function pathMatches(key: string, path: string, offset: number): boolean {
  if (offset === UNKNOWN_OFFSET) {
    return path.toLowerCase() === key;
  }
  return offset === key.length;
}

/** Returns whether the lowercase form of `<path>.<item>` is the key. */
function itemKeyMatches(key: string, path: string, offset: number, item: string): boolean {
  if (offset !== UNKNOWN_OFFSET) {
    const start = offset + 1;
    if (key.length < start || key.charCodeAt(offset) !== DOT) {
      return false;
    }
    const compared = compareAsciiLowercase(item, key, start);
    if (compared === MISMATCH) {
      return false;
    }
    if (compared === EQUAL) {
      return start + item.length === key.length;
    }
  }
  // Lowercasing can depend on the characters around one (a final sigma), so
  // a path or item outside ASCII is lowercased as one string, as the walk does.
  return `${path}.${item}`.toLowerCase() === key;
}

/** Returns whether a leaf's row value is the wanted value; any value matches when none is wanted. */
function valueMatches(wanted: string | undefined, rawValue: unknown): boolean {
  if (wanted === undefined) {
    return true;
  }
  if (rawValue === undefined || rawValue === null) {
    return false;
  }
  const text = typeof rawValue === 'string' ? rawValue : String(rawValue);
  const compared = compareAsciiLowercase(text, wanted, 0);
  if (compared === NOT_ASCII) {
    return text.toLowerCase() === wanted;
  }
  return compared === EQUAL && text.length === wanted.length;
}

const DOT = 0x2e;
const EQUAL = 0;
const MISMATCH = 1;
const NOT_ASCII = 2;

/**
 * Compares `raw`, lowercased, with `lowercase` from `start` on, for raw's
 * length. Returns NOT_ASCII at the first character outside ASCII before any
 * difference, because from there the lowercase form may differ in length.
 */
function compareAsciiLowercase(raw: string, lowercase: string, start: number): number {
  for (let index = 0; index < raw.length; index++) {
    let code = raw.charCodeAt(index);
    if (code >= 0x80) {
      return NOT_ASCII;
    }
    if (code >= 0x41 && code <= 0x5a) {
      code += 0x20;
    }
    if (code !== lowercase.charCodeAt(start + index)) {
      return MISMATCH;
    }
  }
  return EQUAL;
}
