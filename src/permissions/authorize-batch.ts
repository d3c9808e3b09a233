import type { AuthorizeRequestItem } from './authorize-request.js';
import { evaluateCriteria, mapConditions } from './conditions.js';
import type { Policy } from './policy.js';
import type { PermissionRegistry, PermissionResourceType } from './registry.js';
import type { ConditionCriteria, Decision, PermissionDefinition, Principal } from './types.js';

type DefinitiveResult = 'ALLOW' | 'DENY';

/** One item of Backstage's `POST /authorize` response. */
export type AuthorizeResponseItem =
  | {
      id: string;
      /** A list, in request order, when the request item named a list of resources. */
      result: DefinitiveResult | DefinitiveResult[];
      /** Reason for a DENY taken without the roles, such as an unregistered permission. Clients ignore it. */
      reason?: string;
    }
  | {
      id: string;
      result: 'CONDITIONAL';
      pluginId: string;
      resourceType: string;
      conditions: ConditionCriteria;
    };

/** The resource a definitive decision is taken for: found, or named but missing. */
export type ResourceLookup = { found: true; resource: unknown } | { found: false };

/**
 * Decides a batch of Backstage authorize items for one principal against one
 * policy. A permission that is not registered, or that the request describes
 * with another type or resource type than the registered one, is DENY with a
 * reason. A conditional decision with resource references is decided per
 * resource; a missing resource is DENY.
 */
export async function authorizeBatch(
  items: readonly AuthorizeRequestItem[],
  principal: Principal,
  policy: Policy,
  registry: PermissionRegistry,
): Promise<AuthorizeResponseItem[]> {
  const decisions = items.map((item) => {
    const definition = registry.getPermission(item.permission.name);
    const reason = definitionMismatch(item, definition);
    return reason ? { reason } : { decision: policy.authorize(principal, item.permission.name) };
  });

  const resources = await loadConditionalResources(items, decisions, registry);

  return items.map((item, index): AuthorizeResponseItem => {
    const entry = decisions[index]!;
    if ('reason' in entry) {
      return { id: item.id, result: 'DENY', reason: entry.reason };
    }

    const { decision } = entry;
    const refs = item.resourceRef;
    if (decision.result === 'CONDITIONAL' && (refs === undefined || refs.length === 0)) {
      return conditionalItem(item.id, decision, registry);
    }
    if (decision.result !== 'CONDITIONAL') {
      // ALLOW and DENY do not depend on the resource: one result per named
      // resource. An empty list gets a single result, because PermissionClient
      // reads result[0] for a request item without a resource.
      const perResource = Array.isArray(refs) && refs.length > 0;
      return {
        id: item.id,
        result: perResource ? refs.map(() => decision.result) : decision.result,
      };
    }

    const lookups = resources.get(decision.resourceType);
    const decide = (ref: string) => decideForResource(decision, lookups?.get(ref), registry);
    return { id: item.id, result: Array.isArray(refs) ? refs.map(decide) : decide(refs!) };
  });
}

/**
 * Turns a decision into ALLOW or DENY for one resource. A CONDITIONAL decision
 * is DENY for a missing resource and the conditions' verdict for a found one;
 * ALLOW and DENY stand whatever the resource, as in Backstage, where only
 * conditional decisions load the resource.
 */
export function decideForResource(
  decision: Decision,
  lookup: ResourceLookup | undefined,
  registry: PermissionRegistry,
): DefinitiveResult {
  if (decision.result !== 'CONDITIONAL') {
    return decision.result;
  }
  if (!lookup?.found) {
    return 'DENY';
  }
  return evaluateCriteria(decision.conditions, lookup.resource, decision.resourceType, registry)
    ? 'ALLOW'
    : 'DENY';
}

/** Adds the resource type to every condition, as Backstage's criteria shape requires. */
export function toBackstageConditions(
  conditions: ConditionCriteria,
  resourceType: string,
): ConditionCriteria {
  return mapConditions(conditions, (condition) => ({
    rule: condition.rule,
    resourceType,
    ...(condition.params ? { params: condition.params } : {}),
  }));
}

/** Finds the registration of a resource type; a type without one is a server fault. */
export function resourceTypeOwner(
  resourceType: string,
  registry: PermissionRegistry,
): PermissionResourceType {
  const owner = registry.getResourceType(resourceType);
  if (!owner) {
    throw new Error(
      `Resource type ${resourceType} has no registered owner: the capability that registers its permissions must call registerResourceType`,
    );
  }
  return owner;
}

/** Loads resources of one type by reference, each reference once. */
export async function loadResources(
  resourceType: string,
  refs: readonly string[],
  registry: PermissionRegistry,
): Promise<Map<string, ResourceLookup>> {
  const unique = [...new Set(refs)];
  if (unique.length === 0) {
    return new Map();
  }

  const found = await resourceTypeOwner(resourceType, registry).getResources(unique);
  return new Map(
    unique.map((ref, index): [string, ResourceLookup] => {
      const resource = found[index];
      return [ref, resource === undefined ? { found: false } : { found: true, resource }];
    }),
  );
}

function conditionalItem(
  id: string,
  decision: Extract<Decision, { result: 'CONDITIONAL' }>,
  registry: PermissionRegistry,
): AuthorizeResponseItem {
  return {
    id,
    result: 'CONDITIONAL',
    pluginId: resourceTypeOwner(decision.resourceType, registry).pluginId,
    resourceType: decision.resourceType,
    conditions: toBackstageConditions(decision.conditions, decision.resourceType),
  };
}

/**
 * Loads every resource named by an item whose decision is CONDITIONAL, with
 * one call per resource type. The result maps resource type, then reference,
 * to the lookup.
 */
async function loadConditionalResources(
  items: readonly AuthorizeRequestItem[],
  decisions: ReadonlyArray<{ reason: string } | { decision: Decision }>,
  registry: PermissionRegistry,
): Promise<Map<string, Map<string, ResourceLookup>>> {
  const refsByType = new Map<string, string[]>();
  items.forEach((item, index) => {
    const entry = decisions[index]!;
    if ('reason' in entry || entry.decision.result !== 'CONDITIONAL') {
      return;
    }
    const refs = item.resourceRef === undefined ? [] : [item.resourceRef].flat();
    const list = refsByType.get(entry.decision.resourceType) ?? [];
    list.push(...refs);
    refsByType.set(entry.decision.resourceType, list);
  });

  const lookups = new Map<string, Map<string, ResourceLookup>>();
  for (const [resourceType, refs] of refsByType) {
    lookups.set(resourceType, await loadResources(resourceType, refs, registry));
  }
  return lookups;
}

/** Explains why the request's permission cannot be decided; undefined when it matches the registry. */
function definitionMismatch(
  item: AuthorizeRequestItem,
  definition: PermissionDefinition | undefined,
): string | undefined {
  const { permission } = item;
  if (!definition) {
    return `permission '${permission.name}' is not registered: see GET /api/permission/permissions for the registered permissions`;
  }

  const registeredType = definition.resourceType ? 'resource' : 'basic';
  if (permission.type !== registeredType) {
    const expected = definition.resourceType
      ? `type 'resource' with resourceType '${definition.resourceType}'`
      : `type 'basic'`;
    return `permission '${permission.name}' is registered as a ${registeredType} permission, not a ${permission.type} one: send ${expected}`;
  }
  if (permission.type === 'resource' && permission.resourceType !== definition.resourceType) {
    return `permission '${permission.name}' has resource type '${definition.resourceType}', not '${permission.resourceType}': send resourceType '${definition.resourceType}'`;
  }
  return undefined;
}
