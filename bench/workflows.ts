import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { DialectName } from '../src/database/index.js';
import { HttpClient } from '../test/support/http-client.js';
import { PROJECT_ROOT, startTestPortal } from '../test/support/portal.js';

export interface WorkflowFigures {
  dialect: DialectName;
  requests: number;
  /** Concurrent HTTP calls per phase. */
  concurrency: number;
  /** Production deployments created over HTTP, each waiting for a teammate. */
  createdPerSecond: number;
  /** Approvals by the teammate over HTTP, each committing its transition and audit record. */
  decidedPerSecond: number;
  /** Signed webhook calls received, from the first approval until the last call arrived. */
  executedPerSecond: number;
  /** Staging deployments from create until their signed webhook call, approved automatically. */
  endToEndPerSecond: number;
  /** Webhook calls whose signature did not verify; 0 when every call was signed correctly. */
  badSignatures: number;
}

const WEBHOOK_SECRET = 'bench-webhook-secret-0123456789abcdef0123456789';
const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');

/** A loopback deployment receiver that verifies each call's HMAC signature. */
interface Receiver {
  url: string;
  received: Set<string>;
  badSignatures: number;
  /** Resolves once `count` distinct idempotency keys have arrived. */
  waitFor(count: number): Promise<void>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received = new Set<string>();
  let waiter: { count: number; resolve(): void } | undefined;
  const state = { badSignatures: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(request.headers['x-portal-timestamp'] ?? '');
      const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(`${timestamp}.${body}`).digest('hex')}`;
      const signature = String(request.headers['x-portal-signature'] ?? '');
      const valid =
        signature.length === expected.length &&
        timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
      if (!valid) {
        state.badSignatures += 1;
        response.writeHead(401).end();
        return;
      }
      received.add(String(request.headers['idempotency-key']));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      if (waiter && received.size >= waiter.count) {
        waiter.resolve();
        waiter = undefined;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/deploy`,
    received,
    get badSignatures() {
      return state.badSignatures;
    },
    waitFor: (count) =>
      received.size >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiter = { count, resolve };
          }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs `work` for indexes 0..count-1 with at most `concurrency` calls at a time. */
async function runConcurrently(
  count: number,
  concurrency: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const index = next;
      next += 1;
      await work(index);
    }
  });
  await Promise.all(lanes);
}

async function postJson(client: HttpClient, url: string, json: unknown): Promise<unknown> {
  const response = await client.request(url, { method: 'POST', json });
  if (response.status >= 300) {
    throw new Error(`POST ${url} failed with status ${response.status}: ${response.body}`);
  }
  return JSON.parse(response.body) as unknown;
}

/**
 * Measures the request engine end to end over HTTP on loopback with the
 * example organisation and approval rules. Amara creates production
 * deployments of booking-api and her teammate jonas approves them. The
 * signed webhook executor then calls a loopback receiver that checks each
 * signature. Last, amara's staging deployments, which the rules approve
 * automatically, are timed from create to webhook call.
 */
export async function benchmarkWorkflows(options: {
  dialect: DialectName;
  requests?: number;
  concurrency?: number;
}): Promise<WorkflowFigures> {
  const requests = options.requests ?? 300;
  const concurrency = options.concurrency ?? 8;
  const receiver = await startReceiver();
  const started = await startTestPortal({
    dialect: options.dialect,
    overrides: {
      catalog: {
        locations: [
          { type: 'file', target: ORGANISATION_FILE, rules: [{ allow: ['User', 'Group'] }] },
        ],
      },
      workflows: {
        deployment: { webhook: { url: receiver.url, secret: WEBHOOK_SECRET } },
        engine: { pollIntervalSeconds: 0.2, retryBaseDelayMs: 50 },
      },
    },
  });
  try {
    const amara = new HttpClient(started.url);
    await amara.signInWithDevelopmentProvider('amara', 'demo', '/');
    const jonas = new HttpClient(started.url);
    await jonas.signInWithDevelopmentProvider('jonas', 'demo', '/');

    const ids: string[] = [];
    const createStarted = performance.now();
    await runConcurrently(requests, concurrency, async (index) => {
      const created = (await postJson(amara, '/api/workflows/requests', {
        type: 'deployment',
        parameters: {
          entity: 'component:default/booking-api',
          environment: 'production',
          version: `1.0.${index}`,
        },
        reason: 'benchmark release',
      })) as { id: string };
      ids[index] = created.id;
    });
    const createSeconds = (performance.now() - createStarted) / 1000;

    const decideStarted = performance.now();
    await runConcurrently(requests, concurrency, async (index) => {
      await postJson(jonas, `/api/workflows/requests/${ids[index]}/approve`, {
        comment: 'looks good',
      });
    });
    const decideSeconds = (performance.now() - decideStarted) / 1000;
    await receiver.waitFor(requests);
    const executeSeconds = (performance.now() - decideStarted) / 1000;

    const endToEndStarted = performance.now();
    await runConcurrently(requests, concurrency, async (index) => {
      await postJson(amara, '/api/workflows/requests', {
        type: 'deployment',
        parameters: {
          entity: 'component:default/booking-api',
          environment: 'staging',
          version: `2.0.${index}`,
        },
      });
    });
    await receiver.waitFor(requests * 2);
    const endToEndSeconds = (performance.now() - endToEndStarted) / 1000;

    return {
      dialect: options.dialect,
      requests,
      concurrency,
      createdPerSecond: Math.round(requests / createSeconds),
      decidedPerSecond: Math.round(requests / decideSeconds),
      executedPerSecond: Math.round(requests / executeSeconds),
      endToEndPerSecond: Math.round(requests / endToEndSeconds),
      badSignatures: receiver.badSignatures,
    };
  } finally {
    await started.close();
    await receiver.close();
  }
}
