import { CATALOG_ENTITY_RESOURCE_TYPE } from '../catalog/api/index.js';
import type { PermissionDefinition } from '../permissions/index.js';
import type { RequestTypeDefinition } from './types.js';

/** Read requests of other users; everyone reads their own without it. */
export const REQUEST_READ = 'request.read';
/** See the break-glass review queue and mark requests reviewed. */
export const REQUEST_REVIEW = 'request.review';

export const workflowBasePermissions: PermissionDefinition[] = [
  {
    name: REQUEST_READ,
    action: 'read',
    description: "Read other users' requests",
  },
  {
    name: REQUEST_REVIEW,
    action: 'update',
    description: 'Review break-glass requests and mark them reviewed',
  },
];

/** Returns the approve permission of a type: its own, or `<type>.request.approve`. */
export function approvePermissionOf(
  type: Pick<RequestTypeDefinition<never>, 'name' | 'approvePermission'>,
): string {
  return type.approvePermission ?? `${type.name}.request.approve`;
}

/**
 * Returns the create and approve permissions of a request type. For a type with an
 * entity both are catalog-entity resource permissions, so a role can limit
 * them with conditions such as IS_ENTITY_OWNER.
 */
export function requestTypePermissions(
  type: Pick<
    RequestTypeDefinition<never>,
    'name' | 'approvePermission' | 'createPermission' | 'entity'
  >,
): PermissionDefinition[] {
  const resource = type.entity ? { resourceType: CATALOG_ENTITY_RESOURCE_TYPE } : {};
  return [
    {
      name: type.createPermission,
      ...resource,
      action: 'create',
      description: `Create ${type.name} requests`,
    },
    {
      name: approvePermissionOf(type),
      ...resource,
      action: 'update',
      description: `Approve or deny ${type.name} requests of other users`,
    },
  ];
}
