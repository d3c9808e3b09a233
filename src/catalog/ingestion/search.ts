/**
 * Paths left out of the generic walk, as in Backstage's buildEntitySearch
 * (plugins/catalog-backend, stitcher): relations are filtered through
 * `catalog_relations`, and name, namespace and uid are added on their own.
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

/** Keys and values longer than this are not indexed; such a value is stored as null. */
export const MAX_SEARCH_KEY_LENGTH = 200;
export const MAX_SEARCH_VALUE_LENGTH = 200;

/** The uid's search key, whose row is added last, once the uid is known. */
const UID_KEY = 'metadata.uid';

/** Receives each leaf of a search walk: its dotted key and its value, before lowercasing. */
export interface SearchLeafSink {
  leaf(key: string, value: unknown): void;
}

type SearchableEntity = { metadata: { name: string; namespace?: string; uid?: string } };

/**
 * Walks an entity as Backstage's search table does: each scalar leaf under
 * its dotted path, each array item under the array's path, and each string
 * item also as `<path>.<item>` = true (once per spelling that differs beyond
 * case). The name, namespace and uid come last.
 */
export function walkSearchLeaves(
  entity: SearchableEntity,
  sink: SearchLeafSink,
  uid: boolean,
): void {
  visitSearchNode(sink, new Set<string>(), '', entity);
  sink.leaf('metadata.name', entity.metadata.name);
  sink.leaf('metadata.namespace', entity.metadata.namespace ?? 'default');
  if (uid) {
    sink.leaf(UID_KEY, entity.metadata.uid);
  }
}

function visitSearchNode(
  sink: SearchLeafSink,
  itemKeys: Set<string>,
  path: string,
  current: unknown,
): void {
  if (SKIPPED_PATHS.has(path)) {
    return;
  }
  if (
    current === undefined ||
    current === null ||
    typeof current === 'string' ||
    typeof current === 'number' ||
    typeof current === 'boolean'
  ) {
    sink.leaf(path, current);
    return;
  }
  if (typeof current !== 'object') {
    return;
  }
  if (Array.isArray(current)) {
    for (const item of current) {
      visitSearchNode(sink, itemKeys, path, item);
      if (typeof item === 'string') {
        const itemKey = `${path}.${item}`;
        const lower = itemKey.toLowerCase();
        if (!itemKeys.has(lower)) {
          itemKeys.add(lower);
          sink.leaf(itemKey, true);
        }
      }
    }
    return;
  }
  const record = current as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    visitSearchNode(sink, itemKeys, path === '' ? key : `${path}.${key}`, record[key]);
  }
}

/**
 * Collects search rows, dropping duplicates, and notes the lowercase keys
 * that leaves spell in more than one way.
 */
class SearchRowCollector implements SearchLeafSink {
  readonly rows: Array<string | null> = [];
  readonly caseConflicts = new Set<string>();
  /** The value written under each key, or the set of them once a key has several. */
  readonly #written = new Map<string, string | null | Set<string | null>>();
  /** The first spelling of each lowercase key, long keys included. */
  readonly #spellings = new Map<string, string>();

  leaf(rawKey: string, rawValue: unknown): void {
    const key = this.noteSpelling(rawKey);
    if (key.length > MAX_SEARCH_KEY_LENGTH) {
      return;
    }
    const value = searchValueOf(rawValue);
    if (!this.#written.has(key)) {
      this.#written.set(key, value);
    } else {
      const written = this.#written.get(key) as string | null | Set<string | null>;
      if (written instanceof Set) {
        if (written.has(value)) {
          return;
        }
        written.add(value);
      } else if (written === value) {
        return;
      } else {
        this.#written.set(key, new Set([written, value]));
      }
    }
    this.rows.push(key, value);
  }

  /** Records the spelling of a key and returns its lowercase form. */
  noteSpelling(rawKey: string): string {
    const key = rawKey.toLowerCase();
    const first = this.#spellings.get(key);
    if (first === undefined) {
      this.#spellings.set(key, rawKey);
    } else if (first !== rawKey) {
      this.caseConflicts.add(key);
    }
    return key;
  }

  /** Returns the values written under `key`. */
  valuesOf(key: string): Array<string | null> {
    if (!this.#written.has(key)) {
      return [];
    }
    const written = this.#written.get(key) as string | null | Set<string | null>;
    return written instanceof Set ? [...written] : [written];
  }
}

/** Search rows of an entity before its uid is known; see buildSearchRowsBeforeUid. */
export interface SearchRowsBeforeUid {
  /** Rows as `[key, value, key, value, ...]`, without the uid's row. */
  rows: Array<string | null>;
  /** Values that other leaves already wrote under the uid's key, almost always none. */
  uidKeyValues: Array<string | null>;
  /**
   * Lowercase keys that the entity spells in more than one way, such as
   * `spec.Owner` beside `spec.owner`. Backstage rejects such an entity,
   * because its search table cannot hold both.
   */
  caseConflicts: string[];
}

/**
 * Builds the rows of Backstage's search table for an entity in one walk (see
 * walkSearchLeaves), except the row of `metadata.uid`, which
 * `withUidSearchRow` adds once the uid is known. Keys and values are
 * lowercased, a value longer than MAX_SEARCH_VALUE_LENGTH is stored as null,
 * a key longer than MAX_SEARCH_KEY_LENGTH is left out, and duplicate rows are
 * dropped. The same walk finds the keys spelled in more than one way, the
 * uid's key included.
 */
export function buildSearchRowsBeforeUid(entity: SearchableEntity): SearchRowsBeforeUid {
  const collector = new SearchRowCollector();
  walkSearchLeaves(entity, collector, false);
  collector.noteSpelling(UID_KEY);
  return {
    rows: collector.rows,
    uidKeyValues: collector.valuesOf(UID_KEY),
    caseConflicts: [...collector.caseConflicts],
  };
}

/** Adds the row of `metadata.uid` to rows from buildSearchRowsBeforeUid, unless another leaf wrote the same row. */
export function withUidSearchRow(
  before: { rows: readonly (string | null)[]; uidKeyValues: readonly (string | null)[] },
  uid: string,
): Array<string | null> {
  const value = searchValueOf(uid);
  return before.uidKeyValues.includes(value) ? [...before.rows] : [...before.rows, UID_KEY, value];
}

function searchValueOf(rawValue: unknown): string | null {
  if (rawValue === undefined || rawValue === null) {
    return null;
  }
  const text = String(rawValue).toLowerCase();
  return text.length <= MAX_SEARCH_VALUE_LENGTH ? text : null;
}
