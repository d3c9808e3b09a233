import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../test/support/databases.js';
import { PROJECT_ROOT, startTestPortal, type TestPortal } from '../../test/support/portal.js';
import type { Principal } from '../permissions/index.js';
import {
  type RequestDetails,
  type RequestExecutor,
  RetryableExecutionError,
  retryDelayMs,
} from './index.js';

/**
 * The execution runner with an executor whose behaviour the requested
 * version picks: `flaky-N` fails N times with a retryable fault, `down`
 * always does, `broken` fails without a retry.
 */

const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');
const RULES_FILE = path.join(PROJECT_ROOT, 'test', 'fixtures', 'workflows', 'approval-rules.yaml');

test('retry delay doubles up to the cap', () => {
  const settings = {
    maxAttempts: 5,
    retryBaseDelayMs: 100,
    retryMaxDelayMs: 350,
    leaseSeconds: 1,
    pollIntervalSeconds: 1,
    expirySweepIntervalSeconds: 1,
  };
  assert.deepEqual(
    [1, 2, 3, 4].map((attempt) => retryDelayMs(settings, attempt)),
    [100, 200, 350, 350],
  );
});

describeEachDialect('request execution runner', ({ dialect }) => {
  let started: TestPortal;
  let amara: Principal;
  const attemptsSeen = new Map<string, Array<{ attempt: number; key: string }>>();

  const executor: RequestExecutor = {
    type: 'deployment',
    trigger: 'automatic',
    async execute(context) {
      const version = String(context.request.parameters.version);
      const seen = attemptsSeen.get(context.request.id) ?? [];
      seen.push({ attempt: context.attempt, key: context.idempotencyKey });
      attemptsSeen.set(context.request.id, seen);

      if (version === 'broken') {
        throw new Error('the manifest is invalid');
      }
      if (version === 'down') {
        throw new RetryableExecutionError('the deploy service answered 503');
      }
      const failures = Number(/^flaky-(\d+)$/.exec(version)?.[1] ?? 0);
      if (context.attempt <= failures) {
        throw new RetryableExecutionError(`attempt ${context.attempt} timed out`);
      }
      return { result: { version, attempt: context.attempt } };
    },
  };

  before(async () => {
    started = await startTestPortal({
      dialect,
      overrides: {
        catalog: {
          locations: [
            { type: 'file', target: ORGANISATION_FILE, rules: [{ allow: ['User', 'Group'] }] },
          ],
        },
        audit: { checkpoint: { intervalSeconds: 0 } },
        workflows: {
          rulesFile: RULES_FILE,
          engine: { maxAttempts: 3, retryBaseDelayMs: 5, pollIntervalSeconds: 0.1 },
        },
      },
      workflows: { executors: [executor] },
    });
    const principal = await started.portal.identity.resolvePrincipal('user:default/amara.okafor');
    assert.ok(principal);
    amara = principal;
  });

  after(async () => {
    await started?.close();
  });

  async function runToEnd(version: string): Promise<RequestDetails> {
    const workflows = started.portal.workflows;
    assert.ok(workflows);
    const request = await workflows.engine.create(amara, {
      type: 'deployment',
      parameters: { entity: 'component:default/booking-api', environment: 'auto', version },
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const current = await workflows.engine.find(request.id);
      if (current && (current.state === 'succeeded' || current.state === 'failed')) {
        return current;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`request ${request.id} did not finish`);
  }

  const actionsOf = async (id: string) =>
    (await started.portal.audit.list({ target: `workflow-request:${id}`, limit: 100 })).map(
      (record) => record.action,
    );

  test('retryable faults are retried', async () => {
    const request = await runToEnd('flaky-2');
    assert.equal(request.state, 'succeeded');
    assert.equal(request.attempts, 3);
    assert.deepEqual(request.result, { version: 'flaky-2', attempt: 3 });
    const seen = attemptsSeen.get(request.id) ?? [];
    assert.deepEqual(
      seen.map((entry) => entry.attempt),
      [1, 2, 3],
    );
    assert.equal(new Set(seen.map((entry) => entry.key)).size, 1, 'one idempotency key');
    assert.deepEqual(await actionsOf(request.id), [
      'request.submitted',
      'request.approved',
      'request.executing',
      'request.attempt-failed',
      'request.attempt-failed',
      'request.succeeded',
    ]);
  });

  test('attempts run out', async () => {
    const request = await runToEnd('down');
    assert.equal(request.state, 'failed');
    assert.equal(request.attempts, 3);
    assert.deepEqual(request.result, { error: 'the deploy service answered 503' });
  });

  test('other errors fail at once', async () => {
    const request = await runToEnd('broken');
    assert.equal(request.state, 'failed');
    assert.equal(request.attempts, 1);
    assert.equal((await actionsOf(request.id)).at(-1), 'request.failed');
  });

  test('type without executor stays approved', async () => {
    const workflows = started.portal.workflows;
    assert.ok(workflows);
    // No workflows.awsCredentials in this config, so the type has no executor.
    const request = await workflows.engine.create(amara, {
      type: 'aws-credentials',
      parameters: {
        entity: 'component:default/booking-api',
        role: 'deployer',
        environment: 'staging',
        durationSeconds: 900,
      },
      reason: 'load test',
    });
    assert.equal(request.state, 'approved');
    await workflows.runner.drain();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const current = await workflows.engine.find(request.id);
    assert.equal(current?.state, 'approved');
    assert.match(
      String(current?.result?.message),
      /No executor is registered for aws-credentials .*: configure workflows\.awsCredentials$/,
    );
  });
});
