import { InputError } from '../errors/index.js';
import { parseMemberRef } from './roles-file.js';

/** A time-limited membership of a role, such as a role elevation that a request granted. */
export interface TemporaryMember {
  /** A user or group reference: `user:default/ada`. */
  member: string;
  /** The name of a role in the roles file. */
  role: string;
  /** The membership ends at this moment; an expired one is ignored. */
  expiresAt: Date;
}

interface ActiveMembership {
  role: string;
  expiresAtMs: number;
}

/**
 * The temporary role memberships in force, shared by every Policy that the
 * permission service builds, so a roles file reload keeps them.
 *
 * `version` changes whenever the set of memberships in force changes: on
 * replace() and when the clock passes the earliest expiry. A Policy compares
 * it on each decision and drops its cached plans when it changed, so a grant
 * applies at once and ends exactly at its expiry.
 */
export class TemporaryMembers {
  private byMember = new Map<string, ActiveMembership[]>();
  private nextExpiryMs = Number.POSITIVE_INFINITY;
  private currentVersion = 0;

  /** `now` returns milliseconds since the epoch; tests pass a clock they move. */
  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Replaces every temporary membership with `members`. Throws InputError for
   * a member that is not a user or group reference, and changes nothing then.
   */
  replace(members: readonly TemporaryMember[]): void {
    const nowMs = this.now();
    const byMember = new Map<string, ActiveMembership[]>();
    let nextExpiryMs = Number.POSITIVE_INFINITY;

    for (const { member, role, expiresAt } of members) {
      const ref = parseMemberRef(member);
      if (typeof ref !== 'string') {
        throw new InputError(`Temporary member of role '${role}' is invalid: ${ref.error}`);
      }
      const expiresAtMs = expiresAt.getTime();
      if (Number.isNaN(expiresAtMs)) {
        throw new InputError(
          `Temporary membership of ${member} in role '${role}' has an invalid expiry: use a valid Date`,
        );
      }
      if (expiresAtMs <= nowMs) {
        continue;
      }

      const key = ref.toLowerCase();
      const listed = byMember.get(key);
      if (listed) {
        listed.push({ role, expiresAtMs });
      } else {
        byMember.set(key, [{ role, expiresAtMs }]);
      }
      nextExpiryMs = Math.min(nextExpiryMs, expiresAtMs);
    }

    this.byMember = byMember;
    this.nextExpiryMs = nextExpiryMs;
    this.currentVersion += 1;
  }

  /** Returns the version of the memberships in force, first dropping those that expired. */
  version(): number {
    // With no membership the next expiry is infinite, so decisions read no clock.
    if (this.nextExpiryMs !== Number.POSITIVE_INFINITY && this.now() >= this.nextExpiryMs) {
      this.dropExpired();
    }
    return this.currentVersion;
  }

  /**
   * Lists the roles that the lowercase references hold temporarily, each
   * with the latest expiry among its memberships. Call version() first so
   * that expired memberships are gone.
   */
  rolesOf(identities: readonly string[]): Map<string, Date> {
    const roles = new Map<string, Date>();
    for (const identity of identities) {
      for (const membership of this.byMember.get(identity) ?? []) {
        const known = roles.get(membership.role);
        if (!known || known.getTime() < membership.expiresAtMs) {
          roles.set(membership.role, new Date(membership.expiresAtMs));
        }
      }
    }
    return roles;
  }

  /** Lists the memberships in force, for explanations and tests. */
  list(): TemporaryMember[] {
    this.version();
    return [...this.byMember].flatMap(([member, memberships]) =>
      memberships.map(({ role, expiresAtMs }) => ({
        member,
        role,
        expiresAt: new Date(expiresAtMs),
      })),
    );
  }

  private dropExpired(): void {
    const nowMs = this.now();
    let nextExpiryMs = Number.POSITIVE_INFINITY;
    for (const [member, memberships] of this.byMember) {
      const active = memberships.filter((membership) => membership.expiresAtMs > nowMs);
      if (active.length === 0) {
        this.byMember.delete(member);
        continue;
      }
      this.byMember.set(member, active);
      for (const membership of active) {
        nextExpiryMs = Math.min(nextExpiryMs, membership.expiresAtMs);
      }
    }
    this.nextExpiryMs = nextExpiryMs;
    this.currentVersion += 1;
  }
}
