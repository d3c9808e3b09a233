import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config/index.js';
import {
  connectDatabase,
  type DatabaseHandle,
  type DialectName,
} from '../../src/database/index.js';

/** Server used to create and drop the per-run PostgreSQL databases. */
const POSTGRES_ADMIN_URL =
  process.env.PORTAL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  dialect: DialectName;
  config: DatabaseConfig;
  /** Drops the database (PostgreSQL) or deletes its folder (SQLite). */
  cleanup(): Promise<void>;
}

let postgresReachable: Promise<string | undefined> | undefined;

/** Resolves to undefined when PostgreSQL answers, or to the reason it does not. */
export function checkPostgres(): Promise<string | undefined> {
  postgresReachable ??= (async () => {
    const client = new pg.Client({
      connectionString: POSTGRES_ADMIN_URL,
      // Generous, because a loaded machine can take seconds to accept a connection.
      connectionTimeoutMillis: 15_000,
    });
    try {
      await client.connect();
      await client.query('select 1');
      return undefined;
    } catch (error) {
      return `PostgreSQL at ${new URL(POSTGRES_ADMIN_URL).host} is not reachable: ${(error as Error).message}`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return postgresReachable;
}

/** Creates an empty database of the dialect: a temporary SQLite file or a fresh PostgreSQL database. */
export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const folder = mkdtempSync(path.join(tmpdir(), 'portal-test-'));
    return {
      dialect,
      config: {
        client: 'better-sqlite3',
        connection: { filename: path.join(folder, 'portal.sqlite') },
      },
      cleanup: async () => rmSync(folder, { recursive: true, force: true }),
    };
  }

  const name = `portal_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }

  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    dialect,
    config: { client: 'pg', connection: url.toString(), pool: { max: 10 } },
    cleanup: async () => {
      const dropper = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await dropper.connect();
      try {
        await dropper.query(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

export const DIALECTS: readonly DialectName[] = ['sqlite', 'postgres'];

export interface DialectContext {
  dialect: DialectName;
  /** The database of this dialect, created before the suite's first test. */
  database(): TestDatabase;
  /** An open connection to it, opened on first use and closed after the suite. */
  handle(): DatabaseHandle;
}

/**
 * Declares the suite once per dialect. The PostgreSQL half is skipped with a
 * visible reason when no server answers, except under CI=true, where the
 * missing server fails the suite instead.
 */
export function describeEachDialect(name: string, body: (context: DialectContext) => void): void {
  for (const dialect of DIALECTS) {
    describe(`${name} [${dialect}]`, async () => {
      const skipReason = dialect === 'postgres' ? await checkPostgres() : undefined;
      if (skipReason && process.env.CI !== 'true') {
        describe('PostgreSQL half', { skip: skipReason }, () => {});
        return;
      }
      if (skipReason) {
        throw new Error(`${skipReason}; CI=true requires every storage test to run on PostgreSQL`);
      }

      let database: TestDatabase | undefined;
      let handle: DatabaseHandle | undefined;
      before(async () => {
        database = await createTestDatabase(dialect);
      });
      after(async () => {
        await handle?.destroy();
        await database?.cleanup();
      });

      body({
        dialect,
        database: () => {
          if (!database)
            throw new Error('the test database is created in before(); use it inside a test');
          return database;
        },
        handle: () => {
          if (!database)
            throw new Error('the test database is created in before(); use it inside a test');
          handle ??= connectDatabase(database.config);
          return handle;
        },
      });
    });
  }
}
