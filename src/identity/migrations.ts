import type { Kysely } from 'kysely';
import type { MigrationSet } from '../database/index.js';

export const identityMigrations: MigrationSet = {
  name: 'identity',
  migrations: () => ({
    '0001-initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('identity_sessions')
          .addColumn('id_hash', 'varchar(64)', (column) => column.primaryKey())
          .addColumn('user_ref', 'text', (column) => column.notNull())
          .addColumn('principal', 'text', (column) => column.notNull())
          .addColumn('claims', 'text', (column) => column.notNull())
          .addColumn('principal_resolved_at', 'varchar(32)', (column) => column.notNull())
          .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
          .addColumn('last_seen_at', 'varchar(32)', (column) => column.notNull())
          .addColumn('expires_at', 'varchar(32)', (column) => column.notNull())
          .execute();
        await db.schema
          .createIndex('identity_sessions_expires')
          .on('identity_sessions')
          .column('expires_at')
          .execute();
        await db.schema
          .createIndex('identity_sessions_user')
          .on('identity_sessions')
          .column('user_ref')
          .execute();

        await db.schema
          .createTable('identity_secrets')
          .addColumn('name', 'varchar(64)', (column) => column.primaryKey())
          .addColumn('value', 'text', (column) => column.notNull())
          .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
          .execute();
      },
    },
    '0002-session-catalog-version': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable('identity_sessions')
          .addColumn('catalog_version', 'text')
          .execute();
      },
    },
  }),
};
