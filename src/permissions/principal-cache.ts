import type { Principal } from './types.js';

interface Entry<T> {
  /** The frozen principal the value was built for. */
  principal: Principal;
  value: T;
}

/**
 * Values built once per principal and reused by later calls.
 *
 * The first call with a principal object freezes it and its arrays, so it
 * cannot change after its first decision: an attempt to change it throws
 * instead of leaving a stale value in use. Later calls with the same object
 * find the value by identity alone.
 *
 * A new principal object is looked up by user reference, and the value is
 * reused only when the group and ownership references are the same, in the
 * same order, as when it was built. So a principal that sign-in resolved
 * again after a catalog change of group membership gets a new value. At most
 * `maxEntries` values (at least one) are kept this way, and the oldest is
 * dropped when the cache is full.
 */
export class PrincipalCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly byObject = new WeakMap<Principal, T>();

  constructor(
    private readonly maxEntries: number,
    /** Receives the frozen principal. */
    private readonly build: (principal: Principal) => T,
  ) {}

  /** Returns the value for the principal, building it on the first call or after a change. */
  get(principal: Principal): T {
    const known = this.byObject.get(principal);
    if (known !== undefined) {
      return known;
    }
    Object.freeze(principal.groupEntityRefs);
    Object.freeze(principal.ownershipEntityRefs);
    Object.freeze(principal);
    const value = this.getByReferences(principal);
    this.byObject.set(principal, value);
    return value;
  }

  private getByReferences(principal: Principal): T {
    const key = principal.userEntityRef;
    const entry = this.entries.get(key);
    if (
      entry &&
      sameItems(entry.principal.groupEntityRefs, principal.groupEntityRefs) &&
      sameItems(entry.principal.ownershipEntityRefs, principal.ownershipEntityRefs)
    ) {
      return entry.value;
    }

    if (entry) {
      this.entries.delete(key);
    } else if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        this.entries.delete(oldest.value);
      }
    }
    const value = this.build(principal);
    this.entries.set(key, { principal, value });
    return value;
  }
}

function sameItems(cached: readonly string[], current: readonly string[]): boolean {
  if (cached.length !== current.length) {
    return false;
  }
  for (let index = 0; index < cached.length; index++) {
    if (cached[index] !== current[index]) {
      return false;
    }
  }
  return true;
}
