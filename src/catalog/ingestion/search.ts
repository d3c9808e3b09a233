/** A row of `catalog_search` without its entity: lowercase key and value. */
export interface SearchRow {
  key: string;
  value: string | null;
}

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

/**
 * Flattens an entity as Backstage's search table does: each scalar leaf under
 * its dotted path, each array item under the array's path, and each string
 * item also as `<path>.<item>` = 'true'. Keys and values are lowercased,
 * duplicates are dropped, and `caseConflicts` lists keys that differ only in
 * case, which Backstage rejects.
 */
export function buildSearchRows(entity: {
  metadata: { name: string; namespace?: string; uid?: string };
}): { rows: SearchRow[]; caseConflicts: string[] } {
  const raw: Array<{ key: string; value: unknown }> = [];
  const itemKeys = new Set<string>();

  const visit = (path: string, current: unknown): void => {
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
      raw.push({ key: path, value: current });
      return;
    }
    if (typeof current !== 'object') {
      return;
    }
    if (Array.isArray(current)) {
      for (const item of current) {
        visit(path, item);
        if (typeof item === 'string') {
          const itemKey = `${path}.${item}`;
          const lower = itemKey.toLowerCase();
          if (!itemKeys.has(lower)) {
            itemKeys.add(lower);
            raw.push({ key: itemKey, value: true });
          }
        }
      }
      return;
    }
    for (const [key, value] of Object.entries(current)) {
      visit(path ? `${path}.${key}` : key, value);
    }
  };

  visit('', entity);
  raw.push({ key: 'metadata.name', value: entity.metadata.name });
  raw.push({ key: 'metadata.namespace', value: entity.metadata.namespace ?? 'default' });
  raw.push({ key: 'metadata.uid', value: entity.metadata.uid });

  const caseConflicts = findCaseConflicts(raw);
  const rows: SearchRow[] = [];
  const seen = new Set<string>();
  for (const { key: rawKey, value: rawValue } of raw) {
    const key = rawKey.toLowerCase();
    if (key.length > MAX_SEARCH_KEY_LENGTH) {
      continue;
    }
    let value: string | null = null;
    if (rawValue !== undefined && rawValue !== null) {
      const text = String(rawValue).toLowerCase();
      value = text.length <= MAX_SEARCH_VALUE_LENGTH ? text : null;
    }
    const identity = `${key}\u0000${value ?? '\u0001null'}`;
    if (!seen.has(identity)) {
      seen.add(identity);
      rows.push({ key, value });
    }
  }
  return { rows, caseConflicts };
}

function findCaseConflicts(raw: ReadonlyArray<{ key: string }>): string[] {
  const spellings = new Map<string, string>();
  const conflicts = new Set<string>();
  for (const { key } of raw) {
    const lower = key.toLowerCase();
    const first = spellings.get(lower);
    if (first === undefined) {
      spellings.set(lower, key);
    } else if (first !== key) {
      conflicts.add(lower);
    }
  }
  return [...conflicts];
}
