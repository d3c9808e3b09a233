import type { Kysely } from 'kysely';
import type { MigrationSet } from '../database/index.js';

export const workflowMigrations: MigrationSet = {
  name: 'workflows',
  migrations: () => ({
    '0001-requests': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('workflow_requests')
          .addColumn('id', 'varchar(36)', (column) => column.primaryKey())
          .addColumn('type', 'varchar(63)', (column) => column.notNull())
          .addColumn('requester', 'varchar(512)', (column) => column.notNull())
          .addColumn('entity_ref', 'varchar(512)')
          .addColumn('environment', 'varchar(63)')
          .addColumn('parameters', 'text', (column) => column.notNull())
          .addColumn('reason', 'text')
          .addColumn('state', 'varchar(16)', (column) => column.notNull())
          .addColumn('rule_id', 'varchar(128)')
          .addColumn('rule', 'text')
          .addColumn('break_glass', 'integer', (column) => column.notNull().defaultTo(0))
          .addColumn('review_pending', 'integer', (column) => column.notNull().defaultTo(0))
          .addColumn('reviewed_by', 'varchar(512)')
          .addColumn('reviewed_at', 'varchar(32)')
          .addColumn('review_comment', 'text')
          .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
          .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
          .addColumn('expires_at', 'varchar(32)')
          .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
          .addColumn('result', 'text')
          .addColumn('lease_owner', 'varchar(64)')
          .addColumn('lease_until', 'varchar(32)')
          .addColumn('next_attempt_at', 'varchar(32)')
          .execute();
        await db.schema
          .createIndex('workflow_requests_requester')
          .on('workflow_requests')
          .columns(['requester', 'created_at'])
          .execute();
        await db.schema
          .createIndex('workflow_requests_state')
          .on('workflow_requests')
          .columns(['state', 'expires_at'])
          .execute();
        await db.schema
          .createIndex('workflow_requests_review')
          .on('workflow_requests')
          .columns(['review_pending', 'created_at'])
          .execute();

        await db.schema
          .createTable('workflow_approvals')
          .addColumn('request_id', 'varchar(36)', (column) =>
            column.notNull().references('workflow_requests.id').onDelete('cascade'),
          )
          .addColumn('approver', 'varchar(512)', (column) => column.notNull())
          .addColumn('decision', 'varchar(8)', (column) => column.notNull())
          .addColumn('comment', 'text')
          .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
          .addPrimaryKeyConstraint('workflow_approvals_pk', ['request_id', 'approver'])
          .execute();
      },
    },
    '0002-approval-sources': {
      async up(db: Kysely<unknown>) {
        // The rule's sources that the approver belonged to when approving,
        // as a JSON array of keys; null on approvals recorded before.
        await db.schema.alterTable('workflow_approvals').addColumn('sources', 'text').execute();
      },
    },
  }),
};
