import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { CatalogDirectory } from '../catalog/index.js';
import type { DatabaseHandle } from '../database/index.js';
import { AuthenticationError } from '../errors/index.js';
import type { Principal } from '../permissions/index.js';
import type { GroupMapper } from './group-mapping.js';
import { type IdentityClaims, resolveSignIn } from './sign-in-resolution.js';
import type { IdentitySessionRow, IdentityTables } from './tables.js';

/**
 * How long a stored principal is trusted before it is resolved again from the
 * catalog even though the catalog version did not change. The version
 * catches every change that the catalog commits, so this only bounds the
 * delay of the changes it misses (see readCatalogVersion). The same interval
 * bounds how often `last_seen_at` is written.
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
  /** `auth.session.idleTimeoutMinutes`; undefined means no idle limit. */
  idleTimeoutMinutes?: number;
  transitiveGroupOwnership: boolean;
  /** `auth.oidc.groupMapping` in effect; without it, claim values are Group names. */
  mapGroups?: GroupMapper;
  /**
   * Reads the catalog version. A session whose principal was resolved under
   * another version is resolved again at its next request. Without it, only
   * PRINCIPAL_REFRESH_MS applies.
   */
  readCatalogVersion?: () => Promise<string>;
  clock?: () => Date;
}

/**
 * A step that runs inside the transaction of a session write, such as an
 * audit record, so that it commits or rolls back with the session.
 */
// biome-ignore lint/suspicious/noExplicitAny: the step writes its own capability's tables.
export type SessionWriteStep = (transaction: Kysely<any>) => Promise<unknown>;

export interface Sessions {
  /**
   * Stores a new session for a resolved sign-in and returns its id for the
   * cookie. `step`, when given, runs in the same transaction.
   */
  create(
    principal: Principal,
    claims: IdentityClaims,
    step?: SessionWriteStep,
    /** The catalog version read before `principal` was resolved. */
    catalogVersion?: string,
  ): Promise<{ sessionId: string; expiresAt: Date }>;
  /**
   * Finds the session of a cookie value. Malformed, unknown, expired and idle
   * ids return undefined; an expired or idle session is deleted on the way.
   */
  find(sessionId: string | undefined): Promise<SessionView | undefined>;
  /**
   * Ends a session; an unknown or malformed id is ignored. `step`, when
   * given, runs in the same transaction, unless the id is malformed.
   */
  delete(sessionId: string | undefined, step?: SessionWriteStep): Promise<void>;
  /** Deletes every session past its absolute or idle lifetime; returns how many. */
  deleteExpired(): Promise<number>;
}

export function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

export function createSessions(options: SessionsOptions): Sessions {
  const db = options.database.db as Kysely<IdentityTables>;
  const clock = options.clock ?? (() => new Date());
  const log = options.logger;
  const idleMs =
    options.idleTimeoutMinutes === undefined ? undefined : options.idleTimeoutMinutes * 60_000;
  // `last_seen_at` lags behind the last request by up to this much, so an
  // idle session may end this much early: at most a tenth of the idle limit.
  const touchIntervalMs =
    idleMs === undefined ? PRINCIPAL_REFRESH_MS : Math.min(PRINCIPAL_REFRESH_MS, idleMs / 10);

  async function remove(idHash: string): Promise<void> {
    await db.deleteFrom('identity_sessions').where('id_hash', '=', idHash).execute();
  }

  /** Resolves the principal again; returns undefined when the user no longer matches. */
  async function refresh(
    row: IdentitySessionRow,
    now: Date,
    catalogVersion: string | undefined,
  ): Promise<Principal | undefined> {
    const claims = JSON.parse(row.claims) as IdentityClaims;
    let principal: Principal;
    try {
      const resolution = await resolveSignIn(claims, {
        directory: options.directory,
        transitiveGroupOwnership: options.transitiveGroupOwnership,
        ...(options.mapGroups ? { mapGroups: options.mapGroups } : {}),
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
        catalog_version: catalogVersion ?? null,
        last_seen_at: now.toISOString(),
      })
      .where('id_hash', '=', row.id_hash)
      .execute();
    return principal;
  }

  return {
    async create(principal, claims, step, catalogVersion) {
      const now = clock();
      const sessionId = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now.getTime() + options.maxAgeHours * 3_600_000);
      const session = { principal, claims, sessionId, now, expiresAt, catalogVersion };

      if (step) {
        await db.transaction().execute(async (transaction) => {
          await insertSession(transaction, session);
          await step(transaction);
        });
      } else {
        await insertSession(db, session);
      }
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
      const idleFor = now.getTime() - new Date(row.last_seen_at).getTime();
      if (idleMs !== undefined && idleFor >= idleMs) {
        await remove(idHash);
        log.info(
          { user: row.user_ref, idleMinutes: Math.floor(idleFor / 60_000) },
          'session ended: idle for longer than auth.session.idleTimeoutMinutes',
        );
        return undefined;
      }

      // Read before resolving: a change that commits in between then shows
      // as a new version at the next request, instead of being missed.
      const catalogVersion = await options.readCatalogVersion?.();
      let principal = JSON.parse(row.principal) as Principal;
      const resolvedAge = now.getTime() - new Date(row.principal_resolved_at).getTime();
      const catalogChanged = catalogVersion !== undefined && catalogVersion !== row.catalog_version;
      if (catalogChanged || resolvedAge >= PRINCIPAL_REFRESH_MS) {
        const refreshed = await refresh(row, now, catalogVersion);
        if (!refreshed) {
          await remove(idHash);
          return undefined;
        }
        principal = refreshed;
      } else if (idleFor >= touchIntervalMs) {
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

    async delete(sessionId, step) {
      if (!sessionId || !SESSION_ID_PATTERN.test(sessionId)) {
        return;
      }
      if (!step) {
        await remove(hashSessionId(sessionId));
        return;
      }
      await db.transaction().execute(async (transaction) => {
        await transaction
          .deleteFrom('identity_sessions')
          .where('id_hash', '=', hashSessionId(sessionId))
          .execute();
        await step(transaction);
      });
    },

    async deleteExpired() {
      const now = clock();
      const idleSince =
        idleMs === undefined ? undefined : new Date(now.getTime() - idleMs).toISOString();
      const result = await db
        .deleteFrom('identity_sessions')
        .where((where) =>
          idleSince === undefined
            ? where('expires_at', '<=', now.toISOString())
            : where.or([
                where('expires_at', '<=', now.toISOString()),
                where('last_seen_at', '<=', idleSince),
              ]),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

async function insertSession(
  executor: Kysely<IdentityTables>,
  session: {
    principal: Principal;
    claims: IdentityClaims;
    sessionId: string;
    now: Date;
    expiresAt: Date;
    catalogVersion: string | undefined;
  },
): Promise<void> {
  const { principal, claims, sessionId, now, expiresAt } = session;
  await executor
    .insertInto('identity_sessions')
    .values({
      id_hash: hashSessionId(sessionId),
      user_ref: principal.userEntityRef,
      principal: JSON.stringify(principal),
      claims: JSON.stringify(claims),
      principal_resolved_at: now.toISOString(),
      catalog_version: session.catalogVersion ?? null,
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: expiresAt.toISOString(),
    })
    .execute();
}

/**
 * Marks the stored principal of every session of these users as stale, so
 * the next request of each resolves it again from the catalog: a user who is
 * no longer in the catalog, such as one deactivated or deleted through SCIM,
 * loses the session, and a membership change applies without a new sign-in.
 * Returns the number of sessions marked.
 */
export async function expireSessionPrincipals(
  database: DatabaseHandle,
  userRefs: readonly string[],
): Promise<number> {
  if (userRefs.length === 0) {
    return 0;
  }
  const db = database.db as Kysely<IdentityTables>;
  const result = await db
    .updateTable('identity_sessions')
    .set({ principal_resolved_at: new Date(0).toISOString() })
    .where(
      'user_ref',
      'in',
      userRefs.map((ref) => ref.toLowerCase()),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
