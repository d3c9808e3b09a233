import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { DatabaseConfig } from '../config/index.js';
import type { AuditTables } from './tables.js';
import type { ChainAnchor } from './verify.js';
import { type SegmentResult, verifySegment } from './verify-segment.js';
import type { VerifyWorkerInput } from './verify-worker.js';

/** Settings of parallel verification: the database that workers connect to, and when it is worth it. */
export interface ParallelVerifyOptions {
  /** The database that `db` is connected to; each worker opens its own connection. */
  database: DatabaseConfig;
  /** Fewer records than this are verified on the calling thread alone; 100,000 by default. */
  threshold?: number | undefined;
  /** Worker threads beside the calling thread; one less than the CPU count, at most 3, by default. */
  workers?: number | undefined;
}

const DEFAULT_THRESHOLD = 100_000;
const MAX_WORKERS = 3;

/** The worker's own module: TypeScript when run from source, JavaScript once built. */
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './verify-worker.ts' : './verify-worker.js',
  import.meta.url,
);

/**
 * Checks the records after `anchor` through `through` on the calling thread
 * and on worker threads at once, each taking one range. Resolves to the
 * number of records and the last hash when every range is intact and links
 * to the one before. Resolves to undefined when parallel checking does not
 * apply (a small chain, an in-memory database, one CPU) or a range has a
 * fault, so the caller runs the sequential scan, which names the fault.
 */
export async function verifyInParallel(
  db: Kysely<AuditTables>,
  sqlite: SqliteDatabase.Database | undefined,
  anchor: ChainAnchor,
  through: number,
  checkpointHashes: ReadonlyMap<number, string>,
  options: ParallelVerifyOptions & { batchSize: number },
): Promise<{ records: number; last: ChainAnchor } | undefined> {
  const total = through - anchor.sequence;
  const workers = Math.min(options.workers ?? availableParallelism() - 1, MAX_WORKERS);
  const inMemory =
    options.database.client === 'better-sqlite3' && options.database.connection === ':memory:';
  if (total < (options.threshold ?? DEFAULT_THRESHOLD) || workers < 1 || inMemory) {
    return undefined;
  }

  const size = Math.ceil(total / (workers + 1));
  const ranges: Array<{ from: number; through: number }> = [];
  for (let from = anchor.sequence + 1; from <= through; from += size) {
    ranges.push({ from, through: Math.min(through, from + size - 1) });
  }

  const [own, ...others] = ranges;
  if (!own) {
    return undefined;
  }
  const hashesOf = (range: { from: number; through: number }) =>
    [...checkpointHashes].filter(
      ([sequence]) => sequence >= range.from && sequence <= range.through,
    );
  const results = await Promise.all([
    verifySegment(db, sqlite, { ...own, batchSize: options.batchSize }, checkpointHashes),
    ...others.map((range) =>
      runWorker({
        database: options.database,
        ...range,
        batchSize: options.batchSize,
        checkpointHashes: hashesOf(range),
      }),
    ),
  ]);

  let previousHash = anchor.hash;
  let records = 0;
  for (const result of results) {
    if (!result.intact || result.firstPreviousHash !== previousHash || result.lastHash === null) {
      return undefined;
    }
    previousHash = result.lastHash;
    records += result.records;
  }
  return { records, last: { sequence: through, hash: previousHash } };
}

/**
 * Runs one range on a worker thread. From TypeScript source (tests,
 * benchmarks) the worker needs the tsx loader, which worker threads do not
 * inherit in Node.js 20, so a bootstrap registers it first.
 */
function runWorker(input: VerifyWorkerInput): Promise<SegmentResult> {
  let worker: Worker;
  if (WORKER_URL.pathname.endsWith('.ts')) {
    const tsx = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
    worker = new Worker(bootstrap, { eval: true, workerData: input });
  } else {
    worker = new Worker(WORKER_URL, { workerData: input });
  }

  return new Promise((resolve, reject) => {
    worker.once('message', (message: { result?: SegmentResult; error?: string }) => {
      if (message.result) {
        resolve(message.result);
      } else {
        reject(
          new Error(
            `Verification of records ${input.from} to ${input.through} failed: ${message.error}`,
          ),
        );
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      reject(
        new Error(
          `The verification worker for records ${input.from} to ${input.through} stopped with exit code ${code}`,
        ),
      );
    });
  });
}
