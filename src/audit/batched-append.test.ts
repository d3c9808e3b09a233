import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { createBatchedAppender } from './batched-append.js';
import { AuditEventError } from './event.js';
import { openTestTrail } from './test-helpers.js';

/** Wraps the database to count the transactions that the appender opens on it. */
// biome-ignore lint/suspicious/noExplicitAny: the appender takes any Kysely instance.
function countingTransactions(db: Kysely<any>): { db: Kysely<any>; count: () => number } {
  let count = 0;
  const counting = Object.create(db, {
    transaction: {
      value: () => {
        count += 1;
        return db.transaction();
      },
    },
  });
  return { db: counting, count: () => count };
}

describeEachDialect('batched audit appender', (context) => {
  test('appends concurrent events in shared transactions', async () => {
    const { trail } = await openTestTrail(context.handle());
    const counted = countingTransactions(context.handle().db);
    const appender = createBatchedAppender(trail, counted.db);
    const count = 400;

    await Promise.all(
      Array.from({ length: count }, (_, index) =>
        appender.append({
          action: 'auth.unauthenticated',
          outcome: 'denied',
          request: { requestId: `request-${index}` },
        }),
      ),
    );

    const records = await trail.list({ limit: 10_000 });
    assert.equal(records.length, count);
    assert.deepEqual(
      new Set(records.map((record) => record.requestId)),
      new Set(Array.from({ length: count }, (_, index) => `request-${index}`)),
    );
    assert.ok(counted.count() < count, `${counted.count()} transactions for ${count} events`);
    const report = await trail.verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  });

  test('a malformed event fails alone', async () => {
    const { trail } = await openTestTrail(context.handle());
    const appender = createBatchedAppender(trail, context.handle().db);

    const results = await Promise.allSettled([
      appender.append({ action: 'test.first', outcome: 'denied' }),
      appender.append({ action: 'test.second', outcome: 'denied' }),
      appender.append({ action: 'Not An Action', outcome: 'denied' }),
      appender.append({ action: 'test.fourth', outcome: 'denied' }),
    ]);

    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    const rejected = results[2] as PromiseRejectedResult;
    assert.ok(rejected.reason instanceof AuditEventError);
    const actions = (await trail.list()).map((record) => record.action);
    assert.deepEqual(actions, ['test.first', 'test.second', 'test.fourth']);
  });

  test('appends again after an idle time', async () => {
    const { trail } = await openTestTrail(context.handle());
    const appender = createBatchedAppender(trail, context.handle().db);

    await appender.append({ action: 'test.first', outcome: 'denied' });
    await appender.append({ action: 'test.second', outcome: 'denied' });

    const actions = (await trail.list()).map((record) => record.action);
    assert.deepEqual(actions, ['test.first', 'test.second']);
  });
});
