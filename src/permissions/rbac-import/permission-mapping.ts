import type { PermissionRegistry } from '../registry.js';
import type { PermissionDefinition } from '../types.js';
import type { RbacAction } from './csv-policy.js';

type Mapping = { permissions: PermissionDefinition[] } | { error: string };

/**
 * Finds the registered permissions that a `p` line names. The RBAC plugin
 * accepts a permission name (`catalog.entity.read`), which must carry the
 * line's action, or a resource type (`catalog-entity`), which covers every
 * permission of that type with the line's action.
 */
export function mapPolicyObject(
  object: string,
  action: RbacAction,
  registry: PermissionRegistry,
): Mapping {
  const named = registry.getPermission(object);
  if (named) {
    if (named.action !== action) {
      return {
        error: `permission '${object}' has action '${named.action}', not '${action}', so the RBAC plugin never matches this line: write ${named.action}`,
      };
    }
    return { permissions: [named] };
  }

  const ofType = registry.listPermissions().filter((item) => item.resourceType === object);
  if (ofType.length === 0) {
    const kind = object.includes('.') ? 'permission' : 'resource type';
    return {
      error: `${kind} '${object}' is not registered in this portal: remove the line, or use ${listNames(registry)}`,
    };
  }

  const matching = ofType.filter((item) => item.action === action);
  if (matching.length === 0) {
    return {
      error: `resource type '${object}' has no permission with action '${action}' in this portal, only ${describePermissions(ofType)}`,
    };
  }
  return { permissions: matching };
}

/**
 * Checks a conditional policy's plugin id and resource type against the
 * registry and returns the resource type's permissions.
 */
export function mapResourceType(
  pluginId: string,
  resourceType: string,
  registry: PermissionRegistry,
): { permissions: PermissionDefinition[] } | { field: 'pluginId' | 'resourceType'; error: string } {
  const all = registry.listPermissions();
  const ofType = all.filter((item) => item.resourceType === resourceType);
  if (ofType.length === 0) {
    const types = [...new Set(all.flatMap((item) => item.resourceType ?? []))].sort();
    return {
      field: 'resourceType',
      error: `resource type '${resourceType}' is not registered in this portal: use one of ${types.join(', ') || '(none)'}`,
    };
  }

  // NOTE: the registry stores no plugin id, so the owner is read from the
  // permission names, which begin with their plugin's id as in Backstage.
  const owners = [...new Set(ofType.map((item) => item.name.split('.')[0] ?? ''))];
  if (!owners.includes(pluginId)) {
    return {
      field: 'pluginId',
      error: `plugin '${pluginId}' does not own resource type '${resourceType}', so the RBAC plugin never applies these conditions: write pluginId: ${owners.join(' or ')}`,
    };
  }
  return { permissions: ofType };
}

/** Names a few registered permissions for a message, or the route that lists them all. */
function listNames(registry: PermissionRegistry): string {
  const names = registry.listPermissions().map((item) => item.name);
  if (names.length === 0 || names.length > 8) {
    return 'a permission that GET /api/permission/permissions lists';
  }
  return `one of ${names.join(', ')}`;
}

/** Lists permissions as `name (action)` for messages. */
export function describePermissions(permissions: readonly PermissionDefinition[]): string {
  if (permissions.length === 0) {
    return '(none)';
  }
  return permissions.map((item) => `${item.name} (${item.action})`).join(', ');
}
