import type { KeyObject } from 'node:crypto';
import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { GENESIS_HASH, hashRecord } from './canonical.js';
import { hashedFieldsOfRow } from './chain.js';
import { type AuditCheckpoint, checkSignature, readCheckpoints, readHead } from './checkpoint.js';
import { type ParallelVerifyOptions, verifyInParallel } from './parallel-verify.js';
import { readRecordBatches } from './record-batches.js';
import type { AuditRecordRow, AuditTables } from './tables.js';
import { hashTuple } from './verify-segment.js';

export type AuditProblemKind =
  | 'changed'
  | 'removed'
  | 'inserted'
  | 'reordered'
  | 'forged-checkpoint'
  | 'unknown-key';

/** One fault that verification found. */
export interface AuditProblem {
  kind: AuditProblemKind;
  /** The first record concerned, or the sequence of the checkpoint at fault. */
  sequence: number;
  message: string;
}

export interface AuditVerifyReport {
  ok: boolean;
  /** Records read and checked; the scan stops at the first fault in the chain. */
  records: number;
  firstSequence: number | null;
  lastSequence: number | null;
  /** Checkpoints and prune markers with a valid signature. */
  checkpoints: number;
  /** The last record removed by retention, when a prune marker exists. */
  prunedThrough: number | null;
  /** Faults of the chain first (at most one), then faults of checkpoints. */
  problems: AuditProblem[];
}

/** The start of a scan: the record before the first one to read, and its hash. */
export interface ChainAnchor {
  sequence: number;
  hash: string;
}

export interface ScanOptions {
  /** Last sequence to read; the whole chain by default. */
  through?: number | undefined;
  /** Signed checkpoints whose hash each record at their sequence must match. */
  checkpoints?: ReadonlyMap<number, AuditCheckpoint> | undefined;
  /** Rows read per query. */
  batchSize?: number | undefined;
  /** The SQLite connection of `db`, for the faster read path. */
  sqlite?: SqliteDatabase.Database | undefined;
}

export interface ScanResult {
  records: number;
  firstSequence: number | null;
  /** The last record that passed, or the anchor when none did. */
  last: ChainAnchor;
  problem?: AuditProblem | undefined;
}

const DEFAULT_BATCH_SIZE = 10_000;

/** Rows read after a fault to tell a changed record from an inserted or reordered one. */
const DIAGNOSIS_WINDOW = 16;

/**
 * Checks the whole trail and names the first record that was changed,
 * removed, inserted or reordered. First it checks the signature of every
 * checkpoint and prune marker against the given public keys. Then it checks
 * each record's hash, sequence and link, from the newest valid prune marker
 * or from record 1. Last it compares every checkpoint with its record and
 * the head row with the last record.
 *
 * NOTE: Records after the newest checkpoint are protected only by the chain.
 * Someone who can write the database may remove them, or append records with
 * correct hashes, and update the head row to match. Checkpoints bound that
 * window to the checkpoint interval.
 */
export async function verifyAuditTrail(
  db: Kysely<AuditTables>,
  publicKeys: ReadonlyMap<string, KeyObject>,
  options: {
    batchSize?: number | undefined;
    /** The SQLite connection of `db`, for the faster read path. */
    sqlite?: SqliteDatabase.Database | undefined;
    /** Checks ranges of a long chain on worker threads too. */
    parallel?: ParallelVerifyOptions | undefined;
  } = {},
): Promise<AuditVerifyReport> {
  const problems: AuditProblem[] = [];
  const valid: AuditCheckpoint[] = [];
  for (const checkpoint of await readCheckpoints(db)) {
    const check = checkSignature(checkpoint, publicKeys);
    if (check === 'valid') {
      valid.push(checkpoint);
    } else {
      problems.push(signatureProblem(checkpoint, check, publicKeys.size));
    }
  }

  const markers = valid.filter((checkpoint) => checkpoint.kind === 'prune');
  const marker = markers.at(-1);
  const anchor: ChainAnchor = marker
    ? { sequence: marker.sequence, hash: marker.hash }
    : { sequence: 0, hash: GENESIS_HASH };

  const leftover = marker ? await firstRecordThrough(db, marker.sequence) : undefined;
  const chainProblems: AuditProblem[] = [];
  if (leftover !== undefined && marker) {
    chainProblems.push({
      kind: 'inserted',
      sequence: leftover,
      message: `record ${leftover} was inserted: retention removed records ${marker.firstSequence ?? 1} to ${marker.sequence}, but it is present`,
    });
  }

  const bySequence = new Map<number, AuditCheckpoint>();
  for (const checkpoint of valid) {
    if (checkpoint.kind === 'checkpoint' && checkpoint.sequence > anchor.sequence) {
      bySequence.set(checkpoint.sequence, checkpoint);
    }
  }
  // Records appended while the scan runs come after this head, so they are
  // left for the next verification instead of being mistaken for a fault.
  const head = await readHead(db);
  const joined = options.parallel
    ? await verifyInParallel(
        db,
        options.sqlite,
        anchor,
        head.sequence,
        new Map([...bySequence].map(([sequence, checkpoint]) => [sequence, checkpoint.hash])),
        { ...options.parallel, batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE },
      )
    : undefined;
  // A fault found in parallel is diagnosed by the sequential scan.
  const scan: ScanResult = joined
    ? {
        records: joined.records,
        firstSequence: joined.records > 0 ? anchor.sequence + 1 : null,
        last: joined.last,
      }
    : await scanChain(db, anchor, {
        through: head.sequence,
        checkpoints: bySequence,
        batchSize: options.batchSize,
        sqlite: options.sqlite,
      });
  if (scan.problem) {
    chainProblems.push(scan.problem);
  } else {
    chainProblems.push(...(await checkEnd(db, scan.last, valid, head)));
  }

  const allProblems = [...chainProblems.slice(0, 1), ...problems];
  return {
    ok: allProblems.length === 0,
    records: scan.records,
    firstSequence: scan.firstSequence,
    lastSequence: scan.records > 0 ? scan.last.sequence : null,
    checkpoints: valid.length,
    prunedThrough: marker ? marker.sequence : null,
    problems: allProblems,
  };
}

function signatureProblem(
  checkpoint: AuditCheckpoint,
  check: 'invalid' | 'unknown-key',
  keyCount: number,
): AuditProblem {
  const what = checkpoint.kind === 'prune' ? 'prune marker' : 'checkpoint';
  if (check === 'invalid') {
    return {
      kind: 'forged-checkpoint',
      sequence: checkpoint.sequence,
      message: `the ${what} of record ${checkpoint.sequence} signed at ${checkpoint.time} has an invalid signature: it was forged or changed`,
    };
  }
  const fix =
    keyCount === 0
      ? 'no public key is configured: set audit.signing.publicKeys or pass --public-key'
      : 'add its public key to audit.signing.publicKeys if it is a key you used before';
  return {
    kind: 'unknown-key',
    sequence: checkpoint.sequence,
    message: `the ${what} of record ${checkpoint.sequence} is signed with key ${checkpoint.keyId}, which is not among the ${keyCount} accepted public keys: ${fix}`,
  };
}

async function firstRecordThrough(
  db: Kysely<AuditTables>,
  sequence: number,
): Promise<number | undefined> {
  const row = await db
    .selectFrom('audit_records')
    .select('sequence')
    .where('sequence', '<=', sequence)
    .orderBy('sequence')
    .limit(1)
    .executeTakeFirst();
  return row ? Number(row.sequence) : undefined;
}

/**
 * Reads records after `anchor` in sequence order and checks each one's
 * sequence, link and hash, and its hash against a checkpoint of its
 * sequence. Stops at the first fault and diagnoses it.
 */
export async function scanChain(
  db: Kysely<AuditTables>,
  anchor: ChainAnchor,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const checkpoints = options.checkpoints ?? new Map<number, AuditCheckpoint>();
  let expected = anchor.sequence + 1;
  let previousHash = anchor.hash;
  let hashBeforePrevious: string | undefined;
  let lastMatchingCheckpoint = anchor.sequence;
  let records = 0;
  let firstSequence: number | null = null;
  const batches = readRecordBatches(db, options.sqlite, expected, options.through, batchSize);

  for await (const rows of batches) {
    for (const row of rows) {
      const sequence = Number(row[0]);
      const hash = row[12];
      const intact = sequence === expected && row[11] === previousHash && hashTuple(row) === hash;
      if (!intact) {
        const problem = await diagnose(db, sequence, expected, previousHash, hashBeforePrevious);
        return {
          records,
          firstSequence,
          last: { sequence: expected - 1, hash: previousHash },
          problem,
        };
      }

      const checkpoint = checkpoints.get(sequence);
      if (checkpoint && checkpoint.hash !== hash) {
        return {
          records,
          firstSequence,
          last: { sequence: expected - 1, hash: previousHash },
          problem: {
            kind: 'changed',
            sequence: lastMatchingCheckpoint + 1,
            message: `a record from ${lastMatchingCheckpoint + 1} to ${sequence} was changed and the hashes after it recomputed: record ${sequence} does not match the checkpoint signed at ${checkpoint.time}${lastMatchingCheckpoint > anchor.sequence ? `, while the checkpoint of record ${lastMatchingCheckpoint} matches` : ''}`,
          },
        };
      }
      if (checkpoint) {
        lastMatchingCheckpoint = sequence;
      }

      firstSequence ??= sequence;
      records += 1;
      hashBeforePrevious = previousHash;
      previousHash = hash;
      expected = sequence + 1;
    }
  }
  return { records, firstSequence, last: { sequence: expected - 1, hash: previousHash } };
}

/**
 * Names the fault at record `sequence`, the first that breaks the chain. `expected`
 * is the sequence it should have, `previousHash` the hash of the last good
 * record and `hashBeforePrevious` the one before that. Rows after it show
 * where the original chain continues.
 */
async function diagnose(
  db: Kysely<AuditTables>,
  sequence: number,
  expected: number,
  previousHash: string,
  hashBeforePrevious: string | undefined,
): Promise<AuditProblem> {
  if (sequence > expected) {
    const range =
      sequence - 1 === expected
        ? `record ${expected} was removed`
        : `records ${expected} to ${sequence - 1} were removed`;
    return {
      kind: 'removed',
      sequence: expected,
      message: `${range}: the chain continues at record ${sequence}`,
    };
  }

  const [first, ...window] = await db
    .selectFrom('audit_records')
    .selectAll()
    .where('sequence', '>=', sequence)
    .orderBy('sequence')
    .limit(DIAGNOSIS_WINDOW + 1)
    .execute();
  if (!first) {
    throw new Error(`Record ${sequence} disappeared while it was verified`);
  }
  const next = window[0];
  const contentMatches = hashRecord(hashedFieldsOfRow(first)) === first.hash;

  if (first.previous_hash === previousHash) {
    // It links to the last good record, but its contents do not match its hash.
    if (next && next.previous_hash === previousHash) {
      return inserted(
        sequence,
        `record ${Number(next.sequence)} links to record ${sequence - 1}, not to it`,
      );
    }
    return {
      kind: 'changed',
      sequence,
      message: `record ${sequence} was changed: its contents do not match its hash`,
    };
  }

  if (hashBeforePrevious !== undefined && first.previous_hash === hashBeforePrevious) {
    return inserted(expected - 1, `record ${sequence} links to record ${expected - 2}, not to it`);
  }
  const successor = window.find((row) => row.hash === first.previous_hash);
  if (successor) {
    return {
      kind: 'reordered',
      sequence,
      message: `record ${sequence} was reordered: it links to the record now stored as ${Number(successor.sequence)}, which must come before it`,
    };
  }
  if (next && next.previous_hash === previousHash) {
    return inserted(
      sequence,
      `record ${Number(next.sequence)} links to record ${sequence - 1}, not to it`,
    );
  }
  const renumberedFrom = originalSequence(first);
  if (renumberedFrom !== undefined && renumberedFrom > sequence) {
    return {
      kind: 'removed',
      sequence,
      message: `record ${sequence} was removed and the records after it renumbered: the record stored as ${sequence} was written as ${renumberedFrom}`,
    };
  }
  if (contentMatches && expected - 1 > 0) {
    return {
      kind: 'changed',
      sequence: expected - 1,
      message: `record ${expected - 1} was changed and its hash recomputed: record ${sequence} links to a different hash`,
    };
  }
  return {
    kind: 'changed',
    sequence,
    message: `record ${sequence} was changed: it does not link to record ${sequence - 1}${contentMatches ? '' : ' and its contents do not match its hash'}`,
  };
}

function inserted(sequence: number, evidence: string): AuditProblem {
  return { kind: 'inserted', sequence, message: `record ${sequence} was inserted: ${evidence}` };
}

/**
 * Finds the sequence near the stored one under which the row's hash was
 * written. Returns undefined when none matches.
 */
function originalSequence(row: AuditRecordRow): number | undefined {
  const fields = hashedFieldsOfRow(row);
  for (let offset = 1; offset <= DIAGNOSIS_WINDOW; offset += 1) {
    for (const candidate of [fields.sequence + offset, fields.sequence - offset]) {
      if (candidate > 0 && hashRecord({ ...fields, sequence: candidate }) === row.hash) {
        return candidate;
      }
    }
  }
  return undefined;
}

/**
 * Checks what follows the last record read, given the head row read before
 * the scan. A signed checkpoint beyond it, or a head row ahead of it, means
 * that records were removed from the end. A record beyond the head row, as
 * read again now, means that a record was added without an append.
 */
async function checkEnd(
  db: Kysely<AuditTables>,
  last: ChainAnchor,
  checkpoints: readonly AuditCheckpoint[],
  head: ChainAnchor,
): Promise<AuditProblem[]> {
  const beyond = checkpoints.filter((checkpoint) => checkpoint.sequence > last.sequence).at(-1);
  if (beyond) {
    return [
      {
        kind: 'removed',
        sequence: last.sequence + 1,
        message: `${describeRange(last.sequence + 1, beyond.sequence)} removed: the checkpoint signed at ${beyond.time} covers the chain up to record ${beyond.sequence}`,
      },
    ];
  }

  if (head.sequence > last.sequence) {
    return [
      {
        kind: 'removed',
        sequence: last.sequence + 1,
        message: `${describeRange(last.sequence + 1, head.sequence)} removed: the head row ends the chain at record ${head.sequence}`,
      },
    ];
  }
  if (head.hash !== last.hash) {
    return [
      {
        kind: 'changed',
        sequence: last.sequence,
        message: `record ${last.sequence} was changed and its hash recomputed: the head row contains a different hash`,
      },
    ];
  }

  // An append commits its record and the head row together, so a record
  // that is newer than the head row read after it was never appended.
  const newest = await db
    .selectFrom('audit_records')
    .select((eb) => eb.fn.max('sequence').as('sequence'))
    .executeTakeFirst();
  const currentHead = await readHead(db);
  const newestSequence = Number(newest?.sequence ?? 0);
  if (newestSequence > currentHead.sequence) {
    return [
      inserted(
        currentHead.sequence + 1,
        `the head row ends the chain at record ${currentHead.sequence}, but records follow it`,
      ),
    ];
  }
  return [];
}

function describeRange(from: number, to: number): string {
  return from === to ? `record ${from} was` : `records ${from} to ${to} were`;
}
