import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { RetryableExecutionError } from '../types.js';
import {
  createDeploymentWebhookExecutor,
  type DeploymentWebhookConfig,
  type DeploymentWebhookPayload,
} from './deployment-webhook.js';
import { ExecutionFailedError } from './http-delivery.js';
import {
  closedPortUrl,
  createCapturingLogger,
  deploymentRequest,
  duplicateKeys,
  executionContext,
  FIXED_NOW_MS,
  type ReceivedRequest,
  type ReceiverAnswer,
  runnerLogger,
  startTestReceiver,
  type TestReceiver,
} from './test-helpers.js';

const SECRET = 'whsec-test-0123456789abcdef0123456789abcdef';
const REPLAY_WINDOW_SECONDS = 300;

/**
 * Verifies a delivery by the steps in docs/workflows-executors.md,
 * written apart from the executor's signing code so that a signing fault
 * fails these tests. Returns the reason for a rejection, or undefined.
 */
function rejectionReason(
  headers: IncomingHttpHeaders,
  body: string,
  nowSeconds: number,
): string | undefined {
  const timestampHeader = headers['x-portal-timestamp'];
  const signatureHeader = headers['x-portal-signature'];
  if (typeof timestampHeader !== 'string' || !/^\d+$/.test(timestampHeader)) {
    return 'missing timestamp';
  }
  if (typeof signatureHeader !== 'string' || !signatureHeader.startsWith('sha256=')) {
    return 'missing signature';
  }
  if (Math.abs(nowSeconds - Number(timestampHeader)) > REPLAY_WINDOW_SECONDS) {
    return 'timestamp outside the replay window';
  }
  const expected = createHmac('sha256', SECRET).update(`${timestampHeader}.${body}`).digest();
  const given = Buffer.from(signatureHeader.slice('sha256='.length), 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return 'signature mismatch';
  }
  return undefined;
}

/** Starts a receiver that checks every delivery's signature against its own clock. */
async function startVerifyingReceiver(
  clock: { nowSeconds: number },
  answer: (request: ReceivedRequest, index: number) => ReceiverAnswer = () => ({ status: 200 }),
): Promise<TestReceiver> {
  return await startTestReceiver((request, index) => {
    const reason = rejectionReason(request.headers, request.body, clock.nowSeconds);
    if (reason) {
      return { status: 401, body: reason };
    }
    return answer(request, index);
  });
}

function webhookConfig(url: string, overrides: Partial<DeploymentWebhookConfig> = {}) {
  return { url, secret: SECRET, timeoutSeconds: 5, ...overrides };
}

describe('deployment webhook executor', () => {
  const clock = { nowSeconds: FIXED_NOW_MS / 1000 };
  let receiver: TestReceiver;

  before(async () => {
    receiver = await startVerifyingReceiver(clock);
  });

  after(async () => {
    await receiver.close();
  });

  test('delivers signed payload', async () => {
    const { logger, lines } = createCapturingLogger();
    const executor = createDeploymentWebhookExecutor({
      config: webhookConfig(`${receiver.origin}/deploy?token=query-credential`),
      now: () => FIXED_NOW_MS,
    });
    const request = deploymentRequest();
    const first = receiver.received.length;

    const outcome = await executor.execute(
      executionContext(request, { logger: runnerLogger(logger, request) }),
    );

    assert.equal(executor.type, 'deployment');
    assert.equal(executor.trigger, 'automatic');
    assert.equal(receiver.received.length, first + 1);
    const delivery = receiver.received[first];
    assert.ok(delivery);
    assert.equal(delivery.method, 'POST');
    assert.equal(delivery.path, '/deploy?token=query-credential');
    assert.equal(delivery.headers['content-type'], 'application/json');
    assert.equal(delivery.headers['x-portal-timestamp'], String(FIXED_NOW_MS / 1000));
    assert.equal(delivery.headers['idempotency-key'], `deployment-${request.id}`);
    assert.match(String(delivery.headers['x-portal-signature']), /^sha256=[0-9a-f]{64}$/);
    assert.equal(rejectionReason(delivery.headers, delivery.body, clock.nowSeconds), undefined);

    const payload = JSON.parse(delivery.body) as DeploymentWebhookPayload;
    assert.equal(payload.type, 'deployment');
    assert.equal(payload.requestId, request.id);
    assert.equal(payload.entityRef, 'component:default/orders');
    assert.equal(payload.environment, 'production');
    assert.equal(payload.version, '1.4.2');
    assert.equal(payload.gitRef, null);
    assert.equal(payload.requester, 'user:default/ada');
    assert.deepEqual(payload.approvers, ['user:default/grace']);
    assert.equal(payload.idempotencyKey, `deployment-${request.id}`);
    assert.equal(payload.attempt, 1);

    assert.equal(outcome.secret, undefined);
    assert.equal(outcome.result.executor, 'webhook');
    assert.equal(outcome.result.status, 200);
    assert.equal(outcome.result.endpoint, `${receiver.origin}/deploy`);
    assert.equal(outcome.result.deliveredAt, '2026-12-05T10:00:00.000Z');

    const logged = lines.join('\n');
    const delivered = lines.find((line) => line.includes('deployment webhook delivered'));
    assert.ok(delivered, logged);
    assert.match(delivered, new RegExp(request.id));
    assert.deepEqual(duplicateKeys(delivered), [], delivered);
    assert.doesNotMatch(logged, new RegExp(SECRET));
    assert.doesNotMatch(logged, /query-credential/);
  });

  test('receiver rejects tampered body', async () => {
    const executor = createDeploymentWebhookExecutor({
      config: webhookConfig(`${receiver.origin}/deploy`),
      now: () => FIXED_NOW_MS,
    });
    const first = receiver.received.length;
    await executor.execute(executionContext(deploymentRequest()));
    const delivery = receiver.received[first];
    assert.ok(delivery);

    const headers = {
      'content-type': 'application/json',
      'x-portal-timestamp': String(delivery.headers['x-portal-timestamp']),
      'x-portal-signature': String(delivery.headers['x-portal-signature']),
    };
    const replayed = await fetch(`${receiver.origin}/deploy`, {
      method: 'POST',
      headers,
      body: delivery.body,
    });
    assert.equal(replayed.status, 200, 'the untouched delivery must verify');

    const tampered = await fetch(`${receiver.origin}/deploy`, {
      method: 'POST',
      headers,
      body: delivery.body.replace('"production"', '"staging"'),
    });
    assert.equal(tampered.status, 401);
    assert.equal(await tampered.text(), 'signature mismatch');

    const shiftedTime = await fetch(`${receiver.origin}/deploy`, {
      method: 'POST',
      headers: { ...headers, 'x-portal-timestamp': String(FIXED_NOW_MS / 1000 + 1) },
      body: delivery.body,
    });
    assert.equal(shiftedTime.status, 401);
    assert.equal(await shiftedTime.text(), 'signature mismatch');
  });

  test('receiver rejects stale timestamp', async () => {
    const staleClock = { nowSeconds: FIXED_NOW_MS / 1000 + REPLAY_WINDOW_SECONDS + 1 };
    const stale = await startVerifyingReceiver(staleClock);
    try {
      const executor = createDeploymentWebhookExecutor({
        config: webhookConfig(`${stale.origin}/deploy`),
        now: () => FIXED_NOW_MS,
      });

      await assert.rejects(executor.execute(executionContext(deploymentRequest())), (error) => {
        assert.ok(error instanceof ExecutionFailedError);
        assert.match(error.message, /rejected the request with 401/);
        assert.match(error.message, /timestamp outside the replay window/);
        return true;
      });
    } finally {
      await stale.close();
    }
  });

  test('wrong secret fails permanently', async () => {
    const otherSecret = 'another-secret-0123456789abcdef012345';
    const executor = createDeploymentWebhookExecutor({
      config: webhookConfig(`${receiver.origin}/deploy`, { secret: otherSecret }),
      now: () => FIXED_NOW_MS,
    });

    await assert.rejects(executor.execute(executionContext(deploymentRequest())), (error) => {
      assert.ok(error instanceof ExecutionFailedError);
      assert.match(error.message, /401: signature mismatch/);
      assert.doesNotMatch(error.message, new RegExp(otherSecret));
      return true;
    });
  });

  test('sends gitRef and stored approvers', async () => {
    const executor = createDeploymentWebhookExecutor({
      config: webhookConfig(`${receiver.origin}/deploy`),
      now: () => FIXED_NOW_MS,
    });
    const request = deploymentRequest({
      parameters: { environment: 'staging', gitRef: 'refs/tags/v2.0.0' },
      result: { approvers: ['user:default/linus', 42] },
    });
    const first = receiver.received.length;

    await executor.execute(executionContext(request, { approvers: undefined, attempt: 3 }));

    const payload = JSON.parse(receiver.received[first]?.body ?? '{}') as DeploymentWebhookPayload;
    assert.equal(payload.version, null);
    assert.equal(payload.gitRef, 'refs/tags/v2.0.0');
    assert.equal(payload.environment, 'staging');
    assert.deepEqual(payload.approvers, ['user:default/linus']);
    assert.equal(payload.attempt, 3);
  });

  test('rejects request of another type', async () => {
    const executor = createDeploymentWebhookExecutor({
      config: webhookConfig(`${receiver.origin}/deploy`),
    });
    const request = deploymentRequest({ type: 'role-elevation', entityRef: null });
    const first = receiver.received.length;

    await assert.rejects(executor.execute(executionContext(request)), ExecutionFailedError);
    assert.equal(receiver.received.length, first, 'nothing may be sent');
  });
});

describe('deployment webhook retry classification', () => {
  const clock = { nowSeconds: FIXED_NOW_MS / 1000 };

  test('503 then 200 succeeds with same key', async () => {
    const receiver = await startVerifyingReceiver(clock, (_request, index) =>
      index === 0
        ? { status: 503, body: 'maintenance', headers: { 'retry-after': '7' } }
        : { status: 200 },
    );
    try {
      const executor = createDeploymentWebhookExecutor({
        config: webhookConfig(`${receiver.origin}/deploy`),
        now: () => FIXED_NOW_MS,
      });
      const request = deploymentRequest();

      await assert.rejects(executor.execute(executionContext(request, { attempt: 1 })), (error) => {
        assert.ok(error instanceof RetryableExecutionError);
        assert.match(error.message, /responded with 503 \(Retry-After: 7\): maintenance/);
        return true;
      });
      const outcome = await executor.execute(executionContext(request, { attempt: 2 }));

      assert.equal(outcome.result.status, 200);
      assert.equal(receiver.received.length, 2);
      const keys = receiver.received.map((entry) => entry.headers['idempotency-key']);
      assert.deepEqual(keys, [`deployment-${request.id}`, `deployment-${request.id}`]);
    } finally {
      await receiver.close();
    }
  });

  const statusCases: { status: number; retryable: boolean }[] = [
    { status: 400, retryable: false },
    { status: 403, retryable: false },
    { status: 404, retryable: false },
    { status: 422, retryable: false },
    { status: 408, retryable: true },
    { status: 429, retryable: true },
    { status: 500, retryable: true },
    { status: 502, retryable: true },
  ];
  for (const { status, retryable } of statusCases) {
    test(`${status} is ${retryable ? 'retryable' : 'permanent'}`, async () => {
      const receiver = await startVerifyingReceiver(clock, () => ({ status, body: 'no' }));
      try {
        const executor = createDeploymentWebhookExecutor({
          config: webhookConfig(`${receiver.origin}/deploy`),
          now: () => FIXED_NOW_MS,
        });

        await assert.rejects(executor.execute(executionContext(deploymentRequest())), (error) => {
          assert.equal(error instanceof RetryableExecutionError, retryable);
          assert.equal(error instanceof ExecutionFailedError, !retryable);
          assert.match((error as Error).message, new RegExp(`\\b${status}\\b`));
          return true;
        });
      } finally {
        await receiver.close();
      }
    });
  }

  test('redirect is permanent', async () => {
    const receiver = await startVerifyingReceiver(clock, () => ({
      status: 302,
      headers: { location: 'https://deploy.example.com/new?key=hidden' },
    }));
    try {
      const executor = createDeploymentWebhookExecutor({
        config: webhookConfig(`${receiver.origin}/deploy`),
        now: () => FIXED_NOW_MS,
      });

      await assert.rejects(executor.execute(executionContext(deploymentRequest())), (error) => {
        assert.ok(error instanceof ExecutionFailedError);
        assert.match(error.message, /302 redirect to https:\/\/deploy\.example\.com\/new:/);
        assert.doesNotMatch(error.message, /hidden/);
        return true;
      });
      assert.equal(receiver.received.length, 1);
    } finally {
      await receiver.close();
    }
  });

  test('timeout is retryable', async () => {
    const receiver = await startVerifyingReceiver(clock, () => ({ hang: true }));
    try {
      const executor = createDeploymentWebhookExecutor({
        config: webhookConfig(`${receiver.origin}/deploy`, { timeoutSeconds: 0.2 }),
        now: () => FIXED_NOW_MS,
      });
      const started = Date.now();

      await assert.rejects(executor.execute(executionContext(deploymentRequest())), (error) => {
        assert.ok(error instanceof RetryableExecutionError);
        assert.match(error.message, /timed out after 200 ms/);
        return true;
      });
      assert.ok(Date.now() - started < 3_000, 'the timeout must end the call');
    } finally {
      await receiver.close();
    }
  });

  test('refused connection is retryable', async () => {
    const executor = createDeploymentWebhookExecutor({
      config: webhookConfig(await closedPortUrl()),
      now: () => FIXED_NOW_MS,
    });

    await assert.rejects(executor.execute(executionContext(deploymentRequest())), (error) => {
      assert.ok(error instanceof RetryableExecutionError);
      assert.match(error.message, /failed: ECONNREFUSED/);
      assert.doesNotMatch(error.message, new RegExp(SECRET));
      return true;
    });
  });

  test('shutdown abort is retryable', async () => {
    const receiver = await startVerifyingReceiver(clock, () => ({ hang: true }));
    try {
      const executor = createDeploymentWebhookExecutor({
        config: webhookConfig(`${receiver.origin}/deploy`),
        now: () => FIXED_NOW_MS,
      });
      const shutdown = new AbortController();
      const running = executor.execute(
        executionContext(deploymentRequest(), { signal: shutdown.signal }),
      );
      while (receiver.received.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      shutdown.abort();

      await assert.rejects(running, (error) => {
        assert.ok(error instanceof RetryableExecutionError);
        assert.match(error.message, /aborted because the server is stopping/);
        return true;
      });
    } finally {
      await receiver.close();
    }
  });
});
