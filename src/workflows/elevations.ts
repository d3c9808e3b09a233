import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AuditTrail } from '../audit/index.js';
import type { DatabaseHandle } from '../database/index.js';
import { InputError } from '../errors/index.js';
import { type PermissionService, parseMemberRef } from '../permissions/index.js';
import type { RoleElevationRow, RoleElevationTables } from './elevation-migrations.js';

/** Default of RoleElevationStoreOptions.pollIntervalMs. */
export const DEFAULT_ELEVATION_POLL_INTERVAL_MS = 10_000;

/** A temporary membership of a role, granted by an approved `role-elevation` request. */
export interface RoleElevation {
  id: string;
  requestId: string;
  /** The user reference that holds the role, lowercase. */
  member: string;
  role: string;
  grantedAt: Date;
  expiresAt: Date;
}

export interface RoleElevationGrant {
  requestId: string;
  member: string;
  role: string;
  expiresAt: Date;
  /** The request's reason, copied into the audit record. */
  reason?: string | null | undefined;
}

export interface RoleElevationStoreOptions {
  /** A database whose roleElevationMigrations and audit migrations have run. */
  database: DatabaseHandle;
  audit: Pick<AuditTrail, 'append'>;
  permissions: Pick<PermissionService, 'setTemporaryMembers'>;
  logger: Logger;
  /** The clock of grant and expiry times; the system clock by default. */
  now?: () => Date;
  /**
   * Milliseconds between two reads of the table, which load the grants that
   * other replicas made and record expiries. Default 10,000.
   */
  pollIntervalMs?: number;
}

/**
 * Stores role elevations and keeps the permission service's temporary
 * members equal to the elevations in force.
 *
 * A grant reloads this replica's members at once. Other replicas read the
 * table every pollIntervalMs, so there a new grant applies up to one
 * interval later. Every replica drops an elevation exactly at its expiry,
 * because the permission service compares each decision's time with it.
 */
export interface RoleElevationStore {
  /**
   * Stores an elevation and its `role.elevation.granted` audit record in one
   * transaction, then reloads the temporary members. A second grant for the
   * same request returns the first one with `created: false` and records
   * nothing, so a retried execution grants once.
   */
  grant(grant: RoleElevationGrant): Promise<{ elevation: RoleElevation; created: boolean }>;
  /** Reads the elevations in force and hands them to the permission service when they changed. */
  load(): Promise<RoleElevation[]>;
  /**
   * Writes one `role.elevation.expired` audit record for each elevation
   * whose expiry passed, once across replicas. Returns how many it wrote.
   */
  recordExpiries(): Promise<number>;
  /** Loads the elevations, then polls the table until stop(). */
  start(): Promise<void>;
  /** Stops polling and waits for a poll that is running. */
  stop(): Promise<void>;
}

/** Creates the role elevation store over a migrated database. */
export function createRoleElevationStore(options: RoleElevationStoreOptions): RoleElevationStore {
  const { audit, permissions, logger } = options;
  const db = options.database.db as Kysely<RoleElevationTables>;
  const now = options.now ?? (() => new Date());
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_ELEVATION_POLL_INTERVAL_MS;
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 1) {
    throw new RangeError(
      `pollIntervalMs ${pollIntervalMs} is invalid: use a whole number of milliseconds, at least 1`,
    );
  }

  /** Ids of the elevations last handed to the permission service, sorted and joined. */
  let loadedFingerprint: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;

  const load = async (): Promise<RoleElevation[]> => {
    const rows = await db
      .selectFrom('workflow_role_elevations')
      .selectAll()
      .where('expires_at', '>', now().toISOString())
      .orderBy('id')
      .execute();
    const elevations = rows.map(elevationOf);

    const fingerprint = elevations.map((elevation) => elevation.id).join(',');
    if (fingerprint !== loadedFingerprint) {
      permissions.setTemporaryMembers(
        elevations.map(({ member, role, expiresAt }) => ({ member, role, expiresAt })),
      );
      loadedFingerprint = fingerprint;
      logger.debug({ elevations: elevations.length }, 'role elevations loaded');
    }
    return elevations;
  };

  const grant = async (
    input: RoleElevationGrant,
  ): Promise<{ elevation: RoleElevation; created: boolean }> => {
    const member = parseMemberRef(input.member);
    if (typeof member !== 'string' || !member.startsWith('user:')) {
      throw new InputError(
        `Role elevation member '${input.member}' is invalid: use a user reference such as user:default/ada`,
      );
    }
    if (Number.isNaN(input.expiresAt.getTime())) {
      throw new InputError(
        `Role elevation of ${member} to '${input.role}' has an invalid expiry: use a valid Date`,
      );
    }

    const row: RoleElevationRow = {
      id: randomUUID(),
      request_id: input.requestId,
      member: member.toLowerCase(),
      role: input.role,
      granted_at: now().toISOString(),
      expires_at: input.expiresAt.toISOString(),
      expiry_recorded_at: null,
    };

    const stored = await db.transaction().execute(async (transaction) => {
      const inserted = await transaction
        .insertInto('workflow_role_elevations')
        .values(row)
        .onConflict((conflict) => conflict.column('request_id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
        const existing = await transaction
          .selectFrom('workflow_role_elevations')
          .selectAll()
          .where('request_id', '=', input.requestId)
          .executeTakeFirstOrThrow();
        return { elevation: elevationOf(existing), created: false };
      }

      await audit.append(transaction, {
        actor: row.member,
        action: 'role.elevation.granted',
        target: `role:${row.role}`,
        outcome: 'succeeded',
        reason: input.reason ?? undefined,
        details: {
          elevationId: row.id,
          requestId: row.request_id,
          role: row.role,
          member: row.member,
          expiresAt: row.expires_at,
        },
      });
      return { elevation: elevationOf(row), created: true };
    });

    if (stored.created) {
      logger.info(
        {
          requestId: input.requestId,
          role: stored.elevation.role,
          member: stored.elevation.member,
          expiresAt: row.expires_at,
        },
        'role elevation granted',
      );
    }
    await load();
    return stored;
  };

  const recordExpiries = async (): Promise<number> => {
    const due = await db
      .selectFrom('workflow_role_elevations')
      .selectAll()
      .where('expires_at', '<=', now().toISOString())
      .where('expiry_recorded_at', 'is', null)
      .orderBy('expires_at')
      .execute();

    let recorded = 0;
    for (const row of due) {
      const claimed = await db.transaction().execute(async (transaction) => {
        // Only the replica whose update changes the row writes the record.
        const updated = await transaction
          .updateTable('workflow_role_elevations')
          .set({ expiry_recorded_at: now().toISOString() })
          .where('id', '=', row.id)
          .where('expiry_recorded_at', 'is', null)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) {
          return false;
        }
        await audit.append(transaction, {
          actor: row.member,
          action: 'role.elevation.expired',
          target: `role:${row.role}`,
          outcome: 'succeeded',
          details: {
            elevationId: row.id,
            requestId: row.request_id,
            role: row.role,
            member: row.member,
            expiresAt: row.expires_at,
          },
        });
        return true;
      });
      if (claimed) {
        recorded += 1;
        logger.info(
          { requestId: row.request_id, role: row.role, member: row.member },
          'role elevation expired',
        );
      }
    }
    return recorded;
  };

  const poll = async (): Promise<void> => {
    try {
      await load();
      await recordExpiries();
    } catch (error) {
      logger.error(
        { err: error },
        'reading role elevations failed; the elevations loaded before stay in force until they expire',
      );
    }
  };

  return {
    grant,
    load,
    recordExpiries,
    start: async () => {
      if (timer) {
        return;
      }
      await load();
      timer = setInterval(() => {
        // A poll slower than the interval makes the next tick skip rather than queue.
        polling ??= poll().finally(() => {
          polling = undefined;
        });
      }, pollIntervalMs);
      timer.unref();
      logger.info({ pollIntervalMs }, 'role elevation polling started');
    },
    stop: async () => {
      clearInterval(timer);
      timer = undefined;
      await polling;
    },
  };
}

function elevationOf(row: RoleElevationRow): RoleElevation {
  return {
    id: row.id,
    requestId: row.request_id,
    member: row.member,
    role: row.role,
    grantedAt: new Date(row.granted_at),
    expiresAt: new Date(row.expires_at),
  };
}
