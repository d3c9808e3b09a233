import {
  decideForResource,
  loadResources,
  type ResourceLookup,
  resourceTypeOwner,
  toBackstageConditions,
} from './authorize-batch.js';
import { evaluateCriteria, expandAliases } from './conditions.js';
import type { ApplicableGrant, Policy } from './policy.js';
import type { PermissionRegistry } from './registry.js';
import {
  type ConditionCriteria,
  type DecisionSource,
  isAllOf,
  isAnyOf,
  isNot,
  type PermissionCondition,
  type PermissionDefinition,
  type Principal,
} from './types.js';

/** Criteria as in Backstage's shape, with whether each node matched the resource. */
export type ExplainedCriteria =
  | { allOf: ExplainedCriteria[]; matched?: boolean }
  | { anyOf: ExplainedCriteria[]; matched?: boolean }
  | { not: ExplainedCriteria; matched?: boolean }
  | (PermissionCondition & { matched?: boolean });

/** One grant that applies to the user, and its part in the decision. */
export interface ExplainedGrant {
  role: string;
  /** Index of the grant within the role, from 0. */
  grant: number;
  effect: 'allow' | 'deny';
  /** The user's own reference or groups through which the user is a member of the role. */
  via: string[];
  allSignedInUsers: boolean;
  /** End of the temporary membership, such as a role elevation, through which the grant applies. */
  temporaryUntil?: string;
  /** Whether the grant is among the decision's `decidedBy`. */
  decisive: boolean;
  /** The grant's conditions with aliases expanded; `matched` appears when a resource was found. */
  conditions?: ExplainedCriteria;
  /** Whether the resource matched the conditions; present only for a found resource. */
  matched?: boolean;
}

/** Response body of the explain route. */
export interface Explanation {
  user: string;
  groups: string[];
  ownershipRefs: string[];
  permission: { name: string; type: 'basic' | 'resource'; resourceType?: string };
  resourceRef?: string;
  /** Present with a resourceRef: whether the resource exists. */
  resourceFound?: boolean;
  result: 'ALLOW' | 'DENY' | 'CONDITIONAL';
  /** With CONDITIONAL: the owner's plugin id, the resource type and the combined conditions. */
  pluginId?: string;
  resourceType?: string;
  conditions?: ConditionCriteria;
  decidedBy: DecisionSource[];
  grants: ExplainedGrant[];
}

/**
 * Explains the decision for a principal: the result as the authorize route
 * returns it, every grant of the permission that applies to the principal,
 * and, for a found resource, whether each condition matched it.
 */
export async function explainDecision(
  principal: Principal,
  permission: PermissionDefinition,
  resourceRef: string | undefined,
  policy: Policy,
  registry: PermissionRegistry,
): Promise<Explanation> {
  const decision = policy.authorize(principal, permission.name);
  const resourceType = permission.resourceType;

  let lookup: ResourceLookup | undefined;
  if (resourceRef !== undefined && resourceType !== undefined) {
    const lookups = await loadResources(resourceType, [resourceRef], registry);
    lookup = lookups.get(resourceRef);
  }
  const resource = lookup?.found ? lookup.resource : undefined;

  const explanation: Explanation = {
    user: principal.userEntityRef,
    groups: principal.groupEntityRefs,
    ownershipRefs: principal.ownershipEntityRefs,
    permission: {
      name: permission.name,
      type: resourceType ? 'resource' : 'basic',
      ...(resourceType ? { resourceType } : {}),
    },
    result: decision.result,
    decidedBy: decision.decidedBy,
    grants: [],
  };

  if (resourceRef !== undefined) {
    explanation.resourceRef = resourceRef;
    explanation.resourceFound = lookup?.found ?? false;
    explanation.result = decideForResource(decision, lookup, registry);
  } else if (decision.result === 'CONDITIONAL') {
    explanation.pluginId = resourceTypeOwner(decision.resourceType, registry).pluginId;
    explanation.resourceType = decision.resourceType;
    explanation.conditions = toBackstageConditions(decision.conditions, decision.resourceType);
  }

  const decisive = new Set(decision.decidedBy.map(sourceKey));
  explanation.grants = policy
    .applicableGrants(principal, permission.name)
    .map((grant) =>
      explainGrant(
        grant,
        decisive.has(sourceKey(grant.source)),
        principal,
        resource,
        resourceType,
        registry,
      ),
    );
  return explanation;
}

function explainGrant(
  grant: ApplicableGrant,
  decisive: boolean,
  principal: Principal,
  resource: unknown,
  resourceType: string | undefined,
  registry: PermissionRegistry,
): ExplainedGrant {
  const explained: ExplainedGrant = {
    role: grant.source.role,
    grant: grant.source.grant,
    effect: grant.source.effect,
    via: grant.via,
    allSignedInUsers: grant.allSignedInUsers,
    ...(grant.temporaryUntil ? { temporaryUntil: grant.temporaryUntil.toISOString() } : {}),
    decisive,
  };
  if (!grant.conditions || resourceType === undefined) {
    return explained;
  }

  const expanded = toBackstageConditions(expandAliases(grant.conditions, principal), resourceType);
  explained.conditions = annotateCriteria(expanded, resource, resourceType, registry);
  if (resource !== undefined) {
    explained.matched = evaluateCriteria(expanded, resource, resourceType, registry);
  }
  return explained;
}

/** Copies the criteria and, when a resource is given, marks every node with whether it matched. */
function annotateCriteria(
  criteria: ConditionCriteria,
  resource: unknown,
  resourceType: string,
  registry: PermissionRegistry,
): ExplainedCriteria {
  const annotate = (item: ConditionCriteria) =>
    annotateCriteria(item, resource, resourceType, registry);
  const mark = <T extends object>(node: T, matched: () => boolean): T & { matched?: boolean } =>
    resource === undefined ? node : { ...node, matched: matched() };

  if (isAllOf(criteria)) {
    const children = criteria.allOf.map(annotate);
    return mark({ allOf: children }, () => children.every((child) => child.matched === true));
  }
  if (isAnyOf(criteria)) {
    const children = criteria.anyOf.map(annotate);
    return mark({ anyOf: children }, () => children.some((child) => child.matched === true));
  }
  if (isNot(criteria)) {
    const child = annotate(criteria.not);
    return mark({ not: child }, () => child.matched === false);
  }
  const condition = criteria as PermissionCondition;
  return mark({ ...condition }, () =>
    evaluateCriteria(condition, resource, resourceType, registry),
  );
}

function sourceKey(source: DecisionSource): string {
  return `${source.role}\u0000${source.grant}`;
}
