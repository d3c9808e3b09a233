import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import Provider, { type Account, type ErrorOut, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { DevelopmentUserConfig } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import type { IdentityAudit } from './audit-events.js';
import { createMemoryAdapterFactory } from './development-adapter.js';
import { registerDevelopmentLogin } from './development-login.js';
import { escapeHtml, pageHtml } from './pages.js';

/** Mount path of the development provider on the portal's own server. */
export const DEVELOPMENT_PROVIDER_PATH = '/dev-idp';

/** Client id under which the portal signs in at its own development provider. */
export const DEVELOPMENT_CLIENT_ID = 'backstage-luigi-portal';

/** Scopes the portal requests from the development provider. */
export const DEVELOPMENT_SCOPES = ['openid', 'profile', 'email'];

export interface DevelopmentProvider {
  /** `${app.baseUrl}/dev-idp`. */
  readonly issuer: string;
  readonly clientId: string;
  /** Generated at every start; the provider keeps everything in memory. */
  readonly clientSecret: string;
  /** The oidc-provider instance, for listeners on its events. */
  readonly provider: Provider;
  registerRoutes(app: FastifyInstance): Promise<void>;
}

export interface DevelopmentProviderOptions {
  /** `app.baseUrl` without a trailing slash. */
  baseUrl: string;
  users: readonly DevelopmentUserConfig[];
  logger: Logger;
  /** Environment read for NODE_ENV; `process.env` by default. */
  env?: Record<string, string | undefined>;
  /** Records rejected passwords of the login form. */
  audit?: IdentityAudit;
}

/**
 * Creates the in-process OpenID provider for development and tests: the users
 * of `auth.development.users`, a plain login form, one client (the portal),
 * no consent screen, keys and storage in memory. Throws a ConfigError under
 * NODE_ENV=production.
 */
export function createDevelopmentProvider(
  options: DevelopmentProviderOptions,
): DevelopmentProvider {
  const env = options.env ?? process.env;
  if (env.NODE_ENV === 'production') {
    throw new ConfigError('The development identity provider cannot run with NODE_ENV=production', [
      {
        path: 'auth.development.enabled',
        value: true,
        message:
          'set auth.development.enabled to false and configure auth.oidc with your identity provider (issuer, clientId, clientSecret)',
      },
    ]);
  }

  const issuer = `${options.baseUrl}${DEVELOPMENT_PROVIDER_PATH}`;
  const clientSecret = randomBytes(32).toString('base64url');
  const log = options.logger;
  const usersByName = new Map(options.users.map((user) => [user.username, user]));

  const provider = new Provider(issuer, {
    adapter: createMemoryAdapterFactory(),
    clients: [
      {
        client_id: DEVELOPMENT_CLIENT_ID,
        client_secret: clientSecret,
        redirect_uris: [`${options.baseUrl}/api/auth/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx, id): Promise<Account | undefined> {
      const user = usersByName.get(id);
      if (!user) {
        return undefined;
      }
      return {
        accountId: user.username,
        claims: async () => ({
          sub: user.username,
          name: user.name,
          preferred_username: user.username,
          email: user.email,
          email_verified: true,
          groups: [...user.groups],
        }),
      };
    },
    // `groups` belongs to the profile scope, so the portal's default scopes include it.
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username', 'groups'],
    },
    // Put the scope claims in the ID token too, which is where the portal reads them.
    conformIdTokenClaims: false,
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [generateSigningKey()] },
    pkce: { required: () => true, methods: ['S256'] },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: false },
    },
    interactions: {
      url: (_ctx, interaction) => `${DEVELOPMENT_PROVIDER_PATH}/interaction/${interaction.uid}`,
    },
    loadExistingGrant: async (ctx) => loadPortalGrant(ctx),
    renderError: async (ctx, out) => renderProviderError(ctx, out),
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 86_400,
      Grant: 86_400,
    },
  });
  // Behind a TLS-terminating proxy the provider must trust X-Forwarded-Proto to build https URLs.
  provider.proxy = issuer.startsWith('https:');

  provider.on('server_error', (_ctx: unknown, error: Error) => {
    log.error({ err: error }, 'development identity provider failed');
  });
  for (const event of ['authorization.error', 'grant.error']) {
    provider.on(event, (_ctx: unknown, error: ErrorOut) => {
      log.info(
        { event, error: error.error, description: error.error_description },
        'development identity provider rejected a request',
      );
    });
  }

  return {
    issuer,
    clientId: DEVELOPMENT_CLIENT_ID,
    clientSecret,
    provider,
    async registerRoutes(app) {
      await registerDevelopmentLogin(app, {
        provider,
        users: options.users,
        logger: log,
        ...(options.audit ? { audit: options.audit } : {}),
      });
      await mountProvider(app, provider);
      log.info(
        { issuer, users: options.users.length },
        'development identity provider enabled; do not use it in production',
      );
    },
  };
}

/**
 * Hands every other request under the mount path to oidc-provider's own Koa
 * app. The scope drops Fastify's body parsers, so the provider reads the raw
 * request body itself.
 */
async function mountProvider(app: FastifyInstance, provider: Provider): Promise<void> {
  const handle = provider.callback();

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));

    scope.route({
      // OPTIONS goes to oidc-provider too, which handles CORS preflight requests itself.
      method: ['GET', 'POST', 'OPTIONS'],
      url: `${DEVELOPMENT_PROVIDER_PATH}/*`,
      config: { access: { public: true } },
      handler: (request, reply) => {
        reply.hijack();
        // oidc-provider finds its mount path by comparing `originalUrl` with `url`.
        const raw = request.raw as IncomingMessage & { originalUrl?: string };
        const url = raw.url ?? '/';
        raw.originalUrl = url;
        raw.url = url.slice(DEVELOPMENT_PROVIDER_PATH.length) || '/';
        handle(raw, reply.raw);
      },
    });
  });
}

/**
 * Grants the portal's client every scope it requests, so no consent screen
 * appears: the portal is the provider's only client.
 */
async function loadPortalGrant(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const clientId = oidc.client?.clientId;
  const accountId = oidc.session?.accountId;
  if (clientId !== DEVELOPMENT_CLIENT_ID || !accountId) {
    return undefined;
  }

  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId);
  const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  const grant = existing ?? new oidc.provider.Grant({ accountId, clientId });
  const scope = oidc.params?.scope;
  if (typeof scope === 'string') {
    grant.addOIDCScope(scope);
  }
  await grant.save();
  return grant;
}

async function renderProviderError(ctx: KoaContextWithOIDC, out: ErrorOut): Promise<void> {
  const description = out.error_description ? ` (${out.error_description})` : '';
  ctx.type = 'html';
  ctx.body = pageHtml(
    'Development identity provider error',
    `<h1>Development identity provider error</h1>
<p class="error">${escapeHtml(out.error)}${escapeHtml(description)}</p>
<p><a href="/api/auth/login">Start the sign-in again</a></p>`,
  );
}

/** Generates an RS256 signing key as a private JWK, kept only in this process. */
function generateSigningKey(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}
