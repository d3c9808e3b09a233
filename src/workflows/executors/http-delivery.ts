import { PortalError } from '../../errors/index.js';
import { RetryableExecutionError } from '../types.js';

/** An execution fault that retrying cannot fix, such as a 4xx response; the request fails. */
export class ExecutionFailedError extends PortalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EXECUTION_FAILED', message, options);
  }
}

/** One HTTP call of an executor. */
export interface DeliveryRequest {
  /** The receiver's name in messages, such as `the deployment webhook`. */
  target: string;
  url: string;
  /** The URL as messages show it, such as describeEndpoint(url) or only the origin. */
  endpoint: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** The engine's shutdown signal; an aborted call is retried after the restart. */
  signal: AbortSignal;
}

/** The receiver's response, read whole. */
export interface DeliveryResponse {
  status: number;
  headers: Headers;
  /** At most the first 64 KiB of the response body. */
  text: string;
}

/** Maximum response body read; a receiver has no reason to send more. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Maximum part of a response body quoted in an error message. */
const MAX_QUOTED_CHARACTERS = 300;

/**
 * POSTs one request and returns the response of any status. A timeout, a
 * refused or reset connection and a shutdown abort throw
 * RetryableExecutionError; redirects are not followed, so a 3xx comes back
 * as a response.
 */
export async function postForDelivery(request: DeliveryRequest): Promise<DeliveryResponse> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.any([timeout, request.signal]),
    });
  } catch (error) {
    throw describeTransportFailure(error, request, timeout);
  }

  let text: string;
  try {
    text = await readLimited(response);
  } catch (error) {
    throw describeTransportFailure(error, request, timeout);
  }
  return { status: response.status, headers: response.headers, text };
}

/**
 * Turns a non-2xx response into the error the engine acts on: 408, 429 and
 * 5xx are retryable, every other status fails the request. Returns nothing
 * for a 2xx response.
 */
export function checkDeliveryStatus(target: string, response: DeliveryResponse): void {
  const { status } = response;
  if (status >= 200 && status <= 299) {
    return;
  }

  const quoted = quoteResponseBody(response.text);
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfter = response.headers.get('retry-after');
    const wait = retryAfter ? ` (Retry-After: ${retryAfter.slice(0, 40)})` : '';
    throw new RetryableExecutionError(`${target} responded with ${status}${wait}${quoted}`);
  }
  if (status >= 300 && status <= 399) {
    const location = response.headers.get('location') ?? 'no location';
    throw new ExecutionFailedError(
      `${target} responded with a ${status} redirect to ${describeEndpoint(location)}: configure the final URL, because redirects are not followed`,
    );
  }
  throw new ExecutionFailedError(`${target} rejected the request with ${status}${quoted}`);
}

/**
 * Returns a URL's origin and path for logs and messages. A query string or
 * user info may hold a credential, so both are left out.
 */
export function describeEndpoint(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'an invalid URL';
  }
}

function describeTransportFailure(
  error: unknown,
  request: DeliveryRequest,
  timeout: AbortSignal,
): RetryableExecutionError {
  const { endpoint } = request;
  if (timeout.aborted) {
    return new RetryableExecutionError(
      `${request.target} at ${endpoint} timed out after ${request.timeoutMs} ms`,
      { cause: error },
    );
  }
  if (request.signal.aborted) {
    return new RetryableExecutionError(
      `the call to ${request.target} at ${endpoint} was aborted because the server is stopping`,
      { cause: error },
    );
  }

  // fetch reports network faults as `TypeError: fetch failed` with the socket error as its cause.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const detail =
    typeof code === 'string' ? code : cause instanceof Error ? cause.message : 'unknown error';
  return new RetryableExecutionError(
    `the call to ${request.target} at ${endpoint} failed: ${detail}`,
    { cause: error },
  );
}

async function readLimited(response: Response): Promise<string> {
  if (!response.body) {
    return '';
  }

  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let read = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      return text + decoder.decode();
    }
    read += value.byteLength;
    if (read > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      return (
        text + decoder.decode(value.subarray(0, value.byteLength - (read - MAX_RESPONSE_BYTES)))
      );
    }
    text += decoder.decode(value, { stream: true });
  }
}

/** Quotes the start of a response body on one line, for an error message. */
function quoteResponseBody(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') {
    return '';
  }
  const cut =
    line.length > MAX_QUOTED_CHARACTERS ? `${line.slice(0, MAX_QUOTED_CHARACTERS)}...` : line;
  return `: ${cut}`;
}
