export {
  type Catalog,
  type CatalogDirectory,
  type CatalogOptions,
  createCatalog,
  type RefreshSummary,
} from './catalog.js';
export { catalogMigrations } from './migrations.js';
export { readOrganisation } from './organisation.js';
export type { CatalogTables } from './tables.js';
