import {
  compileCriteria,
  compileSharedCriteria,
  hasAliases,
  type ResourcePredicate,
  type SharedPredicate,
} from './compile-criteria.js';
import { expandAliases } from './conditions.js';
import type { IndexedGrant } from './grant-index.js';
import type { PermissionRegistry } from './registry.js';
import type {
  ConditionCriteria,
  Decision,
  DecisionSource,
  Principal,
  PrincipalClaims,
} from './types.js';

/** Maximum distinct decisions that SharedDecisions keeps. It is emptied when full. */
const MAX_SHARED_DECISIONS = 10_000;

/**
 * Frozen ALLOW and DENY decisions, one per result and list of deciding
 * grants, so that principals with the same grants share one object and a
 * decision allocates nothing.
 */
export class SharedDecisions {
  private readonly decisions = new Map<string, Decision>();

  get(result: 'ALLOW' | 'DENY', grants: readonly IndexedGrant[]): Decision {
    const key = `${result}:${grants.map((grant) => grant.position).join(',')}`;
    const known = this.decisions.get(key);
    if (known) {
      return known;
    }
    const decidedBy = Object.freeze(grants.map((grant) => grant.source)) as DecisionSource[];
    const decision: Decision = Object.freeze({ result, decidedBy });
    if (this.decisions.size >= MAX_SHARED_DECISIONS) {
      this.decisions.clear();
    }
    this.decisions.set(key, decision);
    return decision;
  }
}

/**
 * Plans what one permission decides from the grants that apply, in roles
 * file order. Deny beats allow: an unconditional deny decides, no allow
 * denies, and an unconditional allow with no deny allows. Those cases return
 * their decision. Any other returns the conditions that decide per resource.
 * Without a principal these are a SharedConditionalPlan, or undefined when
 * the conditions cannot be shared. With one, they are a ConditionalPlan for
 * that principal.
 */
export function planDecision(
  grants: readonly IndexedGrant[],
  principal: Principal,
  resourceType: string,
  registry: PermissionRegistry,
  shared: SharedDecisions,
): Decision | ConditionalPlan;
export function planDecision(
  grants: readonly IndexedGrant[],
  principal: undefined,
  resourceType: string,
  registry: PermissionRegistry,
  shared: SharedDecisions,
): Decision | SharedConditionalPlan | undefined;
export function planDecision(
  grants: readonly IndexedGrant[],
  principal: Principal | undefined,
  resourceType: string,
  registry: PermissionRegistry,
  shared: SharedDecisions,
): Decision | ConditionalPlan | SharedConditionalPlan | undefined {
  const denies = grants.filter((grant) => grant.source.effect === 'deny');
  const allows = grants.filter((grant) => grant.source.effect === 'allow');

  const unconditionalDeny = denies.filter((grant) => !grant.conditions);
  if (unconditionalDeny.length > 0) {
    return shared.get('DENY', unconditionalDeny);
  }
  if (allows.length === 0) {
    return shared.get('DENY', []);
  }

  const unconditionalAllow = allows.filter((grant) => !grant.conditions);
  if (unconditionalAllow.length > 0 && denies.length === 0) {
    return shared.get('ALLOW', unconditionalAllow);
  }
  const conditions = new GrantConditions(
    unconditionalAllow.length > 0 ? [] : allows,
    denies,
    [...(unconditionalAllow.length > 0 ? unconditionalAllow : allows), ...denies],
    resourceType,
    shared,
  );
  return principal
    ? new ConditionalPlan(conditions, principal, registry)
    : SharedConditionalPlan.create(conditions, registry);
}

/**
 * The conditional allow grants (none when an unconditional allow applies)
 * and the conditional deny grants of a permission, with the decisions that
 * name them.
 */
class GrantConditions {
  readonly allowed: Decision;
  readonly denied: Decision;

  constructor(
    readonly allows: readonly IndexedGrant[],
    /** Deny grants, all of them conditional. */
    readonly denies: readonly IndexedGrant[],
    private readonly deciding: readonly IndexedGrant[],
    readonly resourceType: string,
    shared: SharedDecisions,
  ) {
    this.allowed = shared.get('ALLOW', deciding);
    this.denied = shared.get('DENY', deciding);
  }

  /** Builds the CONDITIONAL decision anew for each call, so callers may change it. */
  conditionalDecision(principal: Principal): Decision {
    const parts: ConditionCriteria[] = [];
    const allowCriteria = criteriaOf(this.allows, principal);
    if (allowCriteria) {
      parts.push(allowCriteria);
    }
    const denyCriteria = criteriaOf(this.denies, principal);
    if (denyCriteria) {
      parts.push({ not: denyCriteria });
    }
    return {
      result: 'CONDITIONAL',
      resourceType: this.resourceType,
      conditions: parts.length === 1 ? parts[0]! : { allOf: parts },
      decidedBy: this.deciding.map((grant) => grant.source),
    };
  }
}

/**
 * Joins the grants' conditions with `anyOf`, with the principal's aliases
 * expanded or, without a principal, as written; undefined for no grants.
 */
function criteriaOf(
  grants: readonly IndexedGrant[],
  principal: Principal | undefined,
): ConditionCriteria | undefined {
  if (grants.length === 0) {
    return undefined;
  }
  const items = grants.map((grant) =>
    principal ? expandAliases(grant.conditions!, principal) : grant.conditions!,
  );
  return items.length === 1 ? items[0]! : { anyOf: items };
}

/**
 * A permission that conditions decide for one principal. Without a resource
 * it returns CONDITIONAL with the aliases expanded. For a resource it runs
 * the compiled conditional allows (none when an unconditional allow
 * applies), then the compiled conditional denies.
 */
export class ConditionalPlan {
  /** The conditions are compiled on the first resource, not for CONDITIONAL decisions. */
  private compiled = false;
  /** The conditional allows; undefined when an unconditional allow applies. */
  private allow: ResourcePredicate | undefined;
  /** The conditional denies; undefined when there are none. */
  private deny: ResourcePredicate | undefined;

  constructor(
    private readonly conditions: GrantConditions,
    private readonly principal: Principal,
    private readonly registry: PermissionRegistry,
  ) {}

  decide(resource: unknown): Decision {
    if (resource === undefined) {
      return this.conditions.conditionalDecision(this.principal);
    }
    if (!this.compiled) {
      this.compile();
    }
    if (this.allow !== undefined && !this.allow(resource)) {
      return this.conditions.denied;
    }
    if (this.deny?.(resource)) {
      return this.conditions.denied;
    }
    return this.conditions.allowed;
  }

  private compile(): void {
    const { allows, denies, resourceType } = this.conditions;
    const allow = criteriaOf(allows, this.principal);
    const deny = criteriaOf(denies, this.principal);
    this.allow = allow && compileCriteria(allow, resourceType, this.registry);
    this.deny = deny && compileCriteria(deny, resourceType, this.registry);
    this.compiled = true;
  }
}

/** Claims for shared plans without aliases, which never read them. */
const NO_CLAIMS: PrincipalClaims = Object.freeze({
  userEntityRef: '',
  hasOwnershipRef: () => false,
});

/**
 * A permission that conditions decide, compiled once for every principal
 * with the same roles: conditions with aliases read the principal's claims
 * instead of being expanded. It decides each resource as a ConditionalPlan
 * for the principal would.
 */
export class SharedConditionalPlan {
  private constructor(
    private readonly conditions: GrantConditions,
    /** The conditional allows; undefined when an unconditional allow applies. */
    private readonly allow: SharedPredicate | undefined,
    /** The conditional denies; undefined when there are none. */
    private readonly deny: SharedPredicate | undefined,
    /** A condition has an alias, so deciding a resource needs the principal's claims. */
    readonly needsClaims: boolean,
  ) {}

  /** Compiles the conditions; undefined when a condition with an alias cannot be shared. */
  static create(
    conditions: GrantConditions,
    registry: PermissionRegistry,
  ): SharedConditionalPlan | undefined {
    const allowCriteria = criteriaOf(conditions.allows, undefined);
    const denyCriteria = criteriaOf(conditions.denies, undefined);
    const allow =
      allowCriteria && compileSharedCriteria(allowCriteria, conditions.resourceType, registry);
    const deny =
      denyCriteria && compileSharedCriteria(denyCriteria, conditions.resourceType, registry);
    if ((allowCriteria && !allow) || (denyCriteria && !deny)) {
      return undefined;
    }
    const needsClaims = hasAliases(allowCriteria) || hasAliases(denyCriteria);
    return new SharedConditionalPlan(conditions, allow, deny, needsClaims);
  }

  /**
   * Decides for the principal; `claims` must be the principal's when
   * needsClaims is set, and may be undefined otherwise.
   */
  decide(resource: unknown, principal: Principal, claims: PrincipalClaims | undefined): Decision {
    if (resource === undefined) {
      return this.conditions.conditionalDecision(principal);
    }
    const principalClaims = claims ?? NO_CLAIMS;
    if (this.allow !== undefined && !this.allow(resource, principalClaims)) {
      return this.conditions.denied;
    }
    if (this.deny?.(resource, principalClaims)) {
      return this.conditions.denied;
    }
    return this.conditions.allowed;
  }
}
