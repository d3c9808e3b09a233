import type { Entity } from '@backstage/catalog-model';

/**
 * One row of the catalog's search table computed in memory: a lowercase
 * dotted key and a lowercase value, or null when the value is null or too long
 * to index. `original` keeps the value as written, for display.
 */
export interface SearchEntry {
  key: string;
  value: string | null;
  original: string | null;
}

/**
 * Paths the generic walk skips, as Backstage's buildEntitySearch does: some are
 * not worth indexing, and the name, namespace and uid are added on their own.
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

/** Keys and values longer than this are not indexed (Backstage uses the same limit). */
export const MAX_SEARCH_KEY_LENGTH = 200;
export const MAX_SEARCH_VALUE_LENGTH = 200;

/**
 * Flattens an entity into the rows that the ingestion writes to
 * `catalog_search`, following Backstage's buildEntitySearch: scalar leaves
 * under their dotted path, array items under the array's path, and each string
 * item also as `<path>.<item>` = 'true'. Relations are not included because
 * the API reads them from `catalog_relations`.
 */
export function buildSearchEntries(entity: Entity): SearchEntry[] {
  const raw: Array<{ key: string; value: unknown }> = [];
  const seenItemKeys = new Set<string>();

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
          const lowerItemKey = itemKey.toLocaleLowerCase('en-US');
          if (!seenItemKeys.has(lowerItemKey)) {
            seenItemKeys.add(lowerItemKey);
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
  raw.push({ key: 'metadata.namespace', value: entity.metadata.namespace });
  raw.push({ key: 'metadata.uid', value: entity.metadata.uid });
  if (!entity.metadata.namespace) {
    raw.push({ key: 'metadata.namespace', value: 'default' });
  }

  const entries: SearchEntry[] = [];
  const seen = new Set<string>();
  for (const { key: rawKey, value: rawValue } of raw) {
    const key = rawKey.toLocaleLowerCase('en-US');
    if (key.length > MAX_SEARCH_KEY_LENGTH) {
      continue;
    }

    let entry: SearchEntry = { key, value: null, original: null };
    if (rawValue !== undefined && rawValue !== null) {
      const original = String(rawValue);
      const value = original.toLocaleLowerCase('en-US');
      if (value.length <= MAX_SEARCH_VALUE_LENGTH) {
        entry = { key, value, original };
      }
    }

    const identity = `${entry.key}\u0000${entry.value ?? '\u0001null'}`;
    if (!seen.has(identity)) {
      seen.add(identity);
      entries.push(entry);
    }
  }
  return entries;
}
