import type { Decision, PermissionDefinition, Principal } from '../permissions/index.js';

/**
 * Values that every micro frontend receives in its Luigi context: the shell
 * hands them to Luigi core as `navigation.globalContext`, which Luigi merges
 * under each node's own `context`.
 */
export interface ShellGlobalContext {
  /**
   * Names of the basic permissions (those without a resource type) that the
   * user holds, sorted. A micro frontend uses it to skip calls that would be
   * denied; the server still checks every call.
   */
  permissions: string[];
}

/** Keys of the global context, which a node's own `context` must not set. */
export const GLOBAL_CONTEXT_KEYS: readonly string[] = ['permissions'];

/** The part of the permission service that the global context needs. */
export interface GlobalContextAuthorizer {
  authorize(principal: Principal, permission: string): Decision;
  registry: { listPermissions(): PermissionDefinition[] };
}

/**
 * Builds the user's global context. Resource permissions are left out: a
 * decision without a resource can be CONDITIONAL, so only the API call on the
 * resource can tell whether the user may read it.
 */
export function buildGlobalContext(
  principal: Principal,
  permissions: GlobalContextAuthorizer,
): ShellGlobalContext {
  const held = permissions.registry
    .listPermissions()
    .filter((permission) => permission.resourceType === undefined)
    .filter((permission) => permissions.authorize(principal, permission.name).result === 'ALLOW')
    .map((permission) => permission.name);
  return { permissions: held.sort() };
}
