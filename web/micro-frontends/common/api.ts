/** Result of one API call: the parsed body, or the status and the server's message. */
export type ApiResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; message: string };

/** A field fault of a 400 response: `details[].path`, such as `parameters.environment`. */
export interface FieldError {
  path: string;
  message: string;
}

/** Result of a call that changes something: the body, or the status, code, message and field faults. */
export type SendResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; code: string; message: string; details: FieldError[] };

/**
 * GETs JSON from the portal's API with the session cookie. A network failure
 * or an unreadable body is returned as status 0. Only an abort through
 * `signal` throws.
 */
export async function getJson<T>(url: string, signal?: AbortSignal): Promise<ApiResult<T>> {
  return await fetchJson<T>(url, signal ? { signal } : {});
}

/**
 * POSTs JSON to the portal's API with the session cookie. A network failure
 * or an unreadable body is returned as status 0 instead of an exception.
 */
export async function postJson<T>(url: string, body: unknown): Promise<SendResult<T>> {
  return await fetchJson<T>(url, { json: body });
}

/** Sends a GET, or a POST when `json` is set, and reads the JSON response or the error body. */
async function fetchJson<T>(
  url: string,
  request: { json?: unknown; signal?: AbortSignal },
): Promise<SendResult<T>> {
  const init: RequestInit = {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
    ...(request.signal ? { signal: request.signal } : {}),
  };
  if ('json' in request) {
    init.method = 'POST';
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(request.json);
  }

  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (request.signal?.aborted) throw error;
    return {
      ok: false,
      status: 0,
      code: 'NETWORK',
      message: `the portal could not be reached (${String(error)})`,
      details: [],
    };
  }

  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }

  if (response.ok && body !== undefined) {
    return { ok: true, status: response.status, data: body as T };
  }
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error ?? {};
  return {
    ok: false,
    status: response.ok ? 0 : response.status,
    code: typeof error.code === 'string' ? error.code : 'UNKNOWN',
    message: errorMessage(error, response),
    details: fieldErrors(error.details),
  };
}

/** Reads the message of the error body `{ error: { code, message } }`, else the status text. */
function errorMessage(error: Record<string, unknown>, response: Response): string {
  if (typeof error.message === 'string') {
    return error.message;
  }
  if (response.ok) {
    return 'the response was not JSON';
  }
  return `${response.status} ${response.statusText}`.trim();
}

function fieldErrors(details: unknown): FieldError[] {
  if (!Array.isArray(details)) {
    return [];
  }
  return details.filter(
    (detail): detail is FieldError =>
      typeof detail?.path === 'string' && typeof detail?.message === 'string',
  );
}
