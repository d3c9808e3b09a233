import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import { describeEachDialect } from '../../test/support/databases.js';
import { EXAMPLE_CONFIG } from '../../test/support/portal.js';
import { type AuditForwardConfig, loadConfig } from '../config/index.js';
import { type DatabaseHandle, migrateToLatest } from '../database/index.js';
import { ConfigError } from '../errors/index.js';
import type { AuditRecord } from './event.js';
import { createAuditForwarder, type ForwardBatch } from './forward.js';
import { auditForwardMigrations } from './forward-migrations.js';
import { openTestTrail } from './test-helpers.js';
import type { AuditTrail } from './trail.js';

/**
 * The forwarder against a real HTTP collector on loopback that fails, hangs
 * and recovers on command. The collector keeps a batch only when it responds
 * with 2xx, as a collector that stores a batch before it acknowledges it does.
 */

interface CollectorRequest {
  idempotencyKey: string | undefined;
  sequences: number[];
  status: number;
  headers: IncomingHttpHeaders;
}

interface Collector {
  url: string;
  /** Sequence numbers of every accepted record, in the order they were accepted. */
  accepted: number[];
  requests: CollectorRequest[];
  close(): Promise<void>;
}

/**
 * Starts a collector. `respond` decides the status of the request with the
 * given index (0 for the first) and how long to wait before responding.
 */
async function startCollector(
  respond: (index: number) => { status: number; delayMs?: number },
): Promise<Collector> {
  const accepted: number[] = [];
  const requests: CollectorRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ForwardBatch;
      const sequences = batch.records.map((record) => record.sequence);
      const { status, delayMs = 0 } = respond(requests.length);
      const key = request.headers['idempotency-key'];
      requests.push({
        idempotencyKey: typeof key === 'string' ? key : undefined,
        sequences,
        status,
        headers: request.headers,
      });
      setTimeout(() => {
        if (response.destroyed) {
          return;
        }
        if (status >= 200 && status <= 299) {
          accepted.push(...sequences);
        }
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end('{}');
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/collect?source=portal`,
    accepted,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function forwardConfig(
  url: string,
  settings: Partial<AuditForwardConfig> = {},
): AuditForwardConfig {
  return {
    url,
    headers: {},
    batchSize: 10,
    intervalMs: 20,
    timeoutMs: 2_000,
    retry: { initialDelayMs: 20, maxDelayMs: 100 },
    ...settings,
  };
}

async function appendRecords(
  trail: AuditTrail,
  db: Parameters<AuditTrail['append']>[0],
  count: number,
) {
  const records: AuditRecord[] = [];
  for (let index = 0; index < count; index += 1) {
    records.push(
      await trail.append(db, { action: 'test.forward', outcome: 'succeeded', details: { index } }),
    );
  }
  return records;
}

/** Waits until `done` holds, checking every 20 ms, for at most 15 s. */
async function waitFor(description: string, done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await done())) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting until ${description}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, index) => first + index);
}

const silent = pino({ level: 'silent' });

test('audit.forward config names each fault', () => {
  const load = () =>
    loadConfig([EXAMPLE_CONFIG], {
      overrides: {
        audit: {
          forward: {
            url: 'ftp://collector.example/in',
            batchSize: 0,
            retry: { initialDelayMs: 5_000, maxDelayMs: 1_000 },
          },
        },
      },
    });

  assert.throws(load, (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    const faults = error.details.map((detail) => `${detail.path}: ${detail.message}`);
    const expected = [
      /audit\.forward\.url: .*must start with http:\/\/ or https:\/\//,
      /audit\.forward\.batchSize: .*at least 1/,
      /audit\.forward\.retry: .*initialDelayMs must not be greater than maxDelayMs/,
    ];
    for (const pattern of expected) {
      assert.ok(
        faults.some((fault) => pattern.test(fault)),
        `no fault matches ${pattern}; faults: ${faults.join('; ')}`,
      );
    }
    return true;
  });
});

test('audit.forward headers are checked without their values', () => {
  const secret = 'Bearer header-secret-Lw82';
  const create = () =>
    createAuditForwarder({
      database: { dialect: 'sqlite' } as DatabaseHandle,
      config: forwardConfig('http://127.0.0.1:9/in', {
        headers: {
          'Content-Type': secret,
          'Bad Name': secret,
          Authorization: `${secret}\r\nX-Injected: 1`,
          'X-Fine': secret,
        },
      }),
      logger: silent,
    });

  assert.throws(create, (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(
      error.details.map((detail) => detail.path),
      [
        'audit.forward.headers.Content-Type',
        'audit.forward.headers.Bad Name',
        'audit.forward.headers.Authorization',
      ],
    );
    assert.match(error.details[0]?.message ?? '', /is set by the forwarder/);
    assert.match(error.details[1]?.message ?? '', /is not an HTTP header name/);
    assert.match(error.details[2]?.message ?? '', /contains a line break or NUL/);
    assert.equal(JSON.stringify(error.details).includes('header-secret'), false);
    return true;
  });
});

test('audit.forward config has defaults', () => {
  const { config } = loadConfig([EXAMPLE_CONFIG], {
    overrides: { audit: { forward: { url: 'https://collector.example/in' } } },
  });

  assert.deepEqual(config.audit.forward, {
    url: 'https://collector.example/in',
    headers: {},
    batchSize: 100,
    intervalMs: 1_000,
    timeoutMs: 10_000,
    retry: { initialDelayMs: 1_000, maxDelayMs: 60_000 },
  });
});

describeEachDialect('audit forwarder', (context) => {
  async function openTrail() {
    const handle = context.handle();
    const opened = await openTestTrail(handle);
    await migrateToLatest(handle, [auditForwardMigrations]);
    await sql`update audit_forward_state set sequence = 0`.execute(handle.db);
    return { handle, trail: opened.trail };
  }

  test('retries until the collector recovers', async () => {
    const { handle, trail } = await openTrail();
    const collector = await startCollector((index) => ({ status: index < 3 ? 503 : 200 }));
    const forwarder = createAuditForwarder({
      database: handle,
      config: forwardConfig(collector.url),
      logger: silent,
    });
    try {
      await appendRecords(trail, handle.db, 25);

      forwarder.start();
      await waitFor(
        '25 records are forwarded',
        async () => (await forwarder.forwardedThrough()) === 25,
      );
      await forwarder.stop();

      assert.deepEqual(collector.accepted, range(1, 25));
      const firstBatch = collector.requests.slice(0, 4);
      assert.deepEqual(
        firstBatch.map((request) => request.status),
        [503, 503, 503, 200],
      );
      for (const request of firstBatch) {
        assert.equal(request.idempotencyKey, 'audit-1-10');
        assert.deepEqual(request.sequences, range(1, 10));
      }
    } finally {
      await forwarder.stop();
      await collector.close();
    }
  });

  test('a restart neither loses nor duplicates', async () => {
    const { handle, trail } = await openTrail();
    // Every third request fails, and each response takes a little while, so
    // the restart lands while batches are in flight.
    const collector = await startCollector((index) => ({
      status: index % 3 === 2 ? 500 : 200,
      delayMs: 15,
    }));
    const config = forwardConfig(collector.url, { batchSize: 7 });
    await appendRecords(trail, handle.db, 50);

    const first = createAuditForwarder({ database: handle, config, logger: silent });
    first.start();
    await waitFor('two batches are accepted', () => collector.accepted.length >= 14);
    await first.stop();
    const stoppedAt = await first.forwardedThrough();
    assert.ok(stoppedAt < 50, `the restart happened mid-stream, at record ${stoppedAt}`);
    assert.deepEqual(collector.accepted, range(1, stoppedAt));

    await appendRecords(trail, handle.db, 20);
    const second = createAuditForwarder({ database: handle, config, logger: silent });
    try {
      second.start();
      await waitFor(
        '70 records are forwarded',
        async () => (await second.forwardedThrough()) === 70,
      );
    } finally {
      await second.stop();
      await collector.close();
    }

    assert.deepEqual(collector.accepted, range(1, 70));
    assert.ok(collector.requests.some((request) => request.status === 500));
  });

  test('an unanswered request is sent again', async () => {
    const { handle, trail } = await openTrail();
    const collector = await startCollector((index) =>
      index === 0 ? { status: 200, delayMs: 1_000 } : { status: 200 },
    );
    const forwarder = createAuditForwarder({
      database: handle,
      config: forwardConfig(collector.url, { timeoutMs: 200 }),
      logger: silent,
    });
    try {
      await appendRecords(trail, handle.db, 5);

      const timedOut = await forwarder.forwardOnce();
      assert.equal(timedOut.result, 'failed');
      assert.match(
        timedOut.result === 'failed' ? timedOut.error.message : '',
        /timed out after 200 ms/,
      );
      assert.equal(await forwarder.forwardedThrough(), 0);

      const sent = await forwarder.forwardOnce();
      assert.deepEqual(sent, { result: 'sent', first: 1, last: 5, full: false });
      assert.deepEqual(collector.accepted, range(1, 5));
      assert.deepEqual(
        collector.requests.map((request) => request.idempotencyKey),
        ['audit-1-5', 'audit-1-5'],
      );
      assert.deepEqual(await forwarder.forwardOnce(), { result: 'idle' });
    } finally {
      await collector.close();
    }
  });

  test('sends the configured headers', async () => {
    const { handle, trail } = await openTrail();
    const collector = await startCollector(() => ({ status: 202 }));
    const forwarder = createAuditForwarder({
      database: handle,
      config: forwardConfig(collector.url, {
        headers: { Authorization: 'Splunk collector-token', 'X-Source': 'portal' },
      }),
      logger: silent,
    });
    try {
      const [record] = await appendRecords(trail, handle.db, 1);

      assert.deepEqual(await forwarder.forwardOnce(), {
        result: 'sent',
        first: 1,
        last: 1,
        full: false,
      });

      const [request] = collector.requests;
      assert.equal(request?.headers.authorization, 'Splunk collector-token');
      assert.equal(request?.headers['x-source'], 'portal');
      assert.equal(request?.headers['content-type'], 'application/json');
      assert.equal(request?.idempotencyKey, 'audit-1-1');
      assert.deepEqual(request?.sequences, [record?.sequence]);
    } finally {
      await collector.close();
    }
  });

  test('a refused connection is a failure', async () => {
    const { handle, trail } = await openTrail();
    const collector = await startCollector(() => ({ status: 200 }));
    await collector.close();
    const forwarder = createAuditForwarder({
      database: handle,
      config: forwardConfig(collector.url),
      logger: silent,
    });
    await appendRecords(trail, handle.db, 1);

    const attempt = await forwarder.forwardOnce();

    assert.equal(attempt.result, 'failed');
    assert.match(attempt.result === 'failed' ? attempt.error.message : '', /fetch failed/);
    assert.equal(await forwarder.forwardedThrough(), 0);
  });

  if (context.dialect === 'postgres') {
    test('two replicas forward each record once', async () => {
      const { handle, trail } = await openTrail();
      const collector = await startCollector(() => ({ status: 200, delayMs: 5 }));
      const config = forwardConfig(collector.url, { batchSize: 5 });
      const replicas = [1, 2].map(() =>
        createAuditForwarder({ database: handle, config, logger: silent }),
      );
      try {
        await appendRecords(trail, handle.db, 60);
        for (const replica of replicas) {
          replica.start();
        }
        await waitFor('60 records are forwarded', () => collector.accepted.length >= 60);
      } finally {
        for (const replica of replicas) {
          await replica.stop();
        }
        await collector.close();
      }

      assert.deepEqual(collector.accepted, range(1, 60));
    });
  }
});
