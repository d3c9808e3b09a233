import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type PreparedFile, type PrepareOptions, prepareCatalogText } from './prepare-file.js';

/** A file to prepare, as sent to a worker thread. */
export interface PrepareJob {
  id: number;
  file: string;
  text: string;
  /** Plain data only, so the structured clone to the worker keeps every field. */
  options: PrepareOptions;
  /**
   * One Int32 in memory shared with the main thread: 0 until a thread starts
   * the job, which it marks with compareExchange first (see claimJob), so
   * exactly one thread prepares it.
   */
  claim: Int32Array;
}

/** Marks a job as started, unless another thread started it first; true when the caller may prepare it. */
export function claimJob(job: { claim: Int32Array }): boolean {
  return Atomics.compareExchange(job.claim, 0, 0, 1) === 0;
}

export type PrepareReply = { id: number; prepared: PreparedFile } | { id: number; error: string };

/** Worker threads beside the main one, which writes to the database meanwhile. */
const MAX_WORKERS = 3;

/**
 * Young generation of a worker's heap. Preparing allocates many short-lived
 * objects. With V8's default of 16 MB semi-spaces, garbage collection took
 * about a third of a worker's time, and with 192 MB (64 MB semi-spaces) about
 * a sixth, on the 100,000 generated entities of bench/ingest.ts.
 */
const WORKER_YOUNG_GENERATION_MB = 192;

/** The worker's own module: TypeScript when run from source, JavaScript once built. */
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './prepare-worker.ts' : './prepare-worker.js',
  import.meta.url,
);

/**
 * Starts a worker on WORKER_URL. Run from TypeScript source (tests,
 * benchmarks), the worker needs the tsx loader of the main thread, which
 * worker threads do not inherit (Node.js 20), so a bootstrap registers it.
 */
function startWorkerThread(): Worker {
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };
  if (!WORKER_URL.pathname.endsWith('.ts')) {
    return new Worker(WORKER_URL, { resourceLimits });
  }
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(bootstrap, { eval: true, resourceLimits });
}

interface PendingJob {
  job: PrepareJob;
  resolve(prepared: PreparedFile): void;
  reject(error: Error): void;
}

/**
 * Prepares catalog files (parse, validate, build rows) on worker threads, so
 * the main thread can write the files already prepared meanwhile. Jobs go to
 * the workers in turn, and each worker prepares them in the order it was
 * sent them. A main thread that would otherwise wait for a file prepares the
 * oldest job that no worker has started (prepareOneHere), and the worker
 * skips it, so the threads share the work however fast each one is.
 */
export class PreparePool {
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, PendingJob>();
  #nextId = 0;
  #closed = false;
  /** Error of a worker that stopped unexpectedly, after which the pool takes no more jobs. */
  #failure: Error | undefined;

  constructor(size = Math.max(1, Math.min(MAX_WORKERS, availableParallelism() - 1))) {
    for (let index = 0; index < size; index++) {
      this.#workers.push(this.#start());
    }
  }

  /** Number of worker threads. */
  get size(): number {
    return this.#workers.length;
  }

  prepare(file: string, text: string, options: PrepareOptions): Promise<PreparedFile> {
    if (this.#closed || this.#failure) {
      return Promise.reject(
        this.#failure ?? new Error('the catalog file preparation pool is closed'),
      );
    }
    const id = this.#nextId;
    this.#nextId += 1;
    const claim = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    const job: PrepareJob = { id, file, text, options, claim };
    return new Promise<PreparedFile>((resolve, reject) => {
      this.#pending.set(id, { job, resolve, reject });
      (this.#workers[id % this.#workers.length] as Worker).postMessage(job);
    });
  }

  /**
   * Prepares on the calling thread the oldest job that no worker has started,
   * and settles its promise. Returns false when every job has been started,
   * so there is nothing to take over.
   */
  async prepareOneHere(): Promise<boolean> {
    for (const [id, pending] of this.#pending) {
      if (!claimJob(pending.job)) {
        continue;
      }
      this.#pending.delete(id);
      const { file, text, options } = pending.job;
      try {
        pending.resolve(await prepareCatalogText(file, text, options));
      } catch (error) {
        pending.reject(preparationError(error instanceof Error ? error.message : String(error)));
      }
      return true;
    }
    return false;
  }

  /** Stops the workers; jobs still under way fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
    for (const pending of this.#pending.values()) {
      pending.reject(new Error('the catalog file preparation pool was closed'));
    }
    this.#pending.clear();
  }

  #start(): Worker {
    const worker = startWorkerThread();
    worker.on('message', (reply: PrepareReply) => {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if ('prepared' in reply) {
        pending?.resolve(reply.prepared);
      } else {
        pending?.reject(preparationError(reply.error));
      }
    });
    worker.on('error', (error) => this.#failAll(error));
    worker.on('exit', (code) => {
      if (!this.#closed) {
        this.#failAll(new Error(`a catalog file preparation worker stopped with code ${code}`));
      }
    });
    return worker;
  }

  #failAll(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) {
      pending.reject(error);
    }
    this.#pending.clear();
  }
}

function preparationError(message: string): Error {
  return new Error(`preparing a catalog file failed: ${message}`);
}
