import { parentPort } from 'node:worker_threads';
import { prepareCatalogText } from './prepare-file.js';
import { claimJob, type PrepareJob, type PrepareReply } from './prepare-pool.js';

/**
 * Entry of the worker threads of PreparePool: prepares each file it is sent,
 * one after another in the order they arrive, and sends the result back. A
 * job that the main thread has already started is skipped without a reply.
 */
const port = parentPort;
if (!port) {
  throw new Error('prepare-worker.ts runs only as a worker thread of PreparePool');
}

port.on('message', async (job: PrepareJob) => {
  if (!claimJob(job)) {
    return;
  }
  let reply: PrepareReply;
  try {
    const prepared = await prepareCatalogText(job.file, job.text, job.options);
    reply = { id: job.id, prepared };
  } catch (error) {
    reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
