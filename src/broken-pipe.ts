import type { Writable } from 'node:stream';

/**
 * Exit status after the reader of standard output went away, as with
 * `| head -3`: 128 plus the number of SIGPIPE, which a shell reports for a
 * program that the signal ended.
 */
export const BROKEN_PIPE_EXIT_CODE = 141;

const guardedStreams = new WeakSet<Writable>();

/**
 * Ends the process quietly with BROKEN_PIPE_EXIT_CODE when a write to the
 * stream fails with EPIPE. Node.js ignores SIGPIPE, so without this the
 * failed write is an unhandled 'error' event with a stack trace. Other write
 * errors keep their default handling.
 */
export function exitOnBrokenPipe(stream: Writable): void {
  // main() runs more than once in a test process; one listener is enough.
  if (guardedStreams.has(stream)) {
    return;
  }
  guardedStreams.add(stream);
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      process.exit(BROKEN_PIPE_EXIT_CODE);
    }
    throw error;
  });
}
