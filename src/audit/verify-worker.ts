/**
 * A worker thread of parallel verification: checks one range of the chain
 * on its own database connection and posts a SegmentResult, or
 * `{ error }` when it could not run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { DatabaseConfig } from '../config/index.js';
import { connectDatabase } from '../database/index.js';
import type { AuditTables } from './tables.js';
import { verifySegment } from './verify-segment.js';

export interface VerifyWorkerInput {
  database: DatabaseConfig;
  from: number;
  through: number;
  batchSize: number;
  checkpointHashes: Array<[number, string]>;
}

const input = workerData as VerifyWorkerInput;
const handle = connectDatabase(input.database);
try {
  const result = await verifySegment(
    handle.db as Kysely<AuditTables>,
    handle.sqlite,
    { from: input.from, through: input.through, batchSize: input.batchSize },
    new Map(input.checkpointHashes),
  );
  parentPort?.postMessage({ result });
} catch (error) {
  parentPort?.postMessage({ error: (error as Error).message });
} finally {
  await handle.destroy();
}
