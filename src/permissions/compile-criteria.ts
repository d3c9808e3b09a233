import { parseRuleParams } from './conditions.js';
import type { AnyPermissionRule, PermissionRegistry } from './registry.js';
import {
  type CompilablePermissionRule,
  type ConditionCriteria,
  isAllOf,
  isAnyOf,
  isNot,
  type PermissionCondition,
} from './types.js';

/** A compiled condition: decides whether one resource meets it. */
export type ResourcePredicate = (resource: unknown) => boolean;

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
  if (isAllOf(criteria)) {
    return compileAllOf(
      criteria.allOf.map((item) => compileCriteria(item, resourceType, registry)),
    );
  }
  if (isAnyOf(criteria)) {
    return compileAnyOf(
      criteria.anyOf.map((item) => compileCriteria(item, resourceType, registry)),
    );
  }
  if (isNot(criteria)) {
    const item = compileCriteria(criteria.not, resourceType, registry);
    return (resource) => !item(resource);
  }

  const condition = criteria as PermissionCondition;
  const rule = registry.getRule(resourceType, condition.rule);
  if (!rule) {
    // As in evaluateCriteria: roles are validated at load, so failing closed is the safe result.
    return () => false;
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
function compileAllOf(items: ResourcePredicate[]): ResourcePredicate {
  const [first, second] = items;
  if (items.length === 1 && first) {
    return first;
  }
  if (items.length === 2 && first && second) {
    return (resource) => first(resource) && second(resource);
  }
  return (resource) => {
    for (const item of items) {
      if (!item(resource)) {
        return false;
      }
    }
    return true;
  };
}

function compileAnyOf(items: ResourcePredicate[]): ResourcePredicate {
  const [first, second] = items;
  if (items.length === 1 && first) {
    return first;
  }
  if (items.length === 2 && first && second) {
    return (resource) => first(resource) || second(resource);
  }
  return (resource) => {
    for (const item of items) {
      if (item(resource)) {
        return true;
      }
    }
    return false;
  };
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
