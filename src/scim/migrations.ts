import { type Kysely, sql } from 'kysely';
import type { MigrationSet } from '../database/index.js';

export const scimMigrations: MigrationSet = {
  name: 'scim',
  migrations: () => ({
    '0001-initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('scim_users')
          .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
          .addColumn('user_name', 'text', (column) => column.notNull())
          .addColumn('user_name_key', 'text', (column) => column.notNull().unique())
          .addColumn('display_name', 'text')
          .addColumn('display_name_key', 'text')
          .addColumn('external_id', 'text')
          .addColumn('active', 'integer', (column) => column.notNull())
          .addColumn('entity_name', 'varchar(63)', (column) => column.notNull().unique())
          .addColumn('attributes', 'text', (column) => column.notNull())
          .addColumn('version', 'integer', (column) => column.notNull())
          .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
          .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
          .execute();
        await db.schema
          .createIndex('scim_users_display_name')
          .on('scim_users')
          .column('display_name_key')
          .execute();
        await db.schema
          .createIndex('scim_users_external_id')
          .on('scim_users')
          .column('external_id')
          .execute();

        await db.schema
          .createTable('scim_groups')
          .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
          .addColumn('display_name', 'text', (column) => column.notNull())
          .addColumn('display_name_key', 'text', (column) => column.notNull())
          .addColumn('external_id', 'text')
          .addColumn('entity_name', 'varchar(63)', (column) => column.notNull().unique())
          .addColumn('version', 'integer', (column) => column.notNull())
          .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
          .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
          .execute();
        await db.schema
          .createIndex('scim_groups_display_name')
          .on('scim_groups')
          .column('display_name_key')
          .execute();
        await db.schema
          .createIndex('scim_groups_external_id')
          .on('scim_groups')
          .column('external_id')
          .execute();

        await db.schema
          .createTable('scim_group_members')
          .addColumn('group_id', 'varchar(64)', (column) =>
            column.notNull().references('scim_groups.id').onDelete('cascade'),
          )
          .addColumn('member_id', 'varchar(64)', (column) => column.notNull())
          .addColumn('member_type', 'varchar(8)', (column) => column.notNull())
          .addPrimaryKeyConstraint('scim_group_members_pk', ['group_id', 'member_id'])
          .execute();
        await db.schema
          .createIndex('scim_group_members_member')
          .on('scim_group_members')
          .column('member_id')
          .execute();

        await db.schema
          .createTable('scim_tokens')
          .addColumn('id', 'varchar(32)', (column) => column.primaryKey())
          .addColumn('name', 'varchar(64)', (column) => column.notNull())
          .addColumn('secret_hash', 'varchar(64)', (column) => column.notNull())
          .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
          .addColumn('last_used_at', 'varchar(32)')
          .addColumn('revoked_at', 'varchar(32)')
          .execute();
        // One live token per name; a revoked token keeps its row for the record.
        await db.schema
          .createIndex('scim_tokens_live_name')
          .on('scim_tokens')
          .column('name')
          .unique()
          .where(sql.ref('revoked_at'), 'is', null)
          .execute();
      },
    },
  }),
};
