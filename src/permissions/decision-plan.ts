import { compileCriteria, type ResourcePredicate } from './compile-criteria.js';
import { expandAliases } from './conditions.js';
import type { IndexedGrant } from './grant-index.js';
import type { PermissionRegistry } from './registry.js';
import type { ConditionCriteria, Decision, DecisionSource, Principal } from './types.js';

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
 * Plans what one permission decides for one principal from the grants that
 * apply to it, in roles file order. Deny beats allow: an unconditional deny
 * decides, no allow denies, and an unconditional allow with no deny allows.
 * Those cases return their decision; any other returns a ConditionalPlan,
 * which decides per resource.
 */
export function planDecision(
  grants: readonly IndexedGrant[],
  principal: Principal,
  resourceType: string,
  registry: PermissionRegistry,
  shared: SharedDecisions,
): Decision | ConditionalPlan {
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
  return new ConditionalPlan(
    unconditionalAllow.length > 0 ? [] : allows,
    denies,
    [...(unconditionalAllow.length > 0 ? unconditionalAllow : allows), ...denies],
    principal,
    resourceType,
    registry,
    shared,
  );
}

/**
 * A permission that conditions decide for one principal. Without a resource
 * it returns CONDITIONAL with the aliases expanded. For a resource it runs
 * the compiled conditional allows (none when an unconditional allow
 * applies), then the compiled conditional denies.
 */
export class ConditionalPlan {
  private readonly allowed: Decision;
  private readonly denied: Decision;
  /** The conditions are compiled on the first resource, not for CONDITIONAL decisions. */
  private compiled = false;
  /** The conditional allows; undefined when an unconditional allow applies. */
  private allow: ResourcePredicate | undefined;
  /** The conditional denies; undefined when there are none. */
  private deny: ResourcePredicate | undefined;

  constructor(
    /** Conditional allow grants, or none when an unconditional allow applies. */
    private readonly allows: readonly IndexedGrant[],
    /** Deny grants, all of them conditional. */
    private readonly denies: readonly IndexedGrant[],
    private readonly deciding: readonly IndexedGrant[],
    private readonly principal: Principal,
    private readonly resourceType: string,
    private readonly registry: PermissionRegistry,
    shared: SharedDecisions,
  ) {
    this.allowed = shared.get('ALLOW', deciding);
    this.denied = shared.get('DENY', deciding);
  }

  decide(resource: unknown): Decision {
    if (resource === undefined) {
      return this.conditionalDecision();
    }
    if (!this.compiled) {
      this.compile();
    }
    if (this.allow !== undefined && !this.allow(resource)) {
      return this.denied;
    }
    if (this.deny?.(resource)) {
      return this.denied;
    }
    return this.allowed;
  }

  /** Builds the CONDITIONAL decision anew for each call, so callers may change it. */
  private conditionalDecision(): Decision {
    const parts: ConditionCriteria[] = [];
    const allowCriteria = this.criteriaOf(this.allows);
    if (allowCriteria) {
      parts.push(allowCriteria);
    }
    const denyCriteria = this.criteriaOf(this.denies);
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

  private compile(): void {
    const allow = this.criteriaOf(this.allows);
    const deny = this.criteriaOf(this.denies);
    this.allow = allow && compileCriteria(allow, this.resourceType, this.registry);
    this.deny = deny && compileCriteria(deny, this.resourceType, this.registry);
    this.compiled = true;
  }

  /** Joins the grants' conditions with `anyOf`, aliases expanded; undefined for no grants. */
  private criteriaOf(grants: readonly IndexedGrant[]): ConditionCriteria | undefined {
    if (grants.length === 0) {
      return undefined;
    }
    const items = grants.map((grant) => expandAliases(grant.conditions!, this.principal));
    return items.length === 1 ? items[0]! : { anyOf: items };
  }
}
