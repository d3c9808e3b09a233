import { CATALOG_ENTITY_RESOURCE_TYPE } from '../catalog/api/index.js';
import type { PermissionDefinition } from '../permissions/index.js';

/**
 * Reading the runbooks of a catalog entity. Its resource type is
 * catalog-entity, so grants take the catalog's condition rules, such as
 * IS_ENTITY_OWNER, and a role whose members are an on-call group can cover
 * the services that group is on call for.
 */
export const RUNBOOK_READ = 'runbook.read';

export const runbookPermissions: PermissionDefinition[] = [
  {
    name: RUNBOOK_READ,
    resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
    action: 'read',
    description: 'Read the runbooks of catalog entities',
  },
];
