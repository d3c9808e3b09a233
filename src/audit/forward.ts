import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { AuditForwardConfig } from '../config/index.js';
import type { DatabaseHandle } from '../database/index.js';
import type { AuditRecord } from './event.js';
import { checkForwardHeaders } from './forward-headers.js';
import { type AuditForwardTables, FORWARD_STATE_ID } from './forward-migrations.js';
import { listAuditRecords } from './records.js';

/** The result of one attempt to forward the next batch. */
export type ForwardAttempt =
  /** The collector accepted records `first` to `last`; `full` when more may be waiting. */
  | { result: 'sent'; first: number; last: number; full: boolean }
  /** Every record is forwarded. */
  | { result: 'idle' }
  /** Another replica has locked the forwarder's state row (PostgreSQL only). */
  | { result: 'busy' }
  | { result: 'failed'; error: Error };

export interface AuditForwarder {
  /** Starts forwarding in the background; a second call does nothing. */
  start(): void;
  /**
   * Stops forwarding. A batch already sent is waited for, at most the
   * request timeout, and its progress is stored, so the next start neither
   * sends it again nor skips anything.
   */
  stop(): Promise<void>;
  /** Sends the next batch once, without retrying; for tests and tools. */
  forwardOnce(): Promise<ForwardAttempt>;
  /** Reads the sequence number of the last record the collector accepted; 0 before the first. */
  forwardedThrough(): Promise<number>;
}

export interface AuditForwarderOptions {
  database: DatabaseHandle;
  config: AuditForwardConfig;
  logger: Logger;
}

/** Body of each request to the collector. */
export interface ForwardBatch {
  records: AuditRecord[];
}

/**
 * Creates the forwarder of `audit.forward`. It reads the records after the
 * stored position, oldest first, at most `batchSize` at a time, POSTs them
 * as one JSON batch and, once the collector responds with 2xx, stores the last
 * sequence number as the new position. The trail itself is the queue, so
 * memory holds one batch and a restart continues where the stored position
 * is. A failed batch is sent again, unchanged, after a delay that doubles
 * from `retry.initialDelayMs` up to `retry.maxDelayMs`; later records wait
 * behind it, so they arrive in order.
 *
 * Each request carries `Idempotency-Key: audit-<first>-<last>`. A collector
 * that stored a batch but whose answer was lost (a timeout, a crash before
 * the position was stored) receives that batch again under the same key, and
 * the sequence numbers inside let it drop what it already has.
 *
 * On PostgreSQL a batch is sent while the state row is locked with
 * `for update skip locked`, so one replica forwards at a time and the others
 * wait. On SQLite the portal runs as one process, so no lock is taken.
 * Throws a ConfigError for a header that HTTP cannot send.
 */
export function createAuditForwarder(options: AuditForwarderOptions): AuditForwarder {
  const { database, config, logger } = options;
  checkForwardHeaders(config.headers);
  const db = database.db as Kysely<AuditForwardTables>;
  const endpoint = describeEndpoint(config.url);

  let running: Promise<void> | undefined;
  let stopping = false;
  let wakeUp: (() => void) | undefined;

  const post = async (records: AuditRecord[]): Promise<void> => {
    const first = records[0]?.sequence;
    const last = records.at(-1)?.sequence;
    const body: ForwardBatch = { records };
    const response = await fetch(config.url, {
      method: 'POST',
      headers: {
        ...config.headers,
        'content-type': 'application/json',
        'idempotency-key': `audit-${first}-${last}`,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(config.timeoutMs),
      redirect: 'error',
    });
    // The body is read so that the connection can be reused; its content does not matter.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status > 299) {
      throw new Error(
        `the collector responded with ${response.status} ${response.statusText}`.trim(),
      );
    }
  };

  const sendBatch = async (
    executor: Kysely<AuditForwardTables>,
    position: number,
  ): Promise<ForwardAttempt> => {
    const records = await listAuditRecords(executor, {
      afterSequence: position,
      limit: config.batchSize,
    });
    const first = records[0];
    const last = records.at(-1);
    if (!first || !last) {
      return { result: 'idle' };
    }
    if (first.sequence > position + 1) {
      logger.warn(
        { endpoint, firstMissing: position + 1, lastMissing: first.sequence - 1 },
        'audit records were removed by retention before they were forwarded',
      );
    }

    try {
      await post(records);
    } catch (error) {
      return { result: 'failed', error: describeFailure(error, config.timeoutMs) };
    }

    await executor
      .updateTable('audit_forward_state')
      .set({ sequence: last.sequence, updated_at: new Date().toISOString() })
      .where('id', '=', FORWARD_STATE_ID)
      .execute();
    return {
      result: 'sent',
      first: first.sequence,
      last: last.sequence,
      full: records.length === config.batchSize,
    };
  };

  const forwardOnce = async (): Promise<ForwardAttempt> => {
    if (database.dialect === 'postgres') {
      return await db.transaction().execute(async (transaction) => {
        const locked = await sql<{ sequence: number | string }>`
          select sequence from audit_forward_state
          where id = ${FORWARD_STATE_ID}
          for update skip locked`.execute(transaction);
        const row = locked.rows[0];
        if (!row) {
          return { result: 'busy' };
        }
        return await sendBatch(transaction, Number(row.sequence));
      });
    }
    return await sendBatch(db, await readPosition(db));
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const run = async (): Promise<void> => {
    let delay = config.retry.initialDelayMs;
    let failures = 0;
    while (!stopping) {
      let attempt: ForwardAttempt;
      try {
        attempt = await forwardOnce();
      } catch (error) {
        // A database error: the stored position is unchanged, so the batch is read again.
        attempt = {
          result: 'failed',
          error: error instanceof Error ? error : new Error(String(error)),
        };
      }

      if (attempt.result === 'failed') {
        failures += 1;
        logger.warn(
          { endpoint, err: attempt.error, failures, retryInMs: delay },
          'forwarding audit records failed; retrying',
        );
        await pause(delay);
        delay = Math.min(delay * 2, config.retry.maxDelayMs);
        continue;
      }

      if (failures > 0) {
        logger.info({ endpoint, failures }, 'forwarding audit records works again');
        failures = 0;
      }
      delay = config.retry.initialDelayMs;
      if (attempt.result === 'sent' && attempt.full) {
        continue;
      }
      await pause(config.intervalMs);
    }
  };

  return {
    start() {
      if (running) {
        return;
      }
      stopping = false;
      logger.info(
        { endpoint, batchSize: config.batchSize, intervalMs: config.intervalMs },
        'audit forwarding started',
      );
      running = run().catch((error: unknown) => {
        logger.error({ err: error, endpoint }, 'audit forwarding stopped after an error');
      });
    },

    async stop() {
      stopping = true;
      wakeUp?.();
      await running;
      running = undefined;
    },

    forwardOnce,

    forwardedThrough: () => readPosition(db),
  };
}

async function readPosition(db: Kysely<AuditForwardTables>): Promise<number> {
  const row = await db
    .selectFrom('audit_forward_state')
    .select('sequence')
    .where('id', '=', FORWARD_STATE_ID)
    .executeTakeFirst();
  if (!row) {
    throw new Error(
      'The audit_forward_state row is missing: run the audit forward migrations (auditForwardMigrations)',
    );
  }
  return Number(row.sequence);
}

/** Returns the collector's origin and path for logs, because a query string or user info may contain a credential. */
function describeEndpoint(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** Converts a fetch failure into an error whose message states what failed, in the usual words. */
function describeFailure(error: unknown, timeoutMs: number): Error {
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return new Error(`the request to the collector timed out after ${timeoutMs} ms`);
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return new Error(`${error.message}${cause}`);
  }
  return new Error(String(error));
}
