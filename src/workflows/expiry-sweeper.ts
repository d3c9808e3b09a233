import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../database/index.js';
import type { RequestEngine } from './engine.js';

/**
 * Key of the PostgreSQL advisory lock that the expiry sweep holds, so that
 * only one replica sweeps at a time. Any fixed 64-bit value works as long as
 * no other job of the portal takes the same one.
 */
export const EXPIRY_LOCK_KEY = 7_231_905_118_443_021n;

/**
 * Runs `job` while holding a session-level advisory lock on PostgreSQL; on
 * SQLite, with one process per database file, it just runs it. Returns false
 * when another replica holds the lock and the job was skipped.
 */
export async function runExclusively(
  database: DatabaseHandle,
  key: bigint,
  job: () => Promise<void>,
): Promise<boolean> {
  if (database.dialect !== 'postgres') {
    await job();
    return true;
  }
  return await database.db.connection().execute(async (connection) => {
    const { rows } = await sql<{
      locked: boolean;
    }>`select pg_try_advisory_lock(${key.toString()}::bigint) as locked`.execute(connection);
    if (!rows[0]?.locked) {
      return false;
    }
    try {
      await job();
      return true;
    } finally {
      await sql`select pg_advisory_unlock(${key.toString()}::bigint)`.execute(connection);
    }
  });
}

/** Expires pending requests past their lifetime at an interval. */
export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly options: {
      database: DatabaseHandle;
      engine: RequestEngine;
      intervalSeconds: number;
      logger: Logger;
    },
  ) {}

  start(): void {
    if (this.timer) {
      return;
    }
    this.timer = setInterval(() => void this.sweep(), this.options.intervalSeconds * 1000);
    this.timer.unref();
    void this.sweep();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** Sweeps once unless a sweep is running; resolves to the number of requests expired. */
  async sweep(): Promise<number> {
    if (this.sweeping) {
      await this.sweeping;
      return 0;
    }
    let expired = 0;
    this.sweeping = runExclusively(this.options.database, EXPIRY_LOCK_KEY, async () => {
      expired = await this.options.engine.expireDue();
    })
      .then((ran) => {
        if (expired > 0) {
          this.options.logger.info({ expired }, 'pending requests expired');
        } else if (!ran) {
          this.options.logger.debug('another replica is sweeping expired requests');
        }
      })
      .catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'expiring pending requests failed');
      })
      .finally(() => {
        this.sweeping = undefined;
      });
    await this.sweeping;
    return expired;
  }
}
