import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/index.js';

export type DialectName = 'sqlite' | 'postgres';

/**
 * PostgreSQL statement timeout when the config sets none: long enough for the
 * largest catalog read the API allows, short enough that a runaway query
 * frees its pooled connection within seconds.
 */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;

/** SQLSTATE of a statement that PostgreSQL cancelled, here because it ran past statement_timeout. */
const QUERY_CANCELED = '57014';

/**
 * An open database. Capabilities view `db` through their own table types
 * (`handle.db as Kysely<CatalogTables>`), so none of them depends on another's
 * tables.
 */
export interface DatabaseHandle {
  // biome-ignore lint/suspicious/noExplicitAny: each capability narrows this to its own tables.
  db: Kysely<any>;
  dialect: DialectName;
  /** The raw SQLite connection, for the few hot paths that need prepared statements. */
  sqlite?: SqliteDatabase.Database;
  /** A readable name for logs: the file or the database name, never a password. */
  description: string;
  destroy(): Promise<void>;
}

export interface ConnectOptions {
  /** Receives errors of idle PostgreSQL connections, such as the server ending them. */
  onIdleConnectionError?: (error: Error) => void;
}

/** Opens the database that the config names, creating the SQLite folder when needed. */
export function connectDatabase(
  config: DatabaseConfig,
  options: ConnectOptions = {},
): DatabaseHandle {
  if (config.client === 'better-sqlite3') {
    const filename = config.connection === ':memory:' ? ':memory:' : config.connection.filename;
    if (filename !== ':memory:') {
      mkdirSync(path.dirname(filename), { recursive: true });
    }
    const sqlite = new SqliteDatabase(filename);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    const db = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) });
    return {
      db,
      dialect: 'sqlite',
      sqlite,
      description: `sqlite ${filename}`,
      destroy: () => db.destroy(),
    };
  }

  const poolConfig: pg.PoolConfig =
    typeof config.connection === 'string'
      ? { connectionString: config.connection }
      : {
          host: config.connection.host,
          port: config.connection.port,
          user: config.connection.user,
          database: config.connection.database,
          ...(config.connection.password === undefined
            ? {}
            : { password: config.connection.password }),
        };
  const pool = new pg.Pool({
    ...poolConfig,
    max: config.pool.max,
    statement_timeout: config.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
  });
  // An idle pooled connection that the server ends (a restart, an
  // administrator's kill) emits 'error' on the pool, and without a listener
  // Node would end the process. The pool drops that connection and opens
  // another on the next query, so reporting it is enough.
  pool.on('error', (error) => {
    const report = options.onIdleConnectionError ?? ((fault: Error) => console.error(fault));
    report(error);
  });
  const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    description: `postgres ${describePostgres(config.connection)}`,
    destroy: () => db.destroy(),
  };
}

function describePostgres(
  connection: Extract<DatabaseConfig, { client: 'pg' }>['connection'],
): string {
  if (typeof connection !== 'string') {
    return `${connection.host}:${connection.port}/${connection.database}`;
  }
  try {
    const url = new URL(connection);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return '(connection string)';
  }
}

/**
 * Returns true for the error of a PostgreSQL statement cancelled by
 * statement_timeout (SQLSTATE 57014), which the HTTP layer turns into a
 * 503. A cancel request from another session has the same code, but nothing
 * here sends one.
 */
export function isStatementTimeout(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === QUERY_CANCELED
  );
}
