import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { CatalogDirectory } from '../catalog/index.js';
import type { DatabaseHandle } from '../database/index.js';
import { AuthenticationError } from '../errors/index.js';
import type { Principal } from '../permissions/index.js';
import { type IdentityClaims, resolveSignIn } from './sign-in-resolution.js';
import type { IdentitySessionRow, IdentityTables } from './tables.js';

/**
 * How long a stored principal is trusted before it is resolved again from the
 * catalog, so that membership changes apply to open sessions within about a
 * minute. The same interval limits how often `last_seen_at` is written.
 */
export const PRINCIPAL_REFRESH_MS = 60_000;

/** A session id is 32 random bytes in base64url: 43 characters. */
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The signed-in user as a valid session describes them. */
export interface SessionView {
  principal: Principal;
  displayName: string;
  email?: string;
  expiresAt: Date;
}

export interface SessionsOptions {
  database: DatabaseHandle;
  directory: CatalogDirectory;
  logger: Logger;
  /** Absolute lifetime of a session, `auth.session.maxAgeHours`. */
  maxAgeHours: number;
  transitiveGroupOwnership: boolean;
  clock?: () => Date;
}

export interface Sessions {
  /** Stores a new session for a resolved sign-in and returns its id for the cookie. */
  create(
    principal: Principal,
    claims: IdentityClaims,
  ): Promise<{ sessionId: string; expiresAt: Date }>;
  /**
   * Finds the session of a cookie value. Malformed, unknown and expired ids
   * return undefined; an expired session is deleted on the way.
   */
  find(sessionId: string | undefined): Promise<SessionView | undefined>;
  /** Ends a session; an unknown or malformed id is ignored. */
  delete(sessionId: string | undefined): Promise<void>;
  /** Deletes every expired session; returns how many. */
  deleteExpired(): Promise<number>;
}

export function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

export function createSessions(options: SessionsOptions): Sessions {
  const db = options.database.db as Kysely<IdentityTables>;
  const clock = options.clock ?? (() => new Date());
  const log = options.logger;

  async function remove(idHash: string): Promise<void> {
    await db.deleteFrom('identity_sessions').where('id_hash', '=', idHash).execute();
  }

  /** Resolves the principal again; returns undefined when the user no longer matches. */
  async function refresh(row: IdentitySessionRow, now: Date): Promise<Principal | undefined> {
    const claims = JSON.parse(row.claims) as IdentityClaims;
    let principal: Principal;
    try {
      const resolution = await resolveSignIn(claims, {
        directory: options.directory,
        transitiveGroupOwnership: options.transitiveGroupOwnership,
      });
      principal = resolution.principal;
    } catch (error) {
      if (error instanceof AuthenticationError) {
        log.info({ user: row.user_ref }, 'session ended: the user no longer matches a User entity');
        return undefined;
      }
      throw error;
    }

    if (principal.userEntityRef !== row.user_ref) {
      log.info(
        { user: row.user_ref, resolvedUser: principal.userEntityRef },
        'session ended: its claims now resolve to another User entity',
      );
      return undefined;
    }

    await db
      .updateTable('identity_sessions')
      .set({
        principal: JSON.stringify(principal),
        principal_resolved_at: now.toISOString(),
        last_seen_at: now.toISOString(),
      })
      .where('id_hash', '=', row.id_hash)
      .execute();
    return principal;
  }

  return {
    async create(principal, claims) {
      const now = clock();
      const sessionId = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now.getTime() + options.maxAgeHours * 3_600_000);

      await db
        .insertInto('identity_sessions')
        .values({
          id_hash: hashSessionId(sessionId),
          user_ref: principal.userEntityRef,
          principal: JSON.stringify(principal),
          claims: JSON.stringify(claims),
          principal_resolved_at: now.toISOString(),
          created_at: now.toISOString(),
          last_seen_at: now.toISOString(),
          expires_at: expiresAt.toISOString(),
        })
        .execute();
      return { sessionId, expiresAt };
    },

    async find(sessionId) {
      if (!sessionId || !SESSION_ID_PATTERN.test(sessionId)) {
        return undefined;
      }

      const idHash = hashSessionId(sessionId);
      const row = await db
        .selectFrom('identity_sessions')
        .selectAll()
        .where('id_hash', '=', idHash)
        .executeTakeFirst();
      if (!row) {
        return undefined;
      }

      const now = clock();
      const expiresAt = new Date(row.expires_at);
      if (expiresAt.getTime() <= now.getTime()) {
        await remove(idHash);
        return undefined;
      }

      let principal = JSON.parse(row.principal) as Principal;
      const resolvedAge = now.getTime() - new Date(row.principal_resolved_at).getTime();
      if (resolvedAge >= PRINCIPAL_REFRESH_MS) {
        const refreshed = await refresh(row, now);
        if (!refreshed) {
          await remove(idHash);
          return undefined;
        }
        principal = refreshed;
      } else if (now.getTime() - new Date(row.last_seen_at).getTime() >= PRINCIPAL_REFRESH_MS) {
        await db
          .updateTable('identity_sessions')
          .set({ last_seen_at: now.toISOString() })
          .where('id_hash', '=', idHash)
          .execute();
      }

      const claims = JSON.parse(row.claims) as IdentityClaims;
      const view: SessionView = {
        principal,
        displayName: claims.name ?? claims.preferredUsername ?? principal.userEntityRef,
        expiresAt,
      };
      if (claims.email) {
        view.email = claims.email;
      }
      return view;
    },

    async delete(sessionId) {
      if (!sessionId || !SESSION_ID_PATTERN.test(sessionId)) {
        return;
      }
      await remove(hashSessionId(sessionId));
    },

    async deleteExpired() {
      const result = await db
        .deleteFrom('identity_sessions')
        .where('expires_at', '<=', clock().toISOString())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
