import { z } from 'zod';
import { splitClaimAliases } from './conditions.js';
import { type AnyPermissionRule, PermissionRegistry } from './registry.js';
import type { CompilablePermissionRule, PrincipalClaims } from './types.js';

/** A resource of the permission tests: its kind and the references of its owners. */
export interface Item {
  kind: string;
  owners: string[];
}

const ownerParams = z.object({ claims: z.array(z.string()) });

/** IS_OWNER: the item is owned by one of the claims, compared in lowercase. */
const isOwner: AnyPermissionRule = {
  name: 'IS_OWNER',
  resourceType: 'item',
  description: 'The item is owned by one of the claims',
  paramsSchema: ownerParams,
  apply: (item: Item, params: { claims: string[] }) =>
    item.owners.some((owner) => params.claims.map((claim) => claim.toLowerCase()).includes(owner)),
  toQuery: (params: { claims: string[] }) => params,
};

/**
 * IS_OWNER with a check that principals share: the aliases are looked up in
 * the principal's claims. Registered in place of IS_OWNER, it lets the tests
 * compare shared plans with expanded ones.
 */
export const sharedIsOwner: AnyPermissionRule &
  CompilablePermissionRule<Item, { claims: string[] }> = {
  ...isOwner,
  compile: (params: { claims: string[] }) => (item: Item) => isOwner.apply(item, params),
  compileWithAliases(params: Record<string, unknown> | undefined) {
    const split = splitClaimAliases(params?.claims);
    const parsed = split && ownerParams.safeParse({ ...params, claims: split.written });
    if (!split || !parsed?.success) {
      return undefined;
    }
    const writtenClaims = parsed.data.claims.map((claim) => claim.toLowerCase());
    const { ownerRefs, currentUser } = split;
    return (item: Item, claims: PrincipalClaims) =>
      item.owners.some(
        (owner) =>
          writtenClaims.includes(owner) ||
          (ownerRefs && claims.hasOwnershipRef(owner)) ||
          (currentUser && owner === claims.userEntityRef),
      );
  },
};

/** IS_KIND: the item has one of the kinds. */
export const isKind: AnyPermissionRule = {
  name: 'IS_KIND',
  resourceType: 'item',
  description: 'The item has one of the kinds',
  paramsSchema: z.object({ kinds: z.array(z.string()) }),
  apply: (item: Item, params: { kinds: string[] }) => params.kinds.includes(item.kind),
  toQuery: (params: { kinds: string[] }) => params,
};

/**
 * Creates the registry of the permission tests: two `item` permissions, one
 * basic permission, the rules IS_OWNER and IS_KIND, and any extra rules. An
 * extra rule named IS_OWNER or IS_KIND takes the place of that rule.
 */
export function createItemRegistry(...extraRules: AnyPermissionRule[]): PermissionRegistry {
  const registry = new PermissionRegistry();
  registry.registerPermissions(
    { name: 'item.read', resourceType: 'item', action: 'read', description: 'Read items' },
    { name: 'item.delete', resourceType: 'item', action: 'delete', description: 'Delete items' },
    { name: 'report.use', action: 'use', description: 'Run reports' },
  );
  const replaced = new Set(extraRules.map((rule) => rule.name));
  registry.registerRules(
    ...[isOwner, isKind].filter((rule) => !replaced.has(rule.name)),
    ...extraRules,
  );
  return registry;
}
