import { createHash } from 'node:crypto';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import type { Logger } from 'pino';
import { AuthenticationError } from '../errors/index.js';
import type { Principal } from '../permissions/index.js';
import type { JwksStore } from './jwks-store.js';
import type { PrincipalResolver } from './principal-resolver.js';
import type { ProviderMetadata } from './relying-party.js';
import { PRINCIPAL_REFRESH_MS } from './sessions.js';
import type { IdentityClaims } from './sign-in-resolution.js';

/** Signature algorithms accepted on access tokens: the asymmetric ones, so no shared secret can sign one. */
const ACCEPTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** Tokens whose resolved principal is kept; past it the least recently used goes first. */
const MAX_CACHED_TOKENS = 10_000;

/** Longest accepted token, in characters; provider access tokens are a few kilobytes at most. */
const MAX_TOKEN_LENGTH = 16_384;

/** `Authorization: Bearer <token>` with RFC 6750's token characters. */
const BEARER_HEADER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * A rejected bearer token: 401 with the reason, and the `WWW-Authenticate`
 * challenge that RFC 6750 section 3 requires.
 */
export class BearerTokenError extends AuthenticationError {
  /** The value of the response's `WWW-Authenticate` header. */
  readonly wwwAuthenticate: string;

  constructor(message: string, options: { code: string; oauthError?: string; cause?: unknown }) {
    super(message, { code: options.code, cause: options.cause });
    const description = message.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
    this.wwwAuthenticate = `Bearer error="${options.oauthError ?? 'invalid_token'}", error_description="${description}"`;
  }
}

export interface BearerSettings {
  /** `auth.oidc.bearer.audiences`. */
  audiences: string[];
  /** `auth.oidc.bearer.issuer`; undefined means the issuer of the discovery document. */
  issuer: string | undefined;
  clockToleranceSeconds: number;
}

export interface BearerAuthenticator {
  /**
   * Checks the access token of an `Authorization` header and returns the
   * principal of its user. Throws a BearerTokenError for a token that is
   * malformed, badly signed, expired, for another audience or issuer, or
   * whose user has no User entity.
   */
  authenticate(authorization: string): Promise<Principal>;
}

interface CachedToken {
  principal: Principal;
  claims: IdentityClaims;
  /** Epoch milliseconds of `exp`. */
  expiresAt: number;
  catalogVersion: string;
  resolvedAt: number;
}

export function createBearerAuthenticator(options: {
  settings: BearerSettings;
  provider: { metadata(): Promise<ProviderMetadata>; jwks: JwksStore };
  resolver: PrincipalResolver;
  logger: Logger;
  clock?: () => Date;
}): BearerAuthenticator {
  const { settings, provider, resolver, logger: log } = options;
  const clock = options.clock ?? (() => new Date());
  const toleranceMs = settings.clockToleranceSeconds * 1000;
  // Keyed by the SHA-256 of the token, so the cache never contains a token itself.
  const cache = new Map<string, CachedToken>();
  const keySets = new WeakMap<JSONWebKeySet, ReturnType<typeof createLocalJWKSet>>();

  async function verify(token: string): Promise<JWTPayload> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch (error) {
      throw new BearerTokenError(
        'The bearer token is not a JWT: send the JWT access token of the identity provider (opaque access tokens cannot be checked here)',
        { code: 'BEARER_TOKEN_MALFORMED', cause: error },
      );
    }

    const expectedIssuer = settings.issuer ?? (await provider.metadata()).issuer;
    const keys = await provider.jwks.keys(header.kid, { rateLimited: true });
    let keySet = keySets.get(keys);
    if (!keySet) {
      keySet = createLocalJWKSet(keys);
      keySets.set(keys, keySet);
    }

    try {
      const { payload, protectedHeader } = await jwtVerify(token, keySet, {
        issuer: expectedIssuer,
        audience: settings.audiences,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: settings.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
        currentDate: clock(),
      });
      if (!isAccessToken(protectedHeader.typ, payload)) {
        throw new BearerTokenError(
          'The bearer token is not an access token: it has neither the header typ at+jwt nor a scope or scp claim, as an ID token does; send the access token',
          { code: 'BEARER_TOKEN_NOT_ACCESS_TOKEN' },
        );
      }
      return payload;
    } catch (error) {
      throw translateVerifyError(error, { expectedIssuer, settings });
    }
  }

  async function resolve(token: string, key: string): Promise<CachedToken> {
    const payload = await verify(token);
    const claims = resolver.readClaims(payload);
    let resolution: Awaited<ReturnType<PrincipalResolver['resolve']>>;
    try {
      resolution = await resolver.resolve(claims);
    } catch (error) {
      if (error instanceof AuthenticationError) {
        throw new BearerTokenError(error.message, { code: 'BEARER_TOKEN_USER_NOT_FOUND' });
      }
      throw error;
    }

    const { principal } = resolution;
    log.info(
      { user: principal.userEntityRef, matchedBy: resolution.matchedBy, tokenId: payload.jti },
      'bearer token accepted',
    );
    if (resolution.unknownGroups.length > 0) {
      log.warn(
        { user: principal.userEntityRef, groups: resolution.unknownGroups },
        'groups claim values of a bearer token match no Group entity; ignored',
      );
    }

    const entry: CachedToken = {
      principal,
      claims,
      expiresAt: (payload.exp ?? 0) * 1000,
      catalogVersion: resolution.catalogVersion,
      resolvedAt: clock().getTime(),
    };
    remember(key, entry);
    return entry;
  }

  function remember(key: string, entry: CachedToken): void {
    cache.delete(key);
    cache.set(key, entry);
    if (cache.size > MAX_CACHED_TOKENS) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) {
        cache.delete(oldest);
      }
    }
  }

  /** Resolves a cached token's principal again when the catalog changed since, as sessions do. */
  async function refresh(key: string, entry: CachedToken): Promise<Principal> {
    const catalogVersion = await resolver.catalogVersion();
    const age = clock().getTime() - entry.resolvedAt;
    if (catalogVersion === entry.catalogVersion && age < PRINCIPAL_REFRESH_MS) {
      return entry.principal;
    }

    let resolution: Awaited<ReturnType<PrincipalResolver['resolve']>>;
    try {
      resolution = await resolver.resolve(entry.claims);
    } catch (error) {
      if (error instanceof AuthenticationError) {
        cache.delete(key);
        throw new BearerTokenError(error.message, { code: 'BEARER_TOKEN_USER_NOT_FOUND' });
      }
      throw error;
    }
    remember(key, {
      ...entry,
      principal: resolution.principal,
      catalogVersion: resolution.catalogVersion,
      resolvedAt: clock().getTime(),
    });
    return resolution.principal;
  }

  return {
    async authenticate(authorization) {
      const token = BEARER_HEADER.exec(authorization)?.[1];
      if (!token) {
        const scheme = authorization.trim().split(/\s+/)[0] ?? '';
        throw new BearerTokenError(
          /^bearer$/i.test(scheme)
            ? 'The Authorization header carries no valid bearer token: send Authorization: Bearer <access token>'
            : `The Authorization scheme '${scheme.slice(0, 20)}' is not supported: send Authorization: Bearer <access token>`,
          { code: 'BEARER_TOKEN_MALFORMED', oauthError: 'invalid_request' },
        );
      }
      if (token.length > MAX_TOKEN_LENGTH) {
        throw new BearerTokenError(
          `The bearer token is ${token.length} characters long: at most ${MAX_TOKEN_LENGTH} are accepted`,
          { code: 'BEARER_TOKEN_MALFORMED', oauthError: 'invalid_request' },
        );
      }

      const key = createHash('sha256').update(token).digest('base64url');
      const cached = cache.get(key);
      if (!cached) {
        return (await resolve(token, key)).principal;
      }
      if (clock().getTime() >= cached.expiresAt + toleranceMs) {
        cache.delete(key);
        throw expiredError(cached.expiresAt);
      }
      return await refresh(key, cached);
    },
  };
}

/** Access tokens declare their type in `typ` (RFC 9068) or carry scopes, and ID tokens do neither. */
function isAccessToken(typ: string | undefined, payload: JWTPayload): boolean {
  const type = typ?.toLowerCase();
  if (type === 'at+jwt' || type === 'application/at+jwt') {
    return true;
  }
  return payload.scope !== undefined || payload.scp !== undefined;
}

function expiredError(expiresAt: number): BearerTokenError {
  return new BearerTokenError(
    `The bearer token expired at ${new Date(expiresAt).toISOString()}: request a new access token`,
    { code: 'BEARER_TOKEN_EXPIRED' },
  );
}

/** Turns jose's verification errors into messages that name the claim at fault and the fix. */
function translateVerifyError(
  error: unknown,
  context: { expectedIssuer: string; settings: BearerSettings },
): unknown {
  if (error instanceof BearerTokenError) {
    return error;
  }
  if (error instanceof errors.JWTExpired) {
    return expiredError(Number(error.payload.exp) * 1000);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason, payload } = error;
    if (reason === 'missing') {
      return new BearerTokenError(`The bearer token has no ${claim} claim, which is required`, {
        code: 'BEARER_TOKEN_INVALID',
        cause: error,
      });
    }
    if (claim === 'aud') {
      return new BearerTokenError(
        `The bearer token's audience ${JSON.stringify(payload.aud)} is not accepted: request a token for ${context.settings.audiences.join(' or ')}`,
        { code: 'BEARER_TOKEN_WRONG_AUDIENCE', cause: error },
      );
    }
    if (claim === 'iss') {
      return new BearerTokenError(
        `The bearer token was issued by ${JSON.stringify(payload.iss)}, not by ${context.expectedIssuer}: request a token from that issuer`,
        { code: 'BEARER_TOKEN_WRONG_ISSUER', cause: error },
      );
    }
    if (claim === 'nbf') {
      return new BearerTokenError(
        `The bearer token is not valid before ${new Date(Number(payload.nbf) * 1000).toISOString()}`,
        { code: 'BEARER_TOKEN_INVALID', cause: error },
      );
    }
    return new BearerTokenError(`The bearer token's ${claim} claim is invalid (${error.message})`, {
      code: 'BEARER_TOKEN_INVALID',
      cause: error,
    });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new BearerTokenError(
      `The bearer token's signature algorithm is not accepted: the portal accepts ${ACCEPTED_ALGORITHMS.join(', ')}`,
      { code: 'BEARER_TOKEN_INVALID', cause: error },
    );
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new BearerTokenError(
      "The bearer token is signed with a key that the identity provider does not publish: request a new token from the portal's identity provider",
      { code: 'BEARER_TOKEN_UNKNOWN_KEY', cause: error },
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new BearerTokenError(
      "The bearer token's signature is invalid: it was changed, or signed by another key",
      { code: 'BEARER_TOKEN_BAD_SIGNATURE', cause: error },
    );
  }
  if (error instanceof errors.JOSEError) {
    return new BearerTokenError(`The bearer token is not a valid JWT (${error.message})`, {
      code: 'BEARER_TOKEN_MALFORMED',
      cause: error,
    });
  }
  return error;
}
