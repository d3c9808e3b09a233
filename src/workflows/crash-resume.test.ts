import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Kysely } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { HttpClient } from '../../test/support/http-client.js';
import { EXAMPLE_CONFIG, freePort, PROJECT_ROOT } from '../../test/support/portal.js';
import { connectDatabase, type DatabaseHandle } from '../database/index.js';
import type { RequestDetails } from './index.js';
import type { WorkflowTables } from './tables.js';

/**
 * A portal in a child process is killed with SIGKILL while its executor
 * waits for a webhook on loopback. A second portal on the same database
 * takes the request over when the lease runs out, and the webhook, which
 * acts once per idempotency key, receives the same key both times.
 */

const CHILD = path.join(PROJECT_ROOT, 'test', 'fixtures', 'workflows', 'portal-child.ts');
const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');

interface WebhookCall {
  key: string;
  body: { id: string; attempt: number };
}

/** A deployment target that acts once per idempotency key and leaves the first call unanswered. */
function startWebhook() {
  const calls: WebhookCall[] = [];
  const performed = new Set<string>();
  const held: ServerResponse[] = [];
  let firstCall: () => void = () => {};
  const firstCallReceived = new Promise<void>((resolve) => {
    firstCall = resolve;
  });

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const key = String(request.headers['idempotency-key'] ?? '');
      calls.push({ key, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      const first = !performed.has(key);
      performed.add(key);
      if (calls.length === 1) {
        // The deployment has started, but the caller dies before it hears back.
        held.push(response);
        firstCall();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ deployed: true, replayed: !first }));
    });
  });
  return { server, calls, performed, held, firstCallReceived };
}

async function startChild(
  overrides: Record<string, unknown>,
  folder: string,
  webhookUrl: string,
  name: string,
): Promise<ChildProcess> {
  const file = path.join(folder, `${name}.json`);
  writeFileSync(file, JSON.stringify(overrides));
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, EXAMPLE_CONFIG, file], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, WEBHOOK_URL: webhookUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready ')) resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`portal ${name} exited with ${code}: ${output}`)),
    );
  });
  return child;
}

describeEachDialect('request execution after a crash', ({ dialect, database }) => {
  let folder: string;
  let webhook: ReturnType<typeof startWebhook>;
  let webhookUrl: string;
  let handle: DatabaseHandle;
  const children: ChildProcess[] = [];

  before(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'portal-crash-'));
    webhook = startWebhook();
    webhook.server.listen(0, '127.0.0.1');
    await once(webhook.server, 'listening');
    const address = webhook.server.address();
    webhookUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/deploy`;
  });

  after(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
    }
    for (const response of webhook.held) {
      response.destroy();
    }
    webhook.server.close();
    await handle?.destroy();
    rmSync(folder, { recursive: true, force: true });
  });

  async function overridesFor(): Promise<{ overrides: Record<string, unknown>; url: string }> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      overrides: {
        app: { baseUrl: url },
        backend: { listen: { host: '127.0.0.1', port } },
        database: database().config,
        catalog: {
          locations: [
            { type: 'file', target: ORGANISATION_FILE, rules: [{ allow: ['User', 'Group'] }] },
          ],
        },
        audit: { checkpoint: { intervalSeconds: 0 } },
        workflows: {
          engine: { leaseSeconds: 1, pollIntervalSeconds: 0.2, retryBaseDelayMs: 50 },
        },
      },
    };
  }

  test('killed portal resumes exactly once', { timeout: 60_000 }, async () => {
    const first = await overridesFor();
    const crashing = await startChild(first.overrides, folder, webhookUrl, `first-${dialect}`);
    children.push(crashing);

    const amara = new HttpClient(first.url);
    await amara.signInWithDevelopmentProvider('amara', 'demo', '/');
    const jonas = new HttpClient(first.url);
    await jonas.signInWithDevelopmentProvider('jonas', 'demo', '/');

    const created = await amara.request('/api/workflows/requests', {
      json: {
        type: 'deployment',
        parameters: {
          entity: 'component:default/booking-api',
          environment: 'production',
          version: '9.9.9',
        },
      },
    });
    assert.equal(created.status, 201, created.body);
    const request = JSON.parse(created.body) as RequestDetails;
    const approved = await jonas.request(`/api/workflows/requests/${request.id}/approve`, {
      json: { comment: 'ship it' },
    });
    assert.equal(approved.status, 200, approved.body);

    await webhook.firstCallReceived;
    crashing.kill('SIGKILL');
    await once(crashing, 'exit');

    const second = await overridesFor();
    const resuming = await startChild(second.overrides, folder, webhookUrl, `second-${dialect}`);
    children.push(resuming);

    handle = connectDatabase(database().config);
    const db = handle.db as Kysely<WorkflowTables>;
    let state = '';
    let attempts = 0;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const row = await db
        .selectFrom('workflow_requests')
        .select(['state', 'attempts'])
        .where('id', '=', request.id)
        .executeTakeFirstOrThrow();
      state = row.state;
      attempts = row.attempts;
      if (state === 'succeeded' || state === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // Stopped here, before the suite drops its database.
    resuming.kill('SIGTERM');
    await once(resuming, 'exit');

    assert.equal(state, 'succeeded');
    assert.equal(attempts, 2);
    assert.equal(webhook.calls.length, 2);
    assert.equal(webhook.calls[0]?.key, `workflow-request-${request.id}`);
    assert.equal(webhook.calls[1]?.key, webhook.calls[0]?.key);
    assert.equal(webhook.performed.size, 1, 'the webhook acted once');

    const records = await handle.db
      .selectFrom('audit_records' as never)
      .select(['action' as never, 'reason' as never])
      .where('target' as never, '=', `workflow-request:${request.id}` as never)
      .orderBy('sequence' as never)
      .execute();
    const actions = (records as Array<{ action: string }>).map((record) => record.action);
    assert.deepEqual(actions, [
      'request.submitted',
      'request.approved',
      'request.executing',
      'request.executing',
      'request.succeeded',
    ]);
  });
});
