import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { AuditTables } from './tables.js';

/**
 * A record as verification reads it: the columns in canonical order, then
 * the stored hash. PostgreSQL returns the sequence as a string.
 */
export type RecordTuple = [
  sequence: number | string,
  time: string,
  actor: string | null,
  action: string,
  target: string | null,
  outcome: string,
  reason: string | null,
  ip: string | null,
  userAgent: string | null,
  requestId: string | null,
  details: string,
  previousHash: string,
  hash: string,
];

/** Columns of a stored audit record, in the order that batches and exports list them. */
export const RECORD_COLUMNS = [
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
] as const;

/**
 * Reads the records from `from` through `through` in sequence order, in
 * batches. On SQLite a prepared statement returns rows as arrays, which
 * saves building an object per row. On PostgreSQL the next batch is
 * requested before the current one is returned, so the server reads while
 * the caller hashes.
 */
export async function* readRecordBatches(
  db: Kysely<AuditTables>,
  sqlite: SqliteDatabase.Database | undefined,
  from: number,
  through: number | undefined,
  batchSize: number,
): AsyncGenerator<RecordTuple[]> {
  const last = through ?? Number.MAX_SAFE_INTEGER;

  if (sqlite) {
    const statement = sqlite
      .prepare<[number, number, number]>(
        `select ${RECORD_COLUMNS.join(', ')} from audit_records where sequence >= ? and sequence <= ? order by sequence limit ?`,
      )
      .raw(true);
    let next = from;
    for (;;) {
      // Holding Kysely's connection keeps a transaction of another caller
      // from being open on it while the batch is read.
      const rows = await db
        .connection()
        .execute(async () => statement.all(next, last, batchSize) as RecordTuple[]);
      if (rows.length > 0) {
        yield rows;
      }
      const lastRow = rows.at(-1);
      if (rows.length < batchSize || !lastRow) {
        return;
      }
      next = Number(lastRow[0]) + 1;
    }
  }

  const fetch = (start: number) =>
    db
      .selectFrom('audit_records')
      .select(RECORD_COLUMNS)
      .where('sequence', '>=', start)
      .where('sequence', '<=', last)
      .orderBy('sequence')
      .limit(batchSize)
      .execute()
      .then((rows) =>
        rows.map((row) => RECORD_COLUMNS.map((column) => row[column]) as RecordTuple),
      );
  let pending = fetch(from);
  for (;;) {
    const rows = await pending;
    const lastRow = rows.at(-1);
    const full = rows.length === batchSize && lastRow !== undefined;
    if (full) {
      pending = fetch(Number(lastRow[0]) + 1);
    }
    if (rows.length > 0) {
      yield rows;
    }
    if (!full) {
      return;
    }
  }
}
