import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { GENESIS_HASH, hashRecord } from './canonical.js';
import { hashedFieldsOfRow } from './chain.js';
import { AuditEventError } from './event.js';
import type { AuditTables } from './tables.js';
import { appendTestRecords, openTestTrail } from './test-helpers.js';

/** Creates the table of the test's own "action", written in the same transaction as its record. */
async function createActionTable(db: Kysely<unknown>): Promise<void> {
  await sql`create table if not exists audit_test_actions (name varchar(64) primary key)`.execute(
    db,
  );
  await sql`delete from audit_test_actions`.execute(db);
}

async function actionNames(db: Kysely<unknown>): Promise<string[]> {
  const result = await sql<{
    name: string;
  }>`select name from audit_test_actions order by name`.execute(db);
  return result.rows.map((row) => row.name);
}

describeEachDialect('audit trail', (context) => {
  test('append numbers and chains records', async () => {
    const opened = await openTestTrail(context.handle());

    const first = await opened.trail.append(context.handle().db, {
      actor: 'user:default/alice',
      action: 'auth.sign-in',
      outcome: 'succeeded',
      request: { ip: '192.0.2.7', userAgent: 'curl/8.5.0', requestId: 'req-1' },
    });
    opened.clock.advance(1000);
    const second = await opened.trail.append(context.handle().db, {
      action: 'permission.denied',
      target: 'component:default/payments',
      outcome: 'denied',
      reason: 'no role grants catalog.entity.read',
    });

    assert.equal(first.sequence, 1);
    assert.equal(first.previousHash, GENESIS_HASH);
    assert.equal(first.time, '2025-01-01T00:00:00.000Z');
    assert.equal(first.ip, '192.0.2.7');
    assert.equal(first.userAgent, 'curl/8.5.0');
    assert.equal(first.requestId, 'req-1');
    assert.equal(second.sequence, 2);
    assert.equal(second.previousHash, first.hash);
    assert.equal(second.actor, null);
    assert.equal(second.time, '2025-01-01T00:00:01.000Z');
  });

  test('stored rows hash to their hash column', async () => {
    const opened = await openTestTrail(context.handle());
    await appendTestRecords(context.handle(), opened, 5);

    const db = context.handle().db as Kysely<AuditTables>;
    const rows = await db.selectFrom('audit_records').selectAll().orderBy('sequence').execute();

    assert.equal(rows.length, 5);
    for (const row of rows) {
      assert.equal(hashRecord(hashedFieldsOfRow(row)), row.hash, `record ${row.sequence}`);
    }
    const head = await db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
    assert.equal(Number(head.sequence), 5);
    assert.equal(head.hash, rows[4]?.hash);
  });

  test('committed action keeps its record', async () => {
    const opened = await openTestTrail(context.handle());
    const db = context.handle().db;
    await createActionTable(db);

    await db.transaction().execute(async (transaction) => {
      await sql`insert into audit_test_actions (name) values ('approve')`.execute(transaction);
      await opened.trail.append(transaction, {
        actor: 'user:default/alice',
        action: 'workflow.request.approved',
        outcome: 'succeeded',
      });
    });

    assert.deepEqual(await actionNames(db), ['approve']);
    const records = await opened.trail.list();
    assert.deepEqual(
      records.map((record) => record.action),
      ['workflow.request.approved'],
    );
  });

  test('rolled-back action leaves no record', async () => {
    const opened = await openTestTrail(context.handle());
    const db = context.handle().db;
    await createActionTable(db);

    await assert.rejects(
      db.transaction().execute(async (transaction) => {
        await sql`insert into audit_test_actions (name) values ('approve')`.execute(transaction);
        await opened.trail.append(transaction, {
          actor: 'user:default/alice',
          action: 'workflow.request.approved',
          outcome: 'succeeded',
        });
        throw new Error('the deployment failed');
      }),
      /the deployment failed/,
    );

    assert.deepEqual(await actionNames(db), []);
    assert.deepEqual(await opened.trail.list(), []);
    const next = await opened.trail.append(db, { action: 'test.after', outcome: 'succeeded' });
    assert.equal(next.sequence, 1, 'the rollback also returned the head, so no gap appears');
    assert.equal(next.previousHash, GENESIS_HASH);
    assert.equal((await opened.trail.verify()).ok, true);
  });

  test('secrets never reach the stored rows', async () => {
    const opened = await openTestTrail(context.handle());
    const jwt =
      'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
    const secrets = [
      'hunter2-password-value',
      'client-secret-value-123',
      'portal_session_cookie_value',
      'bearer-credential-abcdef',
      'api-key-value-987',
      'refresh-token-value-555',
      'session-id-value-777',
      'postgres-password-xyz',
      'query-token-value-321',
      'private-key-material',
      jwt,
    ];

    await opened.trail.append(context.handle().db, {
      actor: 'user:default/alice',
      action: 'auth.sign-in',
      target: `https://idp.example.com/callback?code=abc&access_token=${secrets[8]}`,
      outcome: 'failed',
      reason: `token ${jwt} was rejected; header was Bearer ${secrets[3]}`,
      request: { ip: '192.0.2.7', userAgent: `agent ${jwt}`, requestId: 'req-7' },
      details: {
        password: secrets[0],
        client_secret: secrets[1],
        headers: {
          Cookie: `portal_session=${secrets[2]}`,
          authorization: `Bearer ${secrets[3]}`,
          'X-Api-Key': secrets[4],
        },
        tokens: [{ refreshToken: secrets[5] }, { id_token: jwt }],
        session: { sessionId: secrets[6] },
        database: `postgres://portal:${secrets[7]}@db.example.com/portal`,
        nested: { deeper: { credentials: { privateKey: secrets[9] } } },
        error: new Error(`signature check failed for ${jwt}`),
        kept: { tokenId: 'token-42', groups: ['team-a'] },
      },
    });

    const db = context.handle().db as Kysely<AuditTables>;
    const stored = JSON.stringify(await db.selectFrom('audit_records').selectAll().execute());
    for (const secret of secrets) {
      assert.ok(!stored.includes(secret), `stored rows contain ${secret}`);
    }
    assert.ok(stored.includes('token-42'), 'a token id is a reference, not a secret');
    assert.ok(stored.includes('team-a'));
    assert.ok(stored.includes('[redacted]'));
  });

  test('malformed action is rejected', async () => {
    const opened = await openTestTrail(context.handle());

    await assert.rejects(
      opened.trail.append(context.handle().db, { action: 'Sign In', outcome: 'succeeded' }),
      (error: unknown) =>
        error instanceof AuditEventError && /Audit action 'Sign In'/.test(error.message),
    );
    await assert.rejects(
      opened.trail.append(context.handle().db, {
        action: 'auth.sign-in',
        outcome: 'ok' as never,
      }),
      /Audit outcome 'ok' of auth.sign-in is invalid/,
    );
    assert.deepEqual(await opened.trail.list(), []);
  });

  test('texts PostgreSQL cannot store are replaced', async () => {
    const opened = await openTestTrail(context.handle());

    const record = await opened.trail.append(context.handle().db, {
      action: 'test.text',
      outcome: 'succeeded',
      reason: 'nul\u0000 and lone \uD800 surrogate',
      details: { 'key\u0000': 'value\uDC00' },
    });

    const [stored] = await opened.trail.list();
    assert.equal(stored?.reason, 'nul\uFFFD and lone \uFFFD surrogate');
    assert.deepEqual(stored?.details, { 'key\uFFFD': 'value\uFFFD' });
    assert.equal(stored?.hash, record.hash);
    assert.equal((await opened.trail.verify()).ok, true);
  });

  test('list filters and pages by sequence', async () => {
    const opened = await openTestTrail(context.handle());
    await appendTestRecords(context.handle(), opened, 12);

    const denied = await opened.trail.list({ outcome: 'denied' });
    const byActor = await opened.trail.list({ actor: 'user:default/user-1' });
    const page = await opened.trail.list({ order: 'descending', beforeSequence: 10, limit: 3 });
    const range = await opened.trail.list({
      since: new Date('2025-01-01T00:00:02.000Z'),
      until: new Date('2025-01-01T00:00:05.000Z'),
    });

    assert.deepEqual(
      denied.map((record) => record.sequence),
      [1, 5, 9],
    );
    assert.deepEqual(
      byActor.map((record) => record.sequence),
      [2, 5, 8, 11],
    );
    assert.deepEqual(
      page.map((record) => record.sequence),
      [9, 8, 7],
    );
    assert.deepEqual(
      range.map((record) => record.sequence),
      [3, 4, 5],
    );
    await assert.rejects(opened.trail.list({ limit: 0 }), /limit 0 is invalid/);
  });

  test('checkpoint signs the head once', async () => {
    const opened = await openTestTrail(context.handle());
    await appendTestRecords(context.handle(), opened, 3);

    const checkpoint = await opened.trail.checkpoint();
    const again = await opened.trail.checkpoint();
    const report = await opened.trail.verify();

    assert.equal(checkpoint?.sequence, 3);
    assert.equal(checkpoint?.keyId, opened.keys.signer?.keyId);
    assert.equal(again, undefined, 'the head is already signed');
    assert.equal(report.ok, true);
    assert.equal(report.records, 3);
    assert.equal(report.checkpoints, 1);
  });

  test('checkpoint refuses a broken chain', async () => {
    const opened = await openTestTrail(context.handle());
    await appendTestRecords(context.handle(), opened, 4);
    await sql`update audit_records set actor = 'user:default/mallory' where sequence = 2`.execute(
      context.handle().db,
    );

    await assert.rejects(opened.trail.checkpoint(), /record 2 was changed/);
    const checkpoints = await sql`select * from audit_checkpoints`.execute(context.handle().db);
    assert.equal(checkpoints.rows.length, 0);
  });

  test('stop signs a last checkpoint', async () => {
    const opened = await openTestTrail(context.handle());
    await appendTestRecords(context.handle(), opened, 2);

    await opened.trail.stop();

    const report = await opened.trail.verify();
    assert.equal(report.checkpoints, 1);
    assert.equal(report.ok, true);
  });

  test('start signs checkpoints on the interval', async () => {
    const opened = await openTestTrail(context.handle(), { checkpoint: { intervalSeconds: 1 } });
    opened.trail.start();
    try {
      await appendTestRecords(context.handle(), opened, 2);
      await new Promise((resolve) => setTimeout(resolve, 1_500));

      const report = await opened.trail.verify();
      assert.equal(report.checkpoints, 1);
    } finally {
      await opened.trail.stop();
    }
  });

  test('empty trail verifies', async () => {
    const opened = await openTestTrail(context.handle());

    const report = await opened.trail.verify();

    assert.equal(report.ok, true);
    assert.equal(report.records, 0);
    assert.equal(await opened.trail.checkpoint(), undefined);
  });
});
