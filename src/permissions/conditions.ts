import { z } from 'zod';
import type { ErrorDetail } from '../errors/index.js';
import type { AnyPermissionRule, PermissionRegistry } from './registry.js';
import {
  type ConditionCriteria,
  isAllOf,
  isAnyOf,
  isNot,
  type PermissionCondition,
  type PermissionCriteria,
  type Principal,
} from './types.js';

/** Alias for the signed-in user's entity reference inside rule parameters. */
export const CURRENT_USER_ALIAS = '$currentUser';
/** Alias for the user's ownership references (the user and their groups). */
export const OWNER_REFS_ALIAS = '$ownerRefs';

const conditionSchema = z
  .object({
    rule: z.string().min(1, 'must name a rule such as IS_ENTITY_OWNER'),
    resourceType: z.string().min(1).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** Backstage's criteria shape: a condition, or `allOf`, `anyOf` or `not` around more criteria. */
export const criteriaSchema: z.ZodType<ConditionCriteria> = z.lazy(() =>
  z.union([
    z
      .object({ allOf: z.array(criteriaSchema).min(1, 'must list at least one condition') })
      .strict(),
    z
      .object({ anyOf: z.array(criteriaSchema).min(1, 'must list at least one condition') })
      .strict(),
    z.object({ not: criteriaSchema }).strict(),
    conditionSchema,
  ]),
);

/** Applies `visit` to every condition, keeping the `allOf`/`anyOf`/`not` structure. */
export function mapConditions<T, U>(
  criteria: PermissionCriteria<T>,
  visit: (condition: T) => U,
): PermissionCriteria<U> {
  if (isAllOf(criteria)) {
    return { allOf: criteria.allOf.map((item) => mapConditions(item, visit)) };
  }
  if (isAnyOf(criteria)) {
    return { anyOf: criteria.anyOf.map((item) => mapConditions(item, visit)) };
  }
  if (isNot(criteria)) {
    return { not: mapConditions(criteria.not, visit) };
  }
  return visit(criteria as T);
}

/** Folds criteria into one value, such as a SQL expression or a boolean. */
export function reduceCriteria<T, R>(
  criteria: PermissionCriteria<T>,
  reducer: {
    condition(condition: T): R;
    allOf(items: R[]): R;
    anyOf(items: R[]): R;
    not(item: R): R;
  },
): R {
  if (isAllOf(criteria)) {
    return reducer.allOf(criteria.allOf.map((item) => reduceCriteria(item, reducer)));
  }
  if (isAnyOf(criteria)) {
    return reducer.anyOf(criteria.anyOf.map((item) => reduceCriteria(item, reducer)));
  }
  if (isNot(criteria)) {
    return reducer.not(reduceCriteria(criteria.not, reducer));
  }
  return reducer.condition(criteria as T);
}

/**
 * Replaces `$currentUser` and `$ownerRefs` in the parameters of every
 * condition, at any depth. Inside an array `$ownerRefs` expands in place to
 * all the references; as a lone value it becomes the array itself.
 */
export function expandAliases(
  criteria: ConditionCriteria,
  principal: Principal,
): ConditionCriteria {
  return mapConditions(criteria, (condition) => {
    if (!condition.params) {
      // A copy, so that a caller that changes the result leaves the roles alone.
      return { ...condition };
    }
    return {
      ...condition,
      params: expandValue(condition.params, principal) as Record<string, unknown>,
    };
  });
}

function expandValue(value: unknown, principal: Principal): unknown {
  if (value === CURRENT_USER_ALIAS) {
    return principal.userEntityRef;
  }
  if (value === OWNER_REFS_ALIAS) {
    return [...principal.ownershipEntityRefs];
  }
  if (Array.isArray(value)) {
    return value.flatMap((item) =>
      item === OWNER_REFS_ALIAS ? principal.ownershipEntityRefs : [expandValue(item, principal)],
    );
  }
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      result[key] = expandValue(item, principal);
    }
    return result;
  }
  return value;
}

/** A `claims` parameter split into its written claims and its aliases. */
export interface ClaimsWithAliases {
  /** The claims other than the aliases, as written. */
  written: unknown[];
  /** Whether the claims list `$ownerRefs`. */
  ownerRefs: boolean;
  /** Whether the claims list `$currentUser`. */
  currentUser: boolean;
}

/**
 * Splits a `claims` parameter (a list, or the lone `$ownerRefs`, which
 * expands to a list) into its written claims and its aliases. Returns
 * undefined for any other value, which expandAliases would not make a list.
 */
export function splitClaimAliases(claims: unknown): ClaimsWithAliases | undefined {
  const items = claims === OWNER_REFS_ALIAS ? [OWNER_REFS_ALIAS] : claims;
  if (!Array.isArray(items)) {
    return undefined;
  }
  return {
    written: items.filter((item) => item !== OWNER_REFS_ALIAS && item !== CURRENT_USER_ALIAS),
    ownerRefs: items.includes(OWNER_REFS_ALIAS),
    currentUser: items.includes(CURRENT_USER_ALIAS),
  };
}

/** A principal used only to check that parameters with aliases fit a rule's schema. */
const SAMPLE_PRINCIPAL: Principal = {
  userEntityRef: 'user:default/sample',
  ownershipEntityRefs: ['user:default/sample', 'group:default/sample'],
  groupEntityRefs: ['group:default/sample'],
};

/**
 * Checks that every condition names a rule registered for the resource type
 * and that its parameters fit the rule. Returns one fault per problem.
 */
export function validateCriteria(
  criteria: ConditionCriteria,
  resourceType: string,
  registry: PermissionRegistry,
  locate: (path: readonly PropertyKey[]) => string,
  path: readonly PropertyKey[] = [],
): ErrorDetail[] {
  if (isAllOf(criteria)) {
    return criteria.allOf.flatMap((item, index) =>
      validateCriteria(item, resourceType, registry, locate, [...path, 'allOf', index]),
    );
  }
  if (isAnyOf(criteria)) {
    return criteria.anyOf.flatMap((item, index) =>
      validateCriteria(item, resourceType, registry, locate, [...path, 'anyOf', index]),
    );
  }
  if (isNot(criteria)) {
    return validateCriteria(criteria.not, resourceType, registry, locate, [...path, 'not']);
  }

  const condition = criteria as PermissionCondition;
  if (condition.resourceType !== undefined && condition.resourceType !== resourceType) {
    return [
      {
        path: locate([...path, 'resourceType']),
        value: condition.resourceType,
        message: `'${condition.resourceType}' does not match the permission's resource type '${resourceType}'`,
      },
    ];
  }

  const rule = registry.getRule(resourceType, condition.rule);
  if (!rule) {
    const known = registry
      .listRules(resourceType)
      .map((candidate) => candidate.name)
      .sort();
    return [
      {
        path: locate([...path, 'rule']),
        value: condition.rule,
        message: `rule '${condition.rule}' is not registered for ${resourceType}: use one of ${known.join(', ') || '(none)'}`,
      },
    ];
  }

  const params = expandValue(condition.params ?? {}, SAMPLE_PRINCIPAL);
  const parsed = rule.paramsSchema.safeParse(params);
  if (parsed.success) {
    return [];
  }
  return parsed.error.issues.map((issue) => ({
    path: locate([...path, 'params', ...issue.path]),
    message: `parameter of ${condition.rule} is invalid: ${issue.message}`,
  }));
}

/** Evaluates criteria against one resource with the rules' in-memory checks. */
export function evaluateCriteria(
  criteria: ConditionCriteria,
  resource: unknown,
  resourceType: string,
  registry: PermissionRegistry,
): boolean {
  if (isAllOf(criteria)) {
    return criteria.allOf.every((item) => evaluateCriteria(item, resource, resourceType, registry));
  }
  if (isAnyOf(criteria)) {
    return criteria.anyOf.some((item) => evaluateCriteria(item, resource, resourceType, registry));
  }
  if (isNot(criteria)) {
    return !evaluateCriteria(criteria.not, resource, resourceType, registry);
  }

  const condition = criteria as PermissionCondition;
  const rule = registry.getRule(resourceType, condition.rule);
  if (!rule) {
    // Roles are validated at load, so this is a programming error; failing closed is the safe answer.
    return false;
  }
  return rule.apply(resource, parseRuleParams(rule, condition.params));
}

/** Parsed parameters per rule, keyed by their JSON, so a rule's schema runs once per distinct value. */
const parsedParams = new WeakMap<AnyPermissionRule, Map<string, unknown>>();

/**
 * Most distinct parameter values kept per rule. The cache is emptied when it
 * is full: values differ per user only through expanded aliases, so a full
 * cache means many users, and rebuilding it costs one parse per value.
 */
const MAX_CACHED_PARAMS = 10_000;

/**
 * Parses a condition's parameters with the rule's schema, reusing the result
 * for equal parameters. Parsing owner claims as entity references took about
 * half the time of a decision on one entity before (bench/permissions.ts).
 */
export function parseRuleParams(
  rule: AnyPermissionRule,
  params: Record<string, unknown> | undefined,
): unknown {
  const key = JSON.stringify(params ?? {});
  let cache = parsedParams.get(rule);
  if (!cache) {
    cache = new Map();
    parsedParams.set(rule, cache);
  }
  if (cache.has(key)) {
    return cache.get(key);
  }
  const parsed = rule.paramsSchema.parse(params ?? {});
  if (cache.size >= MAX_CACHED_PARAMS) {
    cache.clear();
  }
  cache.set(key, parsed);
  return parsed;
}
