import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { parseRetention } from './retention.js';
import type { AuditTables } from './tables.js';
import { appendTestRecords, openTestTrail, type TestTrail } from './test-helpers.js';

const HOUR = 3_600_000;

describe('parseRetention', () => {
  const cases: Array<[string, number]> = [
    ['12h', 12 * HOUR],
    ['400d', 400 * 24 * HOUR],
    ['2w', 14 * 24 * HOUR],
    ['1y', 365 * 24 * HOUR],
  ];
  for (const [text, expected] of cases) {
    test(`parses ${text}`, () => {
      assert.equal(parseRetention(text), expected);
    });
  }

  test('rejects a period without unit', () => {
    assert.throws(() => parseRetention('30'), /Retention '30' is invalid/);
  });
});

describeEachDialect('audit prune', (context) => {
  let opened: TestTrail;
  let db: Kysely<AuditTables>;

  /** Appends records 1 to 10, a second apart from 00:00:00, and signs checkpoints of records 3 and 6. */
  async function setUp(): Promise<void> {
    opened = await openTestTrail(context.handle(), { retention: '1h' });
    db = context.handle().db as Kysely<AuditTables>;
    await appendTestRecords(context.handle(), opened, 3);
    await opened.trail.checkpoint();
    await appendTestRecords(context.handle(), opened, 3);
    await opened.trail.checkpoint();
    await appendTestRecords(context.handle(), opened, 4);
  }

  async function sequences(): Promise<number[]> {
    const rows = await db
      .selectFrom('audit_records')
      .select('sequence')
      .orderBy('sequence')
      .execute();
    return rows.map((row) => Number(row.sequence));
  }

  test('prunes up to the newest old checkpoint', async () => {
    await setUp();
    // Now 01:00:04.5, so records before 00:00:04.5 (1 to 5) are old, and the
    // newest checkpoint among them is record 3's.
    opened.clock.advance(HOUR - 5_500);

    const result = await opened.trail.prune();

    assert.equal(result.pruned, 3);
    assert.equal(result.through, 3);
    assert.deepEqual(await sequences(), [4, 5, 6, 7, 8, 9, 10]);
    const report = await opened.trail.verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.prunedThrough, 3);
    assert.equal(report.firstSequence, 4);
  });

  test('second prune continues from the marker', async () => {
    await setUp();
    opened.clock.advance(HOUR - 5_500);
    await opened.trail.prune();
    await opened.trail.checkpoint();
    opened.clock.advance(2 * HOUR);

    const result = await opened.trail.prune();

    assert.equal(result.through, 10);
    assert.deepEqual(await sequences(), []);
    const markers = await db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .where('kind', '=', 'prune')
      .execute();
    assert.deepEqual(
      markers.map((marker) => [Number(marker.first_sequence), Number(marker.sequence)]),
      [[4, 10]],
    );
    const report = await opened.trail.verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.records, 0);
  });

  test('dry run removes nothing', async () => {
    await setUp();
    opened.clock.advance(2 * HOUR);

    const result = await opened.trail.prune({ dryRun: true });

    assert.equal(result.pruned, 6);
    assert.equal(result.through, 6);
    assert.equal((await sequences()).length, 10);
  });

  test('prune waits for a checkpoint', async () => {
    opened = await openTestTrail(context.handle(), { retention: '1h' });
    await appendTestRecords(context.handle(), opened, 4);
    opened.clock.advance(2 * HOUR);

    const result = await opened.trail.prune();

    assert.equal(result.pruned, 0);
    assert.match(result.reason ?? '', /no signed checkpoint covers the records older than/);
  });

  test('prune refuses a tampered range', async () => {
    await setUp();
    await sql`update audit_records set actor = null where sequence = 2`.execute(db);
    opened.clock.advance(2 * HOUR);

    await assert.rejects(
      opened.trail.prune(),
      /were not pruned because they fail verification: record 2 was changed/,
    );
    assert.equal((await sequences()).length, 10);
  });

  test('tampering after a prune is still found', async () => {
    await setUp();
    opened.clock.advance(HOUR - 5_500);
    await opened.trail.prune();
    await sql`update audit_records set target = 'component:default/other' where sequence = 8`.execute(
      db,
    );

    const report = await opened.trail.verify();

    assert.equal(report.ok, false);
    assert.equal(report.problems[0]?.kind, 'changed');
    assert.equal(report.problems[0]?.sequence, 8);
  });

  test('records removed beside a marker are found', async () => {
    await setUp();
    opened.clock.advance(HOUR - 5_500);
    await opened.trail.prune();
    await db.deleteFrom('audit_records').where('sequence', '<=', 5).execute();

    const report = await opened.trail.verify();

    assert.equal(report.problems[0]?.kind, 'removed');
    assert.match(report.problems[0]?.message ?? '', /records 4 to 5 were removed/);
  });

  test('forged prune marker is found', async () => {
    await setUp();
    opened.clock.advance(HOUR - 5_500);
    await opened.trail.prune();
    // Claims that retention also removed records 4 and 5.
    const row = await db
      .selectFrom('audit_records')
      .select('hash')
      .where('sequence', '=', 5)
      .executeTakeFirstOrThrow();
    await db.deleteFrom('audit_records').where('sequence', '<=', 5).execute();
    await db
      .updateTable('audit_checkpoints')
      .set({ sequence: 5, hash: row.hash })
      .where('kind', '=', 'prune')
      .execute();

    const report = await opened.trail.verify();

    assert.equal(report.ok, false);
    const kinds = report.problems.map((problem) => problem.kind);
    assert.deepEqual(kinds, ['removed', 'forged-checkpoint']);
    // Without a valid marker nothing vouches for the first prune either.
    assert.match(report.problems[0]?.message ?? '', /records 1 to 5 were removed/);
  });

  test('records removed without a marker are found', async () => {
    await setUp();
    await db.deleteFrom('audit_records').where('sequence', '<=', 2).execute();

    const report = await opened.trail.verify();

    assert.equal(report.problems[0]?.kind, 'removed');
    assert.match(report.problems[0]?.message ?? '', /records 1 to 2 were removed/);
  });

  test('prune without retention is rejected', async () => {
    opened = await openTestTrail(context.handle());

    await assert.rejects(opened.trail.prune(), /audit.retention is not set/);
  });
});
