import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { GENESIS_HASH } from './canonical.js';
import { verifyInParallel } from './parallel-verify.js';
import type { AuditTables } from './tables.js';
import { appendTestRecords, openTestTrail, type TestTrail } from './test-helpers.js';
import { verifyAuditTrail } from './verify.js';

const RECORDS = 40;

describeEachDialect('audit verify in parallel', (context) => {
  let opened: TestTrail;

  async function setUp(): Promise<void> {
    opened = await openTestTrail(context.handle());
    await appendTestRecords(context.handle(), opened, 30);
    await opened.trail.checkpoint();
    await appendTestRecords(context.handle(), opened, RECORDS - 30);
  }

  /** Verifies with one worker thread, whatever the chain's length. */
  function verifyWithWorker() {
    return verifyAuditTrail(context.handle().db as Kysely<AuditTables>, opened.keys.publicKeys, {
      sqlite: context.handle().sqlite,
      parallel: { database: context.database().config, threshold: 1, workers: 1 },
    });
  }

  test('intact chain passes', async () => {
    await setUp();

    const report = await verifyWithWorker();

    assert.deepEqual(report.problems, []);
    assert.equal(report.records, RECORDS);
    assert.equal(report.firstSequence, 1);
    assert.equal(report.lastSequence, RECORDS);
  });

  test('ranges join into the whole chain', async () => {
    await setUp();
    const head = await sql<{ hash: string }>`select hash from audit_head`.execute(
      context.handle().db,
    );

    const joined = await verifyInParallel(
      context.handle().db as Kysely<AuditTables>,
      context.handle().sqlite,
      { sequence: 0, hash: GENESIS_HASH },
      RECORDS,
      new Map(),
      { database: context.database().config, threshold: 1, workers: 1, batchSize: 7 },
    );

    assert.deepEqual(joined, {
      records: RECORDS,
      last: { sequence: RECORDS, hash: head.rows[0]?.hash },
    });
  });

  test('change in the worker range is named', async () => {
    await setUp();
    await sql`update audit_records set actor = null where sequence = 33`.execute(
      context.handle().db,
    );

    const report = await verifyWithWorker();

    assert.equal(report.ok, false);
    assert.equal(report.problems[0]?.kind, 'changed');
    assert.equal(report.problems[0]?.sequence, 33);
  });

  test('removal at the range boundary is named', async () => {
    await setUp();
    await sql`delete from audit_records where sequence = 21`.execute(context.handle().db);

    const report = await verifyWithWorker();

    assert.equal(report.problems[0]?.kind, 'removed');
    assert.equal(report.problems[0]?.sequence, 21);
  });
});
