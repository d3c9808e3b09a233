import type { FastifyRequest } from 'fastify';

/** Reads the origin of a request from `Origin`, else from `Referer`; undefined when both are missing. */
export function requestOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    return origin;
  }
  const referer = request.headers.referer;
  if (typeof referer === 'string') {
    try {
      return new URL(referer).origin;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Finds the source that a browser reports for a request, for the CSRF check of
 * requests that change state. Returns undefined when the request is from
 * `baseOrigin`, or when it has none of `Sec-Fetch-Site`, `Origin` and
 * `Referer`, as no current browser sends such a request. Otherwise returns a
 * description of the foreign source for the error message.
 */
export function foreignSource(request: FastifyRequest, baseOrigin: string): string | undefined {
  const fetchSite = request.headers['sec-fetch-site'];
  if (typeof fetchSite === 'string') {
    return fetchSite === 'same-origin' ? undefined : `Sec-Fetch-Site is ${fetchSite}`;
  }

  // `Origin: null` comes from sandboxed frames and privacy redirects: a browser, from no known origin.
  const origin = request.headers.origin;
  if (typeof origin === 'string') {
    return origin === baseOrigin ? undefined : `its origin is ${origin}`;
  }

  const referer = request.headers.referer;
  if (typeof referer === 'string') {
    let refererOrigin: string | undefined;
    try {
      refererOrigin = new URL(referer).origin;
    } catch {
      refererOrigin = undefined;
    }
    return refererOrigin === baseOrigin ? undefined : `its Referer is ${referer.slice(0, 200)}`;
  }
  return undefined;
}

/** Methods that change nothing on the server, so a cross-site request cannot do harm with them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Returns true for a method that may change state: every method but GET, HEAD and OPTIONS. */
export function changesState(request: FastifyRequest): boolean {
  return !SAFE_METHODS.has(request.method.toUpperCase());
}
