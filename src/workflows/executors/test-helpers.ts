import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, pino } from 'pino';
import type { ExecutionContext, WorkflowRequest } from '../types.js';

/** Helpers shared by the executor and notifier tests; nothing outside tests imports this file. */

/** 2026-12-05T10:00:00Z, the fixed clock of these tests. */
export const FIXED_NOW_MS = Date.UTC(2026, 11, 5, 10, 0, 0);

/** Creates a logger that keeps every line, so a test can check what was logged. */
export function createCapturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
  return { logger, lines };
}

/** Builds a deployment request as the engine stores it while executing. */
export function deploymentRequest(overrides: Partial<WorkflowRequest> = {}): WorkflowRequest {
  return {
    id: '3f1c2a9e-5b7d-4e21-9c0a-6d8e4f2b1a07',
    type: 'deployment',
    requester: 'user:default/ada',
    entityRef: 'component:default/orders',
    parameters: { environment: 'production', version: '1.4.2' },
    reason: 'Release 1.4.2',
    state: 'executing',
    ruleId: 'production-needs-owner',
    breakGlass: false,
    createdAt: '2026-12-05T09:55:00.000Z',
    updatedAt: '2026-12-05T09:59:00.000Z',
    expiresAt: null,
    attempts: 0,
    result: null,
    ...overrides,
  };
}

/** Builds the context of one execution attempt of `request`. */
/**
 * Returns a child of `logger` bound as the runner binds the logger of an
 * execution context: to the request id, type and attempt.
 */
export function runnerLogger(logger: Logger, request: WorkflowRequest, attempt = 1): Logger {
  return logger.child({ requestId: request.id, type: request.type, attempt });
}

/** Returns the keys that occur more than once in one JSON log line, such as `requestId` twice. */
export function duplicateKeys(line: string): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  // Every `"name":` after `{` or `,` counts, keys of nested objects too, so
  // this fits lines whose fields are flat, such as pino's without an `err`.
  for (const match of line.matchAll(/[{,]"([^"\\]+)":/g)) {
    const key = match[1] ?? '';
    if (seen.has(key)) {
      duplicates.add(key);
    }
    seen.add(key);
  }
  return [...duplicates];
}

export function executionContext(
  request: WorkflowRequest,
  overrides: Partial<ExecutionContext> = {},
): ExecutionContext {
  return {
    request,
    idempotencyKey: `deployment-${request.id}`,
    attempt: 1,
    requester: {
      userEntityRef: request.requester,
      ownershipEntityRefs: [request.requester, 'group:default/team-orders'],
      groupEntityRefs: ['group:default/team-orders'],
    },
    maxDurationSeconds: undefined,
    approvers: ['user:default/grace'],
    signal: new AbortController().signal,
    logger: pino({ level: 'silent' }),
    ...overrides,
  };
}

/** One request that a TestReceiver received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The response of a TestReceiver to one request: a status and body, or none at all. */
export type ReceiverAnswer =
  | { status: number; body?: string; headers?: Record<string, string> }
  | { hang: true };

/** An HTTP server on 127.0.0.1 that records every request and responds as its callback decides. */
export interface TestReceiver {
  /** `http://127.0.0.1:<port>` without a trailing slash. */
  origin: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a receiver. `answer` decides the response to the request with the
 * given index (0 for the first), after the body has been read.
 */
export async function startTestReceiver(
  answer: (request: ReceivedRequest, index: number) => ReceiverAnswer,
): Promise<TestReceiver> {
  const received: ReceivedRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry: ReceivedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const index = received.length;
      received.push(entry);
      const reply = answer(entry, index);
      if ('hang' in reply) {
        hanging.push(response);
        return;
      }
      response.writeHead(reply.status, reply.headers ?? {});
      response.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    close: async () => {
      for (const response of hanging) {
        response.destroy();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Returns a loopback URL on which nothing listens: a port taken and released again. */
export async function closedPortUrl(): Promise<string> {
  const receiver = await startTestReceiver(() => ({ status: 200 }));
  await receiver.close();
  return `${receiver.origin}/hook`;
}
