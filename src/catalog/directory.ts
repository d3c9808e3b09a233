import type { DatabaseHandle } from '../database/index.js';
import type { CatalogDirectory } from './catalog.js';

// NOTE: placeholder with the final signature; the catalog directory replaces it.

export function createCatalogDirectory(_database: DatabaseHandle): CatalogDirectory {
  return {
    findUserRefByEmail: async () => undefined,
    findUserRefByName: async () => undefined,
    findGroupRef: async () => undefined,
    getDirectGroupRefs: async () => [],
    expandGroupAncestors: async (groupRefs) => ({ groupRefs: [...groupRefs], cycles: [] }),
  };
}
