import { CURRENT_USER_ALIAS, OWNER_REFS_ALIAS, parseRuleParams } from './conditions.js';
import type { AnyPermissionRule, PermissionRegistry } from './registry.js';
import {
  type CompilablePermissionRule,
  type ConditionCriteria,
  isAllOf,
  isAnyOf,
  isNot,
  type PermissionCondition,
  type PrincipalClaims,
} from './types.js';

/** A compiled condition: decides whether one resource meets it. */
export type ResourcePredicate = (resource: unknown) => boolean;

/**
 * A condition compiled once for every principal whose roles grant it: it
 * reads the principal's references from the claims it receives. A
 * ResourcePredicate is one that needs no claims.
 */
export type SharedPredicate = (resource: unknown, claims: PrincipalClaims) => boolean;

/** Thrown inside compileSharedCriteria when a condition with aliases needs expanding. */
class NeedsExpanding extends Error {}

/**
 * Compiles criteria whose aliases are not expanded into one predicate that
 * principals share, deciding as compileCriteria does on the criteria with
 * the principal's aliases expanded. Returns undefined when a condition with
 * an alias names a rule without `compileWithAliases`, or one that cannot
 * prepare its parameters that way.
 */
export function compileSharedCriteria(
  criteria: ConditionCriteria,
  resourceType: string,
  registry: PermissionRegistry,
): SharedPredicate | undefined {
  try {
    return compileNode(criteria, resourceType, registry, true);
  } catch (error) {
    if (error instanceof NeedsExpanding) {
      return undefined;
    }
    throw error;
  }
}

/**
 * Compiles criteria into one predicate that decides each resource exactly
 * as evaluateCriteria does: the same rules, called in the same order and
 * with the same short-circuits.
 */
export function compileCriteria(
  criteria: ConditionCriteria,
  resourceType: string,
  registry: PermissionRegistry,
): ResourcePredicate {
  // The caller expanded the aliases, so no condition reads the claims.
  return compileNode(criteria, resourceType, registry, false) as ResourcePredicate;
}

function compileNode(
  criteria: ConditionCriteria,
  resourceType: string,
  registry: PermissionRegistry,
  shared: boolean,
): SharedPredicate {
  if (isAllOf(criteria)) {
    return compileAllOf(
      criteria.allOf.map((item) => compileNode(item, resourceType, registry, shared)),
    );
  }
  if (isAnyOf(criteria)) {
    return compileAnyOf(
      criteria.anyOf.map((item) => compileNode(item, resourceType, registry, shared)),
    );
  }
  if (isNot(criteria)) {
    const item = compileNode(criteria.not, resourceType, registry, shared);
    return (resource, claims) => !item(resource, claims);
  }

  const condition = criteria as PermissionCondition;
  const rule = registry.getRule(resourceType, condition.rule);
  if (!rule) {
    // As in evaluateCriteria: roles are validated at load, so failing closed is the safe result.
    return () => false;
  }
  if (shared && hasAliases(condition.params)) {
    const { compileWithAliases } = rule as Partial<CompilablePermissionRule<unknown, unknown>>;
    const check = compileWithAliases?.call(rule, condition.params);
    if (!check) {
      throw new NeedsExpanding();
    }
    return check;
  }
  try {
    return compileRuleCheck(rule, condition.params);
  } catch {
    // Parameters the schema rejects throw when the condition is evaluated, as
    // in evaluateCriteria, so a condition that a short-circuit skips never throws.
    return (resource) => compileRuleCheck(rule, condition.params)(resource);
  }
}

// Lists of one and two items get their own closures, because these are the
// common cases and a closure that calls its items directly is faster than a loop.
function compileAllOf(items: SharedPredicate[]): SharedPredicate {
  const [first, second] = items;
  if (items.length === 1 && first) {
    return first;
  }
  if (items.length === 2 && first && second) {
    return (resource, claims) => first(resource, claims) && second(resource, claims);
  }
  return (resource, claims) => {
    for (const item of items) {
      if (!item(resource, claims)) {
        return false;
      }
    }
    return true;
  };
}

function compileAnyOf(items: SharedPredicate[]): SharedPredicate {
  const [first, second] = items;
  if (items.length === 1 && first) {
    return first;
  }
  if (items.length === 2 && first && second) {
    return (resource, claims) => first(resource, claims) || second(resource, claims);
  }
  return (resource, claims) => {
    for (const item of items) {
      if (item(resource, claims)) {
        return true;
      }
    }
    return false;
  };
}

/** Returns whether expandAliases would change the value: an alias at any depth. */
export function hasAliases(value: unknown): boolean {
  if (value === CURRENT_USER_ALIAS || value === OWNER_REFS_ALIAS) {
    return true;
  }
  if (Array.isArray(value)) {
    return value.some(hasAliases);
  }
  if (value !== null && typeof value === 'object') {
    return Object.values(value).some(hasAliases);
  }
  return false;
}

/** Compiled checks per rule, keyed by the JSON of their parameters, shared by every principal and policy. */
const compiledChecks = new WeakMap<AnyPermissionRule, Map<string, ResourcePredicate>>();

/**
 * Maximum compiled checks kept per rule. The cache is emptied when full,
 * which costs only compiling again, because plans keep the checks they use.
 */
const MAX_COMPILED_CHECKS = 10_000;

/**
 * Returns the rule's check for the parameters: its prepared check
 * (CompilablePermissionRule) or a call of `apply`. Equal parameters share one
 * check, so conditions without aliases are compiled once for all principals.
 */
function compileRuleCheck(
  rule: AnyPermissionRule,
  params: Record<string, unknown> | undefined,
): ResourcePredicate {
  const key = JSON.stringify(params ?? {});
  let cache = compiledChecks.get(rule);
  if (!cache) {
    cache = new Map();
    compiledChecks.set(rule, cache);
  }
  const known = cache.get(key);
  if (known) {
    return known;
  }

  const parsed = parseRuleParams(rule, params);
  const { compile } = rule as Partial<CompilablePermissionRule<unknown, unknown>>;
  const check: ResourcePredicate =
    typeof compile === 'function'
      ? compile.call(rule, parsed)
      : (resource) => rule.apply(resource, parsed);
  if (cache.size >= MAX_COMPILED_CHECKS) {
    cache.clear();
  }
  cache.set(key, check);
  return check;
}
