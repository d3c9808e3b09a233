import { pino } from 'pino';
import type { AppConfig } from './config/index.js';
import { connectDatabase, migrateToLatest } from './database/index.js';
import { PortalError } from './errors/index.js';
import type { AccessReview, HeldPermission } from './permissions/access-review.js';
import { type Organisation, principalOfUser } from './permissions/organisation.js';
import type { Policy } from './permissions/policy.js';
import type { DecisionSource } from './permissions/types.js';
import { roleElevationMigrations } from './workflows/elevation-migrations.js';
import { createRoleElevationStore, type RoleElevation } from './workflows/elevations.js';

/** A permission that the subject holds only through role elevations, and when the last one ends. */
export type ReviewedPermission = HeldPermission & { temporaryUntil?: string };

/**
 * Reads the role elevations in force at `now()` from the portal's database:
 * the temporary role memberships that approved role-elevation requests granted.
 */
export async function readRoleElevationsInForce(
  config: AppConfig,
  now: () => Date,
): Promise<RoleElevation[]> {
  const database = connectDatabase(config.database);
  try {
    await migrateToLatest(database, [roleElevationMigrations]);
    const store = createRoleElevationStore({
      database,
      audit: {
        append: async () => {
          throw new Error('the access review only reads role elevations');
        },
      },
      // The caller hands the elevations to its own Policy.
      permissions: { setTemporaryMembers: () => {} },
      logger: pino({ level: 'silent' }),
      now,
    });
    return await store.load();
  } catch (error) {
    throw new PortalError(
      'ROLE_ELEVATIONS_UNREADABLE',
      `Reading the role elevations in ${database.description} failed: ${(error as Error).message}. Check the database settings and that the database server accepts connections.`,
      { cause: error },
    );
  } finally {
    await database.destroy();
  }
}

/**
 * Marks each permission of a user that only role elevations give, with
 * `temporaryUntil`, the end of the latest of them. Such a permission is not
 * held as a direct member of a role in the roles file, so `direct` is false.
 */
export function markElevatedPermissions(
  review: AccessReview,
  policy: Policy,
  organisation: Organisation,
  transitiveGroupOwnership: boolean,
): AccessReview {
  const users = review.users.map((subject) => {
    const principal = principalOfUser(organisation, subject.reference, transitiveGroupOwnership);
    const permissions = subject.permissions.map((held): ReviewedPermission => {
      const decisive = new Set(held.grants.map(sourceKey));
      const allows = policy
        .applicableGrants(principal, held.permission)
        .filter(
          (grant) => grant.source.effect === 'allow' && decisive.has(sourceKey(grant.source)),
        );
      const ends = allows.map((grant) => grant.temporaryUntil?.getTime());
      if (ends.length === 0 || ends.some((end) => end === undefined)) {
        return held;
      }
      const until = new Date(Math.max(...(ends as number[])));
      return { ...held, direct: false, temporaryUntil: until.toISOString() };
    });
    return { ...subject, permissions };
  });
  return { ...review, users };
}

/**
 * Shows the end of each elevation in the via column of the text and CSV
 * reports, whose columns the permissions capability fixes.
 */
export function withElevationsInVia(review: AccessReview): AccessReview {
  const users = review.users.map((subject) => ({
    ...subject,
    permissions: subject.permissions.map((held: ReviewedPermission) =>
      held.temporaryUntil
        ? { ...held, via: [...held.via, `role elevation until ${held.temporaryUntil}`] }
        : held,
    ),
  }));
  return { ...review, users };
}

function sourceKey(source: DecisionSource): string {
  return `${source.role}\u0000${source.grant}`;
}
