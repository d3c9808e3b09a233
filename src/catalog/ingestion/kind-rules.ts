/** One entry of `catalog.rules` or of a location's `rules`: the kinds it allows. */
export interface KindRule {
  allow: readonly string[];
}

/**
 * The kinds that one config location and every location below it may store,
 * as plain data that can be sent to a worker thread.
 */
export interface KindPolicy {
  /** Lowercase kinds that a global rule or a rule of the config location allows. */
  allowed: readonly string[];
  /** True when `catalog.rules` is unset, which allows every kind but User and Group as well. */
  allowsUnlisted: boolean;
}

/**
 * Kinds that only a rule may allow, because group membership decides
 * ownership and roles. Anyone who could write a User or Group entity could
 * make themselves an owner or an admin.
 */
export const TRUSTED_ONLY_KINDS: ReadonlySet<string> = new Set(['user', 'group']);

/** The policy of a location without rules while `catalog.rules` is unset. */
export const DEFAULT_KIND_POLICY: KindPolicy = { allowed: [], allowsUnlisted: true };

/**
 * Builds the policy of a config location. As in Backstage, a kind is allowed
 * when any rule that applies allows it: a global rule or a rule of the config
 * location that the entity was reached from. When `catalog.rules` is unset,
 * every kind is allowed too, because the catalog accepts kinds it does not
 * know, except User and Group, which need an explicit rule.
 */
export function createKindPolicy(
  globalRules: readonly KindRule[] | undefined,
  locationRules: readonly KindRule[] | undefined,
): KindPolicy {
  const kinds = new Set<string>();
  for (const rule of [...(globalRules ?? []), ...(locationRules ?? [])]) {
    for (const kind of rule.allow) {
      kinds.add(kind.toLowerCase());
    }
  }
  return { allowed: [...kinds].sort(), allowsUnlisted: globalRules === undefined };
}

/** Compares without case, as Backstage's rules enforcer does. */
export function isKindAllowed(kind: string, policy: KindPolicy): boolean {
  const lower = kind.toLowerCase();
  if (policy.allowed.includes(lower)) {
    return true;
  }
  return policy.allowsUnlisted && !TRUSTED_ONLY_KINDS.has(lower);
}

/** Builds a stable key of the policy, for caches. */
export function kindPolicyKey(policy: KindPolicy): string {
  return `${policy.allowsUnlisted ? '*' : ''}${policy.allowed.join(',')}`;
}
