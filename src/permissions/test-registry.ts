import { z } from 'zod';
import { type AnyPermissionRule, PermissionRegistry } from './registry.js';

/** A resource of the permission tests: its kind and the references of its owners. */
export interface Item {
  kind: string;
  owners: string[];
}

/**
 * Creates the registry of the permission tests: two `item` permissions, one
 * basic permission, the rules IS_OWNER and IS_KIND, and any extra rules.
 */
export function createItemRegistry(...extraRules: AnyPermissionRule[]): PermissionRegistry {
  const registry = new PermissionRegistry();
  registry.registerPermissions(
    { name: 'item.read', resourceType: 'item', action: 'read', description: 'Read items' },
    { name: 'item.delete', resourceType: 'item', action: 'delete', description: 'Delete items' },
    { name: 'report.use', action: 'use', description: 'Run reports' },
  );
  registry.registerRules(
    {
      name: 'IS_OWNER',
      resourceType: 'item',
      description: 'The item is owned by one of the claims',
      paramsSchema: z.object({ claims: z.array(z.string()) }),
      apply: (item: Item, params: { claims: string[] }) =>
        item.owners.some((owner) =>
          params.claims.map((claim) => claim.toLowerCase()).includes(owner),
        ),
      toQuery: (params: { claims: string[] }) => params,
    },
    {
      name: 'IS_KIND',
      resourceType: 'item',
      description: 'The item has one of the kinds',
      paramsSchema: z.object({ kinds: z.array(z.string()) }),
      apply: (item: Item, params: { kinds: string[] }) => params.kinds.includes(item.kind),
      toQuery: (params: { kinds: string[] }) => params,
    },
    ...extraRules,
  );
  return registry;
}
