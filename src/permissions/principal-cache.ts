import type { Principal } from './types.js';

interface Entry<T> {
  /** The frozen principal the value was built for. */
  principal: Principal;
  value: T;
}

/**
 * Values built once per principal and reused by later calls.
 *
 * A principal object is looked up by identity first, then by user
 * reference, and a value found by reference is reused only when the group
 * and ownership references are the same, in the same order, as when it was
 * built. So a principal that sign-in resolved again after a catalog change
 * of group membership gets a new value.
 *
 * The principal object that a value is built for is frozen with its arrays,
 * so it cannot change after its first decision: an attempt throws instead
 * of leaving a stale value in use. Later calls with that object find the
 * value by identity alone. Another object with the same references is
 * neither frozen nor remembered by identity, because the server builds one
 * per request. Remembering each one cost more than looking it up by
 * references: on the requests of bench/permissions.ts with a new object for
 * each decision, about 380,000 against 520,000 decisions per second. At most `maxEntries` values (at
 * least one) are kept, and the oldest is dropped when the cache is full.
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
    const key = principal.userEntityRef;
    const entry = this.entries.get(key);
    if (
      entry &&
      sameItems(entry.principal.groupEntityRefs, principal.groupEntityRefs) &&
      sameItems(entry.principal.ownershipEntityRefs, principal.ownershipEntityRefs)
    ) {
      return entry.value;
    }

    Object.freeze(principal.groupEntityRefs);
    Object.freeze(principal.ownershipEntityRefs);
    Object.freeze(principal);
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
    this.byObject.set(principal, value);
    return value;
  }
}

function sameItems(cached: readonly string[], current: readonly string[]): boolean {
  // A principal that breaks its type gets a new value on each call.
  if (!Array.isArray(cached) || !Array.isArray(current) || cached.length !== current.length) {
    return false;
  }
  for (let index = 0; index < cached.length; index++) {
    if (cached[index] !== current[index]) {
      return false;
    }
  }
  return true;
}
