import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import {
  checkPostgres,
  createTestDatabase,
  describeEachDialect,
} from '../../test/support/databases.js';
import { connectDatabase, migrateToLatest } from './index.js';

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

test('postgres pool survives a connection the server ends', async (t) => {
  const problem = await checkPostgres();
  if (problem && process.env.CI !== 'true') {
    t.skip(problem);
    return;
  }
  const database = await createTestDatabase('postgres');
  const errors: Error[] = [];
  const handle = connectDatabase(database.config, {
    onIdleConnectionError: (error) => errors.push(error),
  });
  try {
    const before = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(handle.db);
    const pid = before.rows[0]?.pid;

    // End the idle pooled connection from another session, as a server restart would.
    const admin = connectDatabase(database.config);
    try {
      await sql`select pg_terminate_backend(${pid})`.execute(admin.db);
    } finally {
      await admin.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));

    assert.equal(errors.length, 1);
    const after = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(handle.db);
    assert.notEqual(after.rows[0]?.pid, pid);
  } finally {
    await handle.destroy();
    await database.cleanup();
  }
});
