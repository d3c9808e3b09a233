export type PermissionAction = 'create' | 'read' | 'update' | 'delete' | 'use';

/** A permission that a capability registers: what can be granted in a roles file. */
export interface PermissionDefinition {
  /** Dotted name such as `catalog.entity.read`. */
  name: string;
  /** Resource type for resource permissions (`catalog-entity`); absent for basic permissions. */
  resourceType?: string;
  action: PermissionAction;
  description: string;
}

/**
 * Who is asking. Identity builds it at sign-in from the user's claims and the
 * catalog; every permission check receives it. Policy.authorize may freeze
 * the object and its arrays on first use, because it keeps decision plans
 * per principal object: build a new principal instead of changing one.
 */
export interface Principal {
  /** The user's entity reference, lowercase: `user:default/ada`. */
  userEntityRef: string;
  /** References whose ownership counts as the user's: the user and their groups. */
  ownershipEntityRefs: string[];
  /** Every group the user belongs to, directly or through group parents. */
  groupEntityRefs: string[];
}

/**
 * An optional part of a permission rule: prepares its in-memory check once
 * for a value of parsed parameters, so that work which depends only on the
 * parameters is not repeated for each resource. The check must decide every
 * resource as the rule's `apply` does with the same parameters.
 */
export interface CompilablePermissionRule<TResource, TParams> {
  compile(params: TParams): (resource: TResource) => boolean;
  /**
   * Optional: prepares one check for parameters that still hold the aliases
   * `$currentUser` and `$ownerRefs`, unparsed, so that principals with the
   * same roles share it. The check reads the principal's references from
   * the PrincipalClaims it receives. For any principal it must decide as
   * `compile` does on the parameters with the aliases expanded. Returns
   * undefined for parameters it cannot prepare this way, including
   * parameters its schema rejects; those are then expanded per principal.
   */
  compileWithAliases?(
    params: Record<string, unknown> | undefined,
  ): ((resource: TResource, claims: PrincipalClaims) => boolean) | undefined;
}

/**
 * The references that the aliases expand to, in lowercase, as checks
 * prepared by CompilablePermissionRule.compileWithAliases read them. Policy
 * builds one only for a principal whose references are all written in full
 * with valid parts (`group:default/team-a`), so that a rule which
 * normalises references finds them already normalised.
 */
export interface PrincipalClaims {
  /** The user's reference in lowercase, for `$currentUser`. */
  readonly userEntityRef: string;
  /** Returns whether a lowercase reference is one of those that `$ownerRefs` expands to. */
  hasOwnershipRef(ref: string): boolean;
}

/** A leaf of a condition in Backstage's shape: a rule and its parameters. */
export interface PermissionCondition {
  rule: string;
  resourceType?: string;
  params?: Record<string, unknown>;
}

/** Conditions combined with Backstage's `allOf`, `anyOf` and `not`. */
export type PermissionCriteria<T> =
  | { allOf: PermissionCriteria<T>[] }
  | { anyOf: PermissionCriteria<T>[] }
  | { not: PermissionCriteria<T> }
  | T;

export type ConditionCriteria = PermissionCriteria<PermissionCondition>;

/** The role and grant behind a decision, for explanations and audit records. */
export interface DecisionSource {
  role: string;
  /** Index of the grant within the role, from 0. */
  grant: number;
  effect: 'allow' | 'deny';
}

export type Decision =
  | { result: 'ALLOW'; decidedBy: DecisionSource[] }
  | { result: 'DENY'; decidedBy: DecisionSource[] }
  | {
      result: 'CONDITIONAL';
      resourceType: string;
      conditions: ConditionCriteria;
      decidedBy: DecisionSource[];
    };

export function isAllOf<T>(
  criteria: PermissionCriteria<T>,
): criteria is { allOf: PermissionCriteria<T>[] } {
  return typeof criteria === 'object' && criteria !== null && 'allOf' in criteria;
}

export function isAnyOf<T>(
  criteria: PermissionCriteria<T>,
): criteria is { anyOf: PermissionCriteria<T>[] } {
  return typeof criteria === 'object' && criteria !== null && 'anyOf' in criteria;
}

export function isNot<T>(
  criteria: PermissionCriteria<T>,
): criteria is { not: PermissionCriteria<T> } {
  return typeof criteria === 'object' && criteria !== null && 'not' in criteria;
}
