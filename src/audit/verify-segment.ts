import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { hashCanonicalFields } from './canonical.js';
import { type RecordTuple, readRecordBatches } from './record-batches.js';
import type { AuditTables } from './tables.js';

/** The findings of one thread in its range of the chain, which the main thread joins. */
export interface SegmentResult {
  /** Whether every record of the range is present, hashes to its hash and links to the one before. */
  intact: boolean;
  records: number;
  /** The stored previous hash of the range's first record, which must equal the hash of the range before. */
  firstPreviousHash: string | null;
  /** The hash of the range's last record. */
  lastHash: string | null;
}

/**
 * Checks records `from` to `through` without knowing the record before
 * `from`: their sequence numbers, their links to each other, their hashes,
 * and the hashes of the checkpoints among them. Stops at the first fault,
 * which the caller then diagnoses with scanChain.
 */
export async function verifySegment(
  db: Kysely<AuditTables>,
  sqlite: SqliteDatabase.Database | undefined,
  range: { from: number; through: number; batchSize: number },
  checkpointHashes: ReadonlyMap<number, string>,
): Promise<SegmentResult> {
  const result: SegmentResult = {
    intact: false,
    records: 0,
    firstPreviousHash: null,
    lastHash: null,
  };
  let expected = range.from;

  for await (const rows of readRecordBatches(
    db,
    sqlite,
    range.from,
    range.through,
    range.batchSize,
  )) {
    for (const row of rows) {
      const sequence = Number(row[0]);
      if (sequence !== expected || hashTuple(row) !== row[12]) {
        return result;
      }
      if (result.records === 0) {
        result.firstPreviousHash = row[11];
      } else if (row[11] !== result.lastHash) {
        return result;
      }
      const signed = checkpointHashes.get(sequence);
      if (signed !== undefined && signed !== row[12]) {
        return result;
      }
      result.records += 1;
      result.lastHash = row[12];
      expected = sequence + 1;
    }
  }
  result.intact = expected === range.through + 1;
  return result;
}

/** Hashes a record read as a tuple: the same value as hashRecord of its fields, without building them. */
export function hashTuple(row: RecordTuple): string {
  return hashCanonicalFields([
    Number(row[0]),
    row[1],
    row[2],
    row[3],
    row[4],
    row[5],
    row[6],
    row[7],
    row[8],
    row[9],
    row[10],
    row[11],
  ]);
}
