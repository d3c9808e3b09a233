import type { Entity } from '@backstage/catalog-model';
import {
  MAX_SEARCH_KEY_LENGTH,
  MAX_SEARCH_VALUE_LENGTH,
  walkSearchLeaves,
} from '../ingestion/search.js';

export { MAX_SEARCH_KEY_LENGTH, MAX_SEARCH_VALUE_LENGTH };

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
 * Flattens an entity into the rows that the ingestion writes to
 * `catalog_search`, through the same walk (walkSearchLeaves), so in-memory
 * rule checks and facets see exactly what the SQL filters see.
 */
export function buildSearchEntries(entity: Entity): SearchEntry[] {
  const entries: SearchEntry[] = [];
  const seen = new Set<string>();
  walkSearchLeaves(
    entity,
    {
      leaf(rawKey, rawValue) {
        const key = rawKey.toLowerCase();
        if (key.length > MAX_SEARCH_KEY_LENGTH) {
          return;
        }
        let entry: SearchEntry = { key, value: null, original: null };
        if (rawValue !== undefined && rawValue !== null) {
          const original = String(rawValue);
          const value = original.toLowerCase();
          if (value.length <= MAX_SEARCH_VALUE_LENGTH) {
            entry = { key, value, original };
          }
        }
        const identity = `${entry.key}\u0000${entry.value ?? '\u0001null'}`;
        if (!seen.has(identity)) {
          seen.add(identity);
          entries.push(entry);
        }
      },
    },
    true,
  );
  return entries;
}
