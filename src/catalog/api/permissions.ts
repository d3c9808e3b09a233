import type { PermissionDefinition } from '../../permissions/index.js';

/** Resource type of catalog entities, as Backstage names it. */
export const CATALOG_ENTITY_RESOURCE_TYPE = 'catalog-entity';

export const CATALOG_ENTITY_READ = 'catalog.entity.read';
export const CATALOG_LOCATION_READ = 'catalog.location.read';

export const catalogPermissions: PermissionDefinition[] = [
  {
    name: CATALOG_ENTITY_READ,
    resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
    action: 'read',
    description: 'Read catalog entities',
  },
  {
    name: CATALOG_LOCATION_READ,
    action: 'read',
    description: 'Read catalog locations and their ingestion errors',
  },
];
