import { type Kysely, sql } from 'kysely';
import type { MigrationSet } from '../database/index.js';

/** The forwarder's own tables; the audit core's set stays as it is. */
export interface AuditForwardTables {
  audit_forward_state: AuditForwardStateRow;
}

/**
 * How far one forwarder got: the sequence number of the last record its
 * collector accepted. The single row has id `siem`.
 */
export interface AuditForwardStateRow {
  id: string;
  /** 0 before the first accepted batch; PostgreSQL returns bigint columns as strings. */
  sequence: number | string;
  /** ISO 8601 UTC time of the last accepted batch, or of the row's creation. */
  updated_at: string;
}

/** Id of the state row of the `audit.forward` collector. */
export const FORWARD_STATE_ID = 'siem';

export const auditForwardMigrations: MigrationSet = {
  name: 'audit_forward',
  migrations: () => ({
    '0001-initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('audit_forward_state')
          .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
          .addColumn('sequence', 'bigint', (column) => column.notNull())
          .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
          .execute();
        await sql`insert into audit_forward_state (id, sequence, updated_at) values (${FORWARD_STATE_ID}, 0, ${new Date().toISOString()})`.execute(
          db,
        );
      },
    },
  }),
};
