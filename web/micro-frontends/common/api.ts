/** Result of one API call: the parsed body, or the status and the server's message. */
export type ApiResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; message: string };

/**
 * GETs JSON from the portal's API with the session cookie. A network failure
 * or an unreadable body is returned as status 0. Only an abort through
 * `signal` throws.
 */
export async function getJson<T>(url: string, signal?: AbortSignal): Promise<ApiResult<T>> {
  let response: Response;
  try {
    response = await fetch(url, {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    return { ok: false, status: 0, message: `the portal could not be reached (${String(error)})` };
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
  return {
    ok: false,
    status: response.ok ? 0 : response.status,
    message: errorMessage(body, response),
  };
}

/** Reads the message of the error body `{ error: { code, message } }`, else the status text. */
function errorMessage(body: unknown, response: Response): string {
  const error = (body as { error?: { message?: unknown } } | undefined)?.error;
  if (error && typeof error.message === 'string') {
    return error.message;
  }
  if (response.ok) {
    return 'the response was not JSON';
  }
  return `${response.status} ${response.statusText}`.trim();
}
