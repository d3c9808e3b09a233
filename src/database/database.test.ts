import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { migrateToLatest } from './index.js';

describeEachDialect('database', (context) => {
  test('migrations apply once and are idempotent', async () => {
    const handle = context.handle();
    let runs = 0;
    const set = {
      name: 'sample',
      migrations: () => ({
        '0001-create': {
          up: async (db: Kysely<unknown>) => {
            runs += 1;
            await db.schema
              .createTable('sample_item')
              .addColumn('id', 'integer', (column) => column.primaryKey())
              .execute();
          },
        },
      }),
    };

    await migrateToLatest(handle, [set]);
    await migrateToLatest(handle, [set]);

    assert.equal(runs, 1);
    const rows = await sql<{ n: number }>`select count(*) as n from sample_item`.execute(handle.db);
    assert.equal(Number(rows.rows[0]?.n), 0);
  });
});
