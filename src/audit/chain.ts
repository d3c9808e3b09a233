import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { hashRecord } from './canonical.js';
import type { AuditOutcome, AuditRecord, NormalizedEvent } from './event.js';
import type { AuditRecordRow, AuditTables } from './tables.js';

/**
 * A Kysely instance or transaction of the caller, over any tables. A
 * transaction makes the record part of the caller's action; a plain
 * instance makes a standalone record in a transaction of its own.
 */
// biome-ignore lint/suspicious/noExplicitAny: callers pass their own typed Kysely or transaction.
export type AuditExecutor = Kysely<any>;

/**
 * Appends one record inside `executor`'s transaction, opening one when it is
 * not a transaction. The update of the head row comes first. It locks that
 * row on PostgreSQL and takes SQLite's write lock, so concurrent appenders
 * from any number of processes wait for each other. Each one then reads the
 * head that the previous one committed, so records are numbered without
 * gaps. A rollback of the caller's transaction removes the record and
 * restores the head.
 *
 * NOTE: On PostgreSQL the caller's transaction must use READ COMMITTED, the
 * default; under REPEATABLE READ or SERIALIZABLE a concurrent append makes
 * the head update fail with a serialization error.
 */
export async function appendRecord(
  executor: AuditExecutor,
  event: NormalizedEvent,
  now: () => Date,
): Promise<AuditRecord> {
  if (!executor.isTransaction) {
    return executor.transaction().execute((transaction) => appendRecord(transaction, event, now));
  }
  const db = executor as Kysely<AuditTables>;

  const head = await db
    .updateTable('audit_head')
    .set((eb) => ({ sequence: eb('sequence', '+', 1) }))
    .where('id', '=', 1)
    .returning(['sequence', 'hash'])
    .executeTakeFirst();
  if (!head) {
    throw new Error('The audit_head row is missing: run the audit migrations (auditMigrations)');
  }

  // Read after the lock, so times follow sequence numbers on one clock.
  const row = chainedRow(event, Number(head.sequence), head.hash, now);
  await db.insertInto('audit_records').values(row).execute();
  await db.updateTable('audit_head').set({ hash: row.hash }).where('id', '=', 1).execute();

  return recordFromRow(row);
}

/**
 * Creates the SQLite form of appendRecord: the same statements, prepared
 * once and run synchronously on the handle's better-sqlite3 connection,
 * which is the one connection that Kysely's SQLite driver uses. Through
 * Kysely an append took more than twice as long, measured with 3,000 appends
 * on a 2-core machine. The executor must belong to that handle, and a
 * transaction of another connection is rejected.
 */
export function createSqliteAppend(
  sqlite: SqliteDatabase.Database,
): (executor: AuditExecutor, event: NormalizedEvent, now: () => Date) => Promise<AuditRecord> {
  let statements: ReturnType<typeof prepare> | undefined;
  const prepare = () => ({
    advance: sqlite.prepare<[], { sequence: number; hash: string }>(
      'update audit_head set sequence = sequence + 1 where id = 1 returning sequence, hash',
    ),
    insert: sqlite.prepare<AuditRecordRow>(
      `insert into audit_records (${RECORD_COLUMNS.join(', ')}) values (${RECORD_COLUMNS.map((column) => `@${column}`).join(', ')})`,
    ),
    setHash: sqlite.prepare<[string]>('update audit_head set hash = ? where id = 1'),
  });

  const appendNow = (event: NormalizedEvent, now: () => Date): AuditRecordRow => {
    statements ??= prepare();
    const head = statements.advance.get();
    if (!head) {
      throw new Error('The audit_head row is missing: run the audit migrations (auditMigrations)');
    }
    const row = chainedRow(event, Number(head.sequence), head.hash, now);
    statements.insert.run(row);
    statements.setHash.run(row.hash);
    return row;
  };

  return async (executor, event, now) => {
    if (executor.isTransaction) {
      if (!sqlite.inTransaction) {
        throw new Error(
          'The audit executor is a transaction of another SQLite connection: pass a transaction of the database the audit trail was created with',
        );
      }
      // Kysely keeps this connection for the caller's transaction, so these
      // statements run inside it and nothing else interleaves.
      return recordFromRow(appendNow(event, now));
    }
    // Holding Kysely's connection keeps other queries of this handle out of
    // the short transaction below.
    const row = await executor
      .connection()
      .execute(async () => sqlite.transaction(() => appendNow(event, now))());
    return recordFromRow(row);
  };
}

const RECORD_COLUMNS: ReadonlyArray<keyof AuditRecordRow> = [
  'sequence',
  'time',
  'actor',
  'action',
  'target',
  'outcome',
  'reason',
  'ip',
  'user_agent',
  'request_id',
  'details',
  'previous_hash',
  'hash',
];

/** Builds the row of the record that follows `previousHash`, stamped with the time `now` returns. */
export function chainedRow(
  event: NormalizedEvent,
  sequence: number,
  previousHash: string,
  now: () => Date,
): AuditRecordRow {
  const time = now().toISOString();
  const hash = hashRecord({ ...event, sequence, time, previousHash });
  return {
    sequence,
    time,
    actor: event.actor,
    action: event.action,
    target: event.target,
    outcome: event.outcome,
    reason: event.reason,
    ip: event.ip,
    user_agent: event.userAgent,
    request_id: event.requestId,
    details: event.details,
    previous_hash: previousHash,
    hash,
  };
}

/** Converts a stored row into a record, parsing the details. */
export function recordFromRow(row: AuditRecordRow): AuditRecord {
  return {
    sequence: Number(row.sequence),
    time: row.time,
    actor: row.actor,
    action: row.action,
    target: row.target,
    outcome: row.outcome as AuditOutcome,
    reason: row.reason,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    details: parseDetails(row.details),
    previousHash: row.previous_hash,
    hash: row.hash,
  };
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : { value };
  } catch {
    // Only a changed row contains invalid JSON; `audit verify` reports it.
    return { '[invalid]': text };
  }
}

/** Returns the stored fields of a row in the shape hashRecord reads. */
export function hashedFieldsOfRow(row: AuditRecordRow) {
  return {
    sequence: Number(row.sequence),
    time: row.time,
    actor: row.actor,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    reason: row.reason,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    details: row.details,
    previousHash: row.previous_hash,
  };
}
