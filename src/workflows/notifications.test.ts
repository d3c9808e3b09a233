import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../test/support/portal.js';
import {
  closedPortUrl,
  createCapturingLogger,
  deploymentRequest,
  type ReceiverAnswer,
  startTestReceiver,
  type TestReceiver,
} from './executors/test-helpers.js';
import { createRequestNotifier, defaultRequestLink, type SlackMessage } from './notifications.js';

/** The secret part of a Slack incoming-webhook URL, which no log line may show. */
const SECRET_PATH = '/services/T0001/B0002/xoxsecretpath0123456789';
const BASE_URL = 'https://portal.example.com/';

async function withReceiver(
  answer: (index: number) => ReceiverAnswer,
  run: (receiver: TestReceiver) => Promise<void>,
): Promise<void> {
  const receiver = await startTestReceiver((_request, index) => answer(index));
  try {
    await run(receiver);
  } finally {
    await receiver.close();
  }
}

function fieldTexts(message: SlackMessage): string[] {
  const texts: string[] = [];
  for (const block of message.blocks) {
    if (block.type === 'section') {
      texts.push(...(block.fields ?? []).map((field) => field.text));
    }
  }
  return texts;
}

test('default links open shell views that exist', async () => {
  const config = parse(
    await readFile(path.join(PROJECT_ROOT, 'examples', 'app-config.yaml'), 'utf8'),
  ) as { shell: { nodes: Array<{ pathSegment: string }> } };
  const segments = config.shell.nodes.map((node) => node.pathSegment);
  const id = '6f1c2a4e-0000-4000-8000-000000000001';
  const cases = [
    { kind: 'submitted', expected: 'https://portal.example.com/approvals' },
    { kind: 'decided', expected: `https://portal.example.com/requests?~request=${id}` },
    { kind: 'result', expected: `https://portal.example.com/requests?~request=${id}` },
  ] as const;
  for (const item of cases) {
    const link = defaultRequestLink(BASE_URL, id, item.kind);
    assert.equal(link, item.expected, item.kind);
    const segment = new URL(link).pathname.split('/')[1] ?? '';
    assert.ok(
      segments.includes(segment),
      `${item.kind}: /${segment} is a node of the example shell`,
    );
  }
});

describe('request notifier', () => {
  test('posts Slack-compatible body', async () => {
    await withReceiver(
      () => ({ status: 200, body: 'ok' }),
      async (receiver) => {
        const { logger } = createCapturingLogger();
        const notifier = createRequestNotifier(
          { webhook: { url: `${receiver.origin}${SECRET_PATH}` } },
          { baseUrl: BASE_URL, logger },
        );
        const request = deploymentRequest({
          state: 'submitted',
          reason: 'Fix <script>alert(1)</script> & roll out',
          breakGlass: true,
        });

        await notifier.notify('submitted', request);
        await notifier.flush();

        assert.equal(receiver.received.length, 1);
        const call = receiver.received[0];
        assert.equal(call?.method, 'POST');
        assert.equal(call?.path, SECRET_PATH);
        assert.equal(call?.headers['content-type'], 'application/json');

        const message = JSON.parse(call?.body ?? '{}') as SlackMessage;
        const link = 'https://portal.example.com/approvals';
        assert.equal(
          message.text,
          `Deployment request submitted for component:default/orders in production, requested by user:default/ada: <${link}>`,
        );
        assert.deepEqual(message.blocks[0], {
          type: 'header',
          text: { type: 'plain_text', text: 'Deployment request submitted' },
        });
        assert.deepEqual(fieldTexts(message), [
          '*Type*\ndeployment',
          '*Entity*\ncomponent:default/orders',
          '*Environment*\nproduction',
          '*Requester*\nuser:default/ada',
          '*State*\nsubmitted',
          '*Break-glass*\nyes: flagged for review',
        ]);
        const texts = message.blocks.map((block) => JSON.stringify(block)).join('\n');
        assert.match(texts, /Fix &lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; roll out/);
        assert.doesNotMatch(texts, /<script>/);
        assert.ok(texts.includes(`<${link}|Open the request>`));
        assert.ok(texts.includes(`submitted · request ${request.id}`));
      },
    );
  });

  test('title follows state', async () => {
    await withReceiver(
      () => ({ status: 200 }),
      async (receiver) => {
        const notifier = createRequestNotifier(
          { webhook: { url: `${receiver.origin}/hook` } },
          {
            baseUrl: BASE_URL,
            logger: createCapturingLogger().logger,
            requestUrl: (id, kind) => `https://portal.example.com/r/${kind}/${id}`,
          },
        );

        await notifier.notify('decided', deploymentRequest({ state: 'denied' }));
        await notifier.notify(
          'result',
          deploymentRequest({
            state: 'failed',
            type: 'role-elevation',
            entityRef: null,
            parameters: {},
          }),
        );
        await notifier.flush();

        const messages = receiver.received.map((call) => JSON.parse(call.body) as SlackMessage);
        assert.equal(messages.length, 2);
        assert.equal(messages[0]?.blocks[0]?.type, 'header');
        assert.match(messages[0]?.text ?? '', /^Deployment request denied /);
        assert.match(messages[1]?.text ?? '', /^Role elevation request failed, requested by/);
        assert.match(messages[1]?.text ?? '', /<https:\/\/portal\.example\.com\/r\/result\//);
        assert.deepEqual(fieldTexts(messages[1] as SlackMessage), [
          '*Type*\nrole-elevation',
          '*Requester*\nuser:default/ada',
          '*State*\nfailed',
        ]);
      },
    );
  });

  test('retries 5xx then delivers', async () => {
    await withReceiver(
      (index) => (index < 2 ? { status: 503, body: 'busy' } : { status: 200 }),
      async (receiver) => {
        const { logger, lines } = createCapturingLogger();
        const notifier = createRequestNotifier(
          { webhook: { url: `${receiver.origin}${SECRET_PATH}` } },
          { baseUrl: BASE_URL, logger, retryDelayMs: 20 },
        );
        const request = deploymentRequest({ state: 'approved' });

        await notifier.notify('decided', request);
        await notifier.flush();

        assert.equal(receiver.received.length, 3);
        const bodies = new Set(receiver.received.map((call) => call.body));
        assert.equal(bodies.size, 1, 'every retry sends the same body');
        const retries = lines.filter((line) =>
          line.includes('request notification failed; retrying'),
        );
        assert.equal(retries.length, 2);
        assert.ok(retries.every((line) => line.includes(request.id)));
        assert.ok(retries.every((line) => line.includes(`"endpoint":"${receiver.origin}"`)));
        assert.doesNotMatch(lines.join('\n'), /xoxsecretpath/);
      },
    );
  });

  test('400 is not retried', async () => {
    await withReceiver(
      () => ({ status: 400, body: 'invalid_blocks' }),
      async (receiver) => {
        const { logger, lines } = createCapturingLogger();
        const notifier = createRequestNotifier(
          { webhook: { url: `${receiver.origin}${SECRET_PATH}` } },
          { baseUrl: BASE_URL, logger, retryDelayMs: 20 },
        );

        await notifier.notify('submitted', deploymentRequest());
        await notifier.flush();

        assert.equal(receiver.received.length, 1);
        const logged = lines.join('\n');
        assert.match(logged, /request notification rejected; not retrying/);
        assert.match(logged, /400: invalid_blocks/);
        assert.doesNotMatch(logged, /xoxsecretpath/);
      },
    );
  });

  test('unreachable endpoint never throws', async () => {
    const { logger, lines } = createCapturingLogger();
    const url = (await closedPortUrl()).replace(/\/hook$/, SECRET_PATH);
    const notifier = createRequestNotifier(
      { webhook: { url } },
      { baseUrl: BASE_URL, logger, retryDelayMs: 10, maxAttempts: 3 },
    );
    const request = deploymentRequest();

    await notifier.notify('result', request);
    await notifier.flush();

    const logged = lines.join('\n');
    assert.equal(lines.filter((line) => line.includes('failed; retrying')).length, 2);
    const givenUp = lines.filter((line) => line.includes('request notification failed; giving up'));
    assert.equal(givenUp.length, 1);
    assert.match(givenUp[0] ?? '', new RegExp(request.id));
    assert.match(givenUp[0] ?? '', /ECONNREFUSED/);
    assert.doesNotMatch(logged, /xoxsecretpath/);
  });

  test('full queue drops oldest', async () => {
    await withReceiver(
      (index) => (index === 0 ? { hang: true } : { status: 200 }),
      async (receiver) => {
        const { logger, lines } = createCapturingLogger();
        // The first call hangs until its timeout, so the others wait in the queue.
        const notifier = createRequestNotifier(
          { webhook: { url: `${receiver.origin}/hook` } },
          { baseUrl: BASE_URL, logger, queueSize: 2, timeoutMs: 300, maxAttempts: 1 },
        );

        for (const id of ['id-1', 'id-2', 'id-3', 'id-4', 'id-5']) {
          await notifier.notify('submitted', deploymentRequest({ id }));
        }
        await notifier.flush();

        const delivered = receiver.received.map((call) => {
          const message = JSON.parse(call.body) as SlackMessage;
          return /· request (id-\d)/.exec(JSON.stringify(message.blocks))?.[1];
        });
        assert.deepEqual(delivered, ['id-1', 'id-4', 'id-5']);
        const dropped = lines.filter((line) => line.includes('dropped: the queue is full'));
        assert.equal(dropped.length, 2);
        assert.match(dropped[0] ?? '', /"requestId":"id-2"/);
        assert.match(dropped[1] ?? '', /"requestId":"id-3"/);
        assert.match(lines.join('\n'), /"requestId":"id-1".*timed out after 300 ms/);
      },
    );
  });

  test('stop drops queued notifications', async () => {
    await withReceiver(
      () => ({ hang: true }),
      async (receiver) => {
        const { logger, lines } = createCapturingLogger();
        const notifier = createRequestNotifier(
          { webhook: { url: `${receiver.origin}/hook` } },
          { baseUrl: BASE_URL, logger, timeoutMs: 10_000 },
        );

        await notifier.notify('submitted', deploymentRequest({ id: 'first' }));
        await notifier.notify('submitted', deploymentRequest({ id: 'second' }));
        while (receiver.received.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const started = Date.now();
        await notifier.stop();
        await notifier.notify('result', deploymentRequest({ id: 'third' }));

        assert.ok(Date.now() - started < 2_000, 'stop must not wait for the timeout');
        assert.equal(receiver.received.length, 1);
        const logged = lines.join('\n');
        assert.match(logged, /request notification abandoned at shutdown/);
        assert.match(logged, /"dropped":1/);
        assert.match(logged, /"requestId":"third".*the notifier has stopped/);
      },
    );
  });
});
