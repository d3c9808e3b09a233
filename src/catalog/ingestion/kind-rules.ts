/** One entry of `catalog.rules` or of a location's `rules`: the kinds it allows. */
export interface KindRule {
  allow: readonly string[];
}

/**
 * Returns the kinds a location may store, lowercased, or undefined when every
 * kind is allowed. As in Backstage, a kind is allowed when any rule that applies
 * allows it: the global rules and the rules of the config location that the
 * entity was reached from. Without any rule, every kind is allowed, because
 * the catalog accepts kinds it does not know.
 */
export function allowedKinds(
  globalRules: readonly KindRule[] | undefined,
  locationRules: readonly KindRule[] | undefined,
): ReadonlySet<string> | undefined {
  if (globalRules === undefined && locationRules === undefined) {
    return undefined;
  }
  const kinds = new Set<string>();
  for (const rule of [...(globalRules ?? []), ...(locationRules ?? [])]) {
    for (const kind of rule.allow) {
      kinds.add(kind.toLowerCase());
    }
  }
  return kinds;
}

/** Compares without case, as Backstage's rules enforcer does. */
export function isKindAllowed(kind: string, allowed: ReadonlySet<string> | undefined): boolean {
  return allowed === undefined || allowed.has(kind.toLowerCase());
}
