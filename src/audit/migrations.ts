import { type Kysely, sql } from 'kysely';
import type { DialectName, MigrationSet } from '../database/index.js';
import { GENESIS_HASH } from './canonical.js';

export const auditMigrations: MigrationSet = {
  name: 'audit',
  migrations: (dialect: DialectName) => ({
    '0001-initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('audit_records')
          // On SQLite only `integer primary key` makes the column the row id,
          // so rows are stored in sequence order and need no separate index.
          .addColumn('sequence', dialect === 'sqlite' ? 'integer' : 'bigint', (column) =>
            column.primaryKey(),
          )
          .addColumn('time', 'varchar(32)', (column) => column.notNull())
          .addColumn('actor', 'text')
          .addColumn('action', 'varchar(128)', (column) => column.notNull())
          .addColumn('target', 'text')
          .addColumn('outcome', 'varchar(16)', (column) => column.notNull())
          .addColumn('reason', 'text')
          .addColumn('ip', 'varchar(64)')
          .addColumn('user_agent', 'text')
          .addColumn('request_id', 'varchar(128)')
          .addColumn('details', 'text', (column) => column.notNull())
          .addColumn('previous_hash', 'varchar(64)', (column) => column.notNull())
          .addColumn('hash', 'varchar(64)', (column) => column.notNull())
          .execute();
        // The filters of exports and of the events API: a time range, or one
        // actor, action or target, each read newest first by sequence.
        await db.schema
          .createIndex('audit_records_time')
          .on('audit_records')
          .column('time')
          .execute();
        for (const column of ['actor', 'action', 'target'] as const) {
          await db.schema
            .createIndex(`audit_records_${column}`)
            .on('audit_records')
            .columns([column, 'sequence'])
            .execute();
        }

        await db.schema
          .createTable('audit_head')
          .addColumn('id', 'integer', (column) => column.primaryKey())
          .addColumn('sequence', 'bigint', (column) => column.notNull())
          .addColumn('hash', 'varchar(64)', (column) => column.notNull())
          .execute();
        await sql`insert into audit_head (id, sequence, hash) values (1, 0, ${GENESIS_HASH})`.execute(
          db,
        );

        await db.schema
          .createTable('audit_checkpoints')
          .addColumn('kind', 'varchar(16)', (column) => column.notNull())
          .addColumn('sequence', 'bigint', (column) => column.notNull())
          .addColumn('hash', 'varchar(64)', (column) => column.notNull())
          .addColumn('time', 'varchar(32)', (column) => column.notNull())
          .addColumn('first_sequence', 'bigint')
          .addColumn('key_id', 'varchar(64)', (column) => column.notNull())
          .addColumn('signature', 'text', (column) => column.notNull())
          .addPrimaryKeyConstraint('audit_checkpoints_pk', ['kind', 'sequence'])
          .execute();
      },
    },
  }),
};
