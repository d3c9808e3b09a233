import type { JSONWebKeySet } from 'jose';
import type { Logger } from 'pino';
import { IdentityProviderError } from './identity-provider-error.js';
import { isLoopbackHttp } from './loopback.js';

/** A fetched key set is used for at most this long before it is fetched again. */
const MAX_AGE_MS = 10 * 60_000;

/**
 * Shortest time between two fetches caused by a key id the set lacks, when
 * the caller is rate-limited. The sender of a bearer token chooses its key
 * id, so without a limit every forged token would cost a request to the
 * provider.
 */
export const UNKNOWN_KEY_REFETCH_MS = 5_000;

const REQUEST_TIMEOUT_MS = 10_000;

export interface JwksStore {
  /**
   * Returns the provider's signing keys. The set is fetched when there is
   * none yet, when it is older than ten minutes, or when it lacks `kid`. For
   * a missing `kid`, a rate-limited caller gets the old set until
   * UNKNOWN_KEY_REFETCH_MS have passed since the previous fetch.
   */
  keys(kid: string | undefined, options: { rateLimited: boolean }): Promise<JSONWebKeySet>;
}

/**
 * Creates the cache of the provider's key set, shared by ID token and access
 * token checks, so that a key rotation is noticed by both at the first token
 * signed with the new key.
 */
export function createJwksStore(options: {
  /** Resolves to the provider's `jwks_uri`, read from its discovery document. */
  jwksUri: () => Promise<URL>;
  logger: Logger;
  now?: () => number;
}): JwksStore {
  const now = options.now ?? Date.now;
  let current: { keys: JSONWebKeySet; fetchedAt: number } | undefined;
  let pending: Promise<JSONWebKeySet> | undefined;

  async function download(): Promise<JSONWebKeySet> {
    const url = await options.jwksUri();
    if (url.protocol !== 'https:' && !isLoopbackHttp(url)) {
      throw new IdentityProviderError(
        `The identity provider's jwks_uri ${url.href} is not https: the provider must publish its keys over https`,
      );
    }

    let body: unknown;
    try {
      const response = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (!response.ok) {
        throw new Error(`the response status is ${response.status}`);
      }
      body = await response.json();
    } catch (error) {
      options.logger.error(
        { jwksUri: url.href, err: error },
        'identity provider keys fetch failed',
      );
      throw new IdentityProviderError(
        `Fetching the identity provider's keys from ${url.href} failed (${(error as Error).message}): check that the provider is reachable`,
        { cause: error },
      );
    }

    if (!isKeySet(body)) {
      throw new IdentityProviderError(
        `The identity provider's keys at ${url.href} are not a JSON Web Key Set: expected an object with a "keys" array`,
      );
    }
    current = { keys: body, fetchedAt: now() };
    options.logger.info(
      { jwksUri: url.href, keyIds: body.keys.map((key) => key.kid ?? null) },
      'identity provider keys fetched',
    );
    return body;
  }

  function refresh(): Promise<JSONWebKeySet> {
    pending ??= download().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  return {
    async keys(kid, { rateLimited }) {
      if (!current || now() - current.fetchedAt >= MAX_AGE_MS) {
        return await refresh();
      }
      const known = kid === undefined || current.keys.keys.some((key) => key.kid === kid);
      if (known) {
        return current.keys;
      }
      if (rateLimited && now() - current.fetchedAt < UNKNOWN_KEY_REFETCH_MS) {
        return current.keys;
      }
      return await refresh();
    },
  };
}

function isKeySet(value: unknown): value is JSONWebKeySet {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { keys?: unknown }).keys) &&
    (value as { keys: unknown[] }).keys.every((key) => typeof key === 'object' && key !== null)
  );
}
