export {
  type Catalog,
  type CatalogDirectory,
  type CatalogOptions,
  createCatalog,
  type ProvidedEntities,
  type RefreshSummary,
} from './catalog.js';
export { readCatalogVersion } from './catalog-version.js';
export { readEntitiesByKind, type StoredEntity } from './entities-by-kind.js';
export type { EntityFault, EntityFaultSource } from './entity-faults.js';
export { findGroupRefsByAnnotation } from './group-annotations.js';
export type {
  CatalogIssue,
  EntityProvider,
  LocationRefreshReport,
  ProvidedEntitiesResult,
  ProvidedEntity,
  ProvidedEntityChange,
  ProvidedEntityProblem,
} from './ingestion/index.js';
export { catalogMigrations } from './migrations.js';
export { readOrganisation } from './organisation.js';
export type { CatalogTables } from './tables.js';
