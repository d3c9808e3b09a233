import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { hashRecord } from './canonical.js';
import { hashedFieldsOfRow } from './chain.js';
import { rowFromCheckpoint, signCheckpoint } from './checkpoint.js';
import type { AuditRecordRow, AuditTables } from './tables.js';
import {
  appendTestRecords,
  createTestKeys,
  openTestTrail,
  type TestTrail,
} from './test-helpers.js';
import type { AuditProblem } from './verify.js';

const RECORDS = 10;

async function readRow(db: Kysely<AuditTables>, sequence: number): Promise<AuditRecordRow> {
  return db
    .selectFrom('audit_records')
    .selectAll()
    .where('sequence', '=', sequence)
    .executeTakeFirstOrThrow();
}

/** Moves records after `after` by `offset`, in two steps so no primary key collides on the way. */
async function renumberAfter(
  db: Kysely<AuditTables>,
  after: number,
  offset: number,
): Promise<void> {
  await sql`update audit_records set sequence = -(sequence + ${offset}) where sequence > ${after}`.execute(
    db,
  );
  await sql`update audit_records set sequence = -sequence where sequence < 0`.execute(db);
}

/** Rewrites a stored row and, when asked, recomputes its hash as an attacker with the format would. */
async function rewriteRow(
  db: Kysely<AuditTables>,
  row: AuditRecordRow,
  recomputeHash: boolean,
): Promise<string> {
  const hash = recomputeHash ? hashRecord(hashedFieldsOfRow(row)) : row.hash;
  await db
    .updateTable('audit_records')
    .set({ ...row, hash })
    .where('sequence', '=', row.sequence)
    .execute();
  return hash;
}

function firstProblem(problems: readonly AuditProblem[]): AuditProblem {
  const [problem] = problems;
  assert.ok(problem, 'verification found no problem');
  return problem;
}

describeEachDialect('audit verify', (context) => {
  let opened: TestTrail;
  let db: Kysely<AuditTables>;

  async function setUp(): Promise<void> {
    opened = await openTestTrail(context.handle());
    db = context.handle().db as Kysely<AuditTables>;
    await appendTestRecords(context.handle(), opened, RECORDS);
  }

  test('intact chain passes', async () => {
    await setUp();
    await opened.trail.checkpoint();

    const report = await opened.trail.verify();

    assert.equal(report.ok, true);
    assert.deepEqual(report.problems, []);
    assert.equal(report.records, RECORDS);
    assert.equal(report.lastSequence, RECORDS);
  });

  test('changed record is named', async () => {
    await setUp();
    await sql`update audit_records set outcome = 'succeeded' where sequence = 5`.execute(db);

    const report = await opened.trail.verify();

    const problem = firstProblem(report.problems);
    assert.equal(report.ok, false);
    assert.equal(problem.kind, 'changed');
    assert.equal(problem.sequence, 5);
    assert.match(problem.message, /record 5 was changed: its contents do not match its hash/);
  });

  test('changed record with recomputed hash is named', async () => {
    await setUp();
    const row = await readRow(db, 4);
    await rewriteRow(db, { ...row, actor: 'user:default/mallory' }, true);

    const problem = firstProblem((await opened.trail.verify()).problems);

    assert.equal(problem.kind, 'changed');
    assert.equal(problem.sequence, 4);
    assert.match(problem.message, /record 4 was changed and its hash recomputed/);
  });

  test('rewritten chain contradicts its checkpoint', async () => {
    await setUp();
    await opened.trail.checkpoint();
    let previousHash = (await readRow(db, 5)).hash;
    for (let sequence = 6; sequence <= RECORDS; sequence += 1) {
      const row = await readRow(db, sequence);
      const changed = sequence === 6 ? { ...row, reason: 'nothing happened' } : row;
      previousHash = await rewriteRow(db, { ...changed, previous_hash: previousHash }, true);
    }
    await db.updateTable('audit_head').set({ hash: previousHash }).execute();

    const problem = firstProblem((await opened.trail.verify()).problems);

    assert.equal(problem.kind, 'changed');
    assert.equal(problem.sequence, 1);
    assert.match(
      problem.message,
      /a record from 1 to 10 was changed and the hashes after it recomputed/,
    );
  });

  test('removed record is named', async () => {
    await setUp();
    await db.deleteFrom('audit_records').where('sequence', '=', 6).execute();

    const problem = firstProblem((await opened.trail.verify()).problems);

    assert.equal(problem.kind, 'removed');
    assert.equal(problem.sequence, 6);
    assert.match(problem.message, /record 6 was removed: the chain continues at record 7/);
  });

  test('removed and renumbered record is named', async () => {
    await setUp();
    await db.deleteFrom('audit_records').where('sequence', '=', 6).execute();
    await renumberAfter(db, 6, -1);
    await db
      .updateTable('audit_head')
      .set({ sequence: RECORDS - 1 })
      .execute();

    const problem = firstProblem((await opened.trail.verify()).problems);

    assert.equal(problem.kind, 'removed');
    assert.equal(problem.sequence, 6);
    assert.match(problem.message, /record 6 was removed and the records after it renumbered/);
  });

  test('removed last records contradict the checkpoint', async () => {
    await setUp();
    await opened.trail.checkpoint();
    await db.deleteFrom('audit_records').where('sequence', '>', 8).execute();
    const last = await readRow(db, 8);
    await db.updateTable('audit_head').set({ sequence: 8, hash: last.hash }).execute();

    const problem = firstProblem((await opened.trail.verify()).problems);

    assert.equal(problem.kind, 'removed');
    assert.equal(problem.sequence, 9);
    assert.match(problem.message, /records 9 to 10 were removed: the checkpoint signed at/);
  });

  test('inserted record is named', async () => {
    await setUp();
    await renumberAfter(db, 4, 1);
    const before = await readRow(db, 4);
    const forged: AuditRecordRow = {
      ...before,
      sequence: 5,
      actor: 'user:default/mallory',
      action: 'auth.sign-in',
      previous_hash: before.hash,
    };
    forged.hash = hashRecord(hashedFieldsOfRow(forged));
    await db.insertInto('audit_records').values(forged).execute();
    await db
      .updateTable('audit_head')
      .set({ sequence: RECORDS + 1 })
      .execute();

    const problem = firstProblem((await opened.trail.verify()).problems);

    assert.equal(problem.kind, 'inserted');
    assert.equal(problem.sequence, 5);
    assert.match(problem.message, /record 5 was inserted: record 6 links to record 4, not to it/);
  });

  test('inserted record without a valid hash is named', async () => {
    await setUp();
    await renumberAfter(db, 4, 1);
    const before = await readRow(db, 4);
    await db
      .insertInto('audit_records')
      .values({ ...before, sequence: 5, actor: 'user:default/mallory', previous_hash: before.hash })
      .execute();

    const problem = firstProblem((await opened.trail.verify()).problems);

    assert.equal(problem.kind, 'inserted');
    assert.equal(problem.sequence, 5);
  });

  test('record appended outside the trail is named', async () => {
    await setUp();
    const last = await readRow(db, RECORDS);
    const forged: AuditRecordRow = {
      ...last,
      sequence: RECORDS + 1,
      action: 'auth.sign-out',
      previous_hash: last.hash,
    };
    forged.hash = hashRecord(hashedFieldsOfRow(forged));
    await db.insertInto('audit_records').values(forged).execute();

    const problem = firstProblem((await opened.trail.verify()).problems);

    assert.equal(problem.kind, 'inserted');
    assert.equal(problem.sequence, RECORDS + 1);
  });

  test('reordered records are named', async () => {
    await setUp();
    await sql`update audit_records set sequence = -1 where sequence = 3`.execute(db);
    await sql`update audit_records set sequence = 3 where sequence = 4`.execute(db);
    await sql`update audit_records set sequence = 4 where sequence = -1`.execute(db);

    const problem = firstProblem((await opened.trail.verify()).problems);

    assert.equal(problem.kind, 'reordered');
    assert.equal(problem.sequence, 3);
    assert.match(problem.message, /record 3 was reordered/);
  });

  test('forged checkpoint is named', async () => {
    await setUp();
    await opened.trail.checkpoint();
    // Moves the signed head back, as if records 8 to 10 had never been checkpointed.
    const row = await readRow(db, 7);
    await db
      .updateTable('audit_checkpoints')
      .set({ sequence: 7, hash: row.hash })
      .where('kind', '=', 'checkpoint')
      .execute();

    const report = await opened.trail.verify();

    const problem = firstProblem(report.problems);
    assert.equal(report.ok, false);
    assert.equal(problem.kind, 'forged-checkpoint');
    assert.equal(problem.sequence, 7);
    assert.match(problem.message, /has an invalid signature/);
  });

  test('checkpoint of an unknown key is named', async () => {
    await setUp();
    const attacker = createTestKeys();
    const head = await readRow(db, RECORDS);
    const signer = attacker.signer;
    assert.ok(signer);
    const forged = signCheckpoint(signer, {
      kind: 'checkpoint',
      sequence: RECORDS,
      hash: head.hash,
      time: '2025-01-01T01:00:00.000Z',
      firstSequence: null,
    });
    await db.insertInto('audit_checkpoints').values(rowFromCheckpoint(forged)).execute();

    const problem = firstProblem((await opened.trail.verify()).problems);

    assert.equal(problem.kind, 'unknown-key');
    assert.match(problem.message, new RegExp(`signed with key ${signer.keyId}`));
  });
});
