import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { createServer, type Server } from 'node:http';
import Provider, { type Account, errors, type KoaContextWithOIDC } from 'oidc-provider';
import { createMemoryAdapterFactory } from '../../src/identity/development-adapter.js';
import { HttpClient } from './http-client.js';

/**
 * An OpenID provider for tests of the portal's relying party: the real
 * oidc-provider on its own loopback port. It sends the claims of the
 * accounts exactly as given, so a test can shape them like Okta, Auth0,
 * Keycloak or Entra ID do. It signs in whichever account the test picks,
 * without a form, and lets a test rewrite its discovery document and token
 * responses to play an attacker.
 */

/** The client id under which the portal signs in. */
export const PORTAL_CLIENT_ID = 'portal';
/** A second client that fetches access tokens for the portal's API, as a CLI would. */
export const API_CLIENT_ID = 'api-client';
/** Where the API client's authorization responses go; the tests never request it. */
export const API_CLIENT_REDIRECT_URI = 'http://127.0.0.1:9/callback';

/** A resource server (API) known to the provider: its access tokens are JWTs with this audience. */
export interface TestResource {
  audience: string;
  /** Lifetime of its access tokens in seconds; 600 by default. */
  accessTokenSeconds?: number;
}

export interface TestProviderOptions {
  /** Claims of each account by account id, as the ID token and access tokens carry them. */
  accounts: Record<string, Record<string, unknown>>;
  /** The portal's callback URL, the only redirect URI of its client. */
  portalRedirectUri: string;
  /**
   * Claim names released by each scope besides `openid` (sub), `email` (email,
   * email_verified) and `profile`; every other claim of the accounts goes
   * with `profile`. Okta releases `groups` with a `groups` scope, for instance.
   */
  extraScopes?: Record<string, string[]>;
  /** Resource indicators (RFC 8707) the API client may request. */
  resources?: TestResource[];
}

/** A rewrite of a JSON response body of the provider. */
export type BodyHook = (
  body: Record<string, unknown>,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** The provider's current signing key. */
export interface TestSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
}

export interface TestProvider {
  /** `http://127.0.0.1:<port>`, the same after a key rotation. */
  readonly issuer: string;
  readonly portalClientSecret: string;
  readonly apiClientSecret: string;
  /** The account that the next authorization request signs in. */
  signInAs(accountId: string): void;
  /** Replaces each token response body of the provider, or stops doing so with undefined. */
  setTokenHook(hook: BodyHook | undefined): void;
  /** Replaces the discovery document, or stops doing so with undefined. */
  setDiscoveryHook(hook: BodyHook | undefined): void;
  /** Changes an account's claims for the next tokens. */
  setClaims(accountId: string, claims: Record<string, unknown>): void;
  signingKey(): TestSigningKey;
  /**
   * Replaces the signing key by a new one, as a provider's key rotation does,
   * on the same issuer and port. `keepPrevious` keeps publishing the old key.
   */
  rotateKeys(options?: { keepPrevious?: boolean }): Promise<void>;
  /**
   * Runs the authorization code flow of the API client for `resource` as the
   * given account and returns its tokens: the access token is a JWT for that
   * audience, and the ID token's audience is the API client.
   */
  fetchTokens(
    accountId: string,
    resource: string,
  ): Promise<{ accessToken: string; idToken: string }>;
  close(): Promise<void>;
}

function generateSigningKey(): TestSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicKey, kid: randomUUID() };
}

function privateJwk(key: TestSigningKey): Record<string, unknown> {
  return { ...key.privateKey.export({ format: 'jwk' }), kid: key.kid, alg: 'RS256', use: 'sig' };
}

/** Starts the provider on a free loopback port. */
export async function startTestProvider(options: TestProviderOptions): Promise<TestProvider> {
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const issuer = `http://127.0.0.1:${port}`;

  const accounts = new Map(Object.entries(options.accounts));
  const portalClientSecret = randomBytes(24).toString('base64url');
  const apiClientSecret = randomBytes(24).toString('base64url');
  const resources = new Map((options.resources ?? []).map((item) => [item.audience, item]));
  let nextAccount: string | undefined;
  let tokenHook: BodyHook | undefined;
  let discoveryHook: BodyHook | undefined;
  let keys: TestSigningKey[] = [generateSigningKey()];
  let provider = createProvider();
  let handler = provider.callback();

  function scopeClaims(): Record<string, string[]> {
    const extra = options.extraScopes ?? {};
    const assigned = new Set(['sub', 'email', 'email_verified', ...Object.values(extra).flat()]);
    const profile = new Set<string>();
    for (const claims of accounts.values()) {
      for (const name of Object.keys(claims)) {
        if (name === '_claim_names' || name === '_claim_sources') {
          for (const distributed of Object.keys(claims._claim_names as object)) {
            if (!assigned.has(distributed)) profile.add(distributed);
          }
        } else if (!assigned.has(name)) {
          profile.add(name);
        }
      }
    }
    return { openid: ['sub'], email: ['email', 'email_verified'], profile: [...profile], ...extra };
  }

  function createProvider(): Provider {
    const created = new Provider(issuer, {
      adapter: createMemoryAdapterFactory(),
      clients: [
        {
          client_id: PORTAL_CLIENT_ID,
          client_secret: portalClientSecret,
          redirect_uris: [options.portalRedirectUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        {
          client_id: API_CLIENT_ID,
          client_secret: apiClientSecret,
          redirect_uris: [API_CLIENT_REDIRECT_URI],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      async findAccount(_ctx, id): Promise<Account | undefined> {
        if (!accounts.has(id)) {
          return undefined;
        }
        return {
          accountId: id,
          claims: async () => ({ sub: id, ...accounts.get(id) }),
        };
      },
      claims: scopeClaims(),
      // Scope claims go into the ID token too, where the portal reads them.
      conformIdTokenClaims: false,
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      jwks: { keys: keys.map(privateJwk) },
      pkce: { required: () => true, methods: ['S256'] },
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => undefined,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
            const resource = resources.get(indicator);
            if (!resource) {
              throw new errors.InvalidTarget(`unknown resource ${indicator}`);
            }
            return {
              scope: 'api',
              audience: resource.audience,
              accessTokenFormat: 'jwt',
              accessTokenTTL: resource.accessTokenSeconds ?? 600,
              jwt: { sign: { alg: 'RS256' } },
            };
          },
        },
      },
      // Access tokens carry the account's identity claims, as the providers can be set up to do.
      async extraTokenClaims(_ctx, token) {
        if (token.kind !== 'AccessToken' || !token.accountId) {
          return undefined;
        }
        const {
          _claim_names: _names,
          _claim_sources: _sources,
          ...claims
        } = accounts.get(token.accountId) ?? {};
        return claims;
      },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      loadExistingGrant: async (ctx) => grantEverything(ctx),
      ttl: {
        AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
        AuthorizationCode: 60,
        IdToken: 600,
        Interaction: 600,
        Session: 600,
        Grant: 600,
      },
    });

    created.use(async (ctx, next) => {
      if (ctx.path.startsWith('/interaction/')) {
        await signInChosenAccount(created, ctx);
        return;
      }
      await next();
      if (ctx.oidc?.route === 'token' && tokenHook && isObject(ctx.body)) {
        ctx.body = await tokenHook(ctx.body);
      }
      if (ctx.oidc?.route === 'discovery' && discoveryHook && isObject(ctx.body)) {
        ctx.body = await discoveryHook(ctx.body);
      }
    });
    return created;
  }

  async function signInChosenAccount(current: Provider, ctx: KoaContextWithOIDC): Promise<void> {
    if (!nextAccount) {
      ctx.status = 500;
      ctx.body = 'The test chose no account: call signInAs first';
      return;
    }
    const details = await current.interactionDetails(ctx.req, ctx.res);
    const result =
      details.prompt.name === 'login'
        ? { login: { accountId: nextAccount } }
        : { consent: { grantId: details.grantId ?? '' } };
    const location = await current.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    });
    ctx.status = 303;
    ctx.redirect(location);
  }

  return {
    issuer,
    portalClientSecret,
    apiClientSecret,
    signInAs(accountId) {
      nextAccount = accountId;
    },
    setTokenHook(hook) {
      tokenHook = hook;
    },
    setDiscoveryHook(hook) {
      discoveryHook = hook;
    },
    setClaims(accountId, claims) {
      accounts.set(accountId, claims);
    },
    signingKey() {
      const key = keys[0];
      if (!key) {
        throw new Error('the test provider has no signing key');
      }
      return key;
    },
    async rotateKeys(rotation = {}) {
      keys = rotation.keepPrevious ? [generateSigningKey(), ...keys] : [generateSigningKey()];
      provider = createProvider();
      handler = provider.callback();
    },
    async fetchTokens(accountId, resource) {
      nextAccount = accountId;
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const authorize = new URL(`${issuer}/auth`);
      authorize.search = new URLSearchParams({
        client_id: API_CLIENT_ID,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: API_CLIENT_REDIRECT_URI,
        resource,
        state: randomBytes(8).toString('hex'),
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }).toString();

      const browser = new HttpClient(issuer);
      const { final } = await browser.follow(
        authorize.href,
        {},
        { stopBefore: (location) => location.startsWith(API_CLIENT_REDIRECT_URI) },
      );
      const code = final.location ? new URL(final.location).searchParams.get('code') : null;
      if (!code) {
        throw new Error(
          `The API client got no authorization code: ${final.status} ${final.location ?? final.body.slice(0, 300)}`,
        );
      }

      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${API_CLIENT_ID}:${apiClientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: API_CLIENT_REDIRECT_URI,
          code_verifier: verifier,
          resource,
        }),
      });
      const body = (await response.json()) as Record<string, unknown>;
      if (
        !response.ok ||
        typeof body.access_token !== 'string' ||
        typeof body.id_token !== 'string'
      ) {
        throw new Error(`The token request failed: ${response.status} ${JSON.stringify(body)}`);
      }
      return { accessToken: body.access_token, idToken: body.id_token };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Grants every scope and resource the client requests, so no consent prompt
 * appears: the tests' clients are the provider's only clients.
 */
async function grantEverything(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const clientId = oidc.client?.clientId;
  const accountId = oidc.session?.accountId;
  if (!clientId || !accountId) {
    return undefined;
  }

  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId);
  const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  const grant = existing ?? new oidc.provider.Grant({ accountId, clientId });
  const scope = oidc.params?.scope;
  if (typeof scope === 'string') {
    grant.addOIDCScope(scope);
  }
  const resource = oidc.params?.resource;
  for (const indicator of Array.isArray(resource) ? resource : [resource]) {
    if (typeof indicator === 'string') {
      grant.addResourceScope(indicator, 'api');
    }
  }
  await grant.save();
  return grant;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
