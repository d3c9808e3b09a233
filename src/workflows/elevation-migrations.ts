import type { Kysely } from 'kysely';
import type { MigrationSet } from '../database/index.js';

/** The role elevation table. Times are ISO 8601 in UTC with milliseconds, so they sort as text. */
export interface RoleElevationTables {
  workflow_role_elevations: RoleElevationRow;
}

/** One temporary membership of a role that an approved `role-elevation` request granted. */
export interface RoleElevationRow {
  /** A random UUID. */
  id: string;
  /** The request that granted it; one elevation per request, so a retried execution grants once. */
  request_id: string;
  /** The user reference that holds the role, lowercase. */
  member: string;
  /** The role's name in the roles file. */
  role: string;
  granted_at: string;
  expires_at: string;
  /** When a replica wrote the `role.elevation.expired` audit record; null until then. */
  expiry_recorded_at: string | null;
}

/**
 * Migrations of the role elevation table, a set of its own so that it does
 * not depend on the order of the request engine's migrations.
 */
export const roleElevationMigrations: MigrationSet = {
  name: 'workflow_elevations',
  migrations: () => ({
    '0001-role-elevations': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('workflow_role_elevations')
          .addColumn('id', 'varchar(36)', (column) => column.primaryKey())
          .addColumn('request_id', 'varchar(64)', (column) => column.notNull().unique())
          .addColumn('member', 'text', (column) => column.notNull())
          .addColumn('role', 'text', (column) => column.notNull())
          .addColumn('granted_at', 'varchar(32)', (column) => column.notNull())
          .addColumn('expires_at', 'varchar(32)', (column) => column.notNull())
          .addColumn('expiry_recorded_at', 'varchar(32)')
          .execute();
        // Every poll reads the elevations in force and those whose expiry is not yet recorded.
        await db.schema
          .createIndex('workflow_role_elevations_expires_at')
          .on('workflow_role_elevations')
          .column('expires_at')
          .execute();
      },
    },
  }),
};
