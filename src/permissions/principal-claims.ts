import type { Principal, PrincipalClaims } from './types.js';

/**
 * A reference written in full whose kind, namespace and name are valid for
 * Backstage (a stricter pattern than Backstage's own). Parsing such a
 * reference and writing it in lowercase gives its lowercase form. Without
 * the `u` flag the pattern matches ASCII letters only: with it, the Kelvin
 * sign would match `k`.
 */
const CANONICAL_REF =
  /^[a-z][a-z0-9]{0,62}:(?=[a-z0-9-]{1,63}\/)[a-z0-9]+(?:-[a-z0-9]+)*\/[a-z0-9](?:[-a-z0-9_.]{0,61}[a-z0-9])?$/i;

/** Most distinct sets of ownership references that ClaimsBuilder shares; it is emptied when full. */
const MAX_SHARED_SETS = 10_000;

/**
 * A principal's claims: its user reference, and its ownership references
 * split into the user's own reference and a set of the others, which
 * principals with the same groups share. Shared sets keep the memory that
 * one decision reads small: in bench/permissions.ts, 8,686 principals had
 * 285 distinct sets of group references.
 */
class OwnershipClaims implements PrincipalClaims {
  /**
   * Length of ownUserRef, or -1 without one. Comparing it first spares
   * reading the text of the user's reference, which lies elsewhere in
   * memory, for references of another length.
   */
  private readonly ownUserRefLength: number;

  constructor(
    readonly userEntityRef: string,
    /** The user's reference when it is one of the ownership references. */
    private readonly ownUserRef: string | undefined,
    private readonly others: ReadonlySet<string>,
  ) {
    this.ownUserRefLength = ownUserRef === undefined ? -1 : ownUserRef.length;
  }

  hasOwnershipRef(ref: string): boolean {
    return (
      (ref.length === this.ownUserRefLength && ref === this.ownUserRef) || this.others.has(ref)
    );
  }
}

/** Builds PrincipalClaims, sharing equal sets of ownership references between principals. */
export class ClaimsBuilder {
  private readonly sets = new Map<string, ReadonlySet<string>>();

  /** Returns the principal's claims, or undefined when one of its references is not canonical. */
  claimsOf(principal: Principal): PrincipalClaims | undefined {
    const user = canonical(principal.userEntityRef);
    // A principal that breaks its type keeps to the plans of its own, which fail as before.
    if (user === undefined || !Array.isArray(principal.ownershipEntityRefs)) {
      return undefined;
    }
    const others: string[] = [];
    let ownUserRef: string | undefined;
    for (const written of principal.ownershipEntityRefs) {
      const ref = canonical(written);
      if (ref === undefined) {
        return undefined;
      }
      if (ref === user) {
        ownUserRef = user;
      } else {
        others.push(ref);
      }
    }
    return new OwnershipClaims(user, ownUserRef, this.sharedSet(others));
  }

  private sharedSet(refs: string[]): ReadonlySet<string> {
    const key = refs.sort().join('\n');
    const known = this.sets.get(key);
    if (known) {
      return known;
    }
    if (this.sets.size >= MAX_SHARED_SETS) {
      this.sets.clear();
    }
    const set = new Set(refs);
    this.sets.set(key, set);
    return set;
  }
}

/** Returns the reference in lowercase, or undefined when it is not canonical. */
function canonical(ref: unknown): string | undefined {
  return typeof ref === 'string' && CANONICAL_REF.test(ref) ? ref.toLowerCase() : undefined;
}
