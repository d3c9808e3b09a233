import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { CatalogDirectory } from '../catalog/index.js';
import type { AppConfig } from '../config/index.js';
import type { DatabaseHandle } from '../database/index.js';
import { ConfigError } from '../errors/index.js';
import type { Principal } from '../permissions/index.js';
import {
  createDevelopmentProvider,
  DEVELOPMENT_SCOPES,
  type DevelopmentProvider,
} from './development-provider.js';
import { createLoginTransactionCodec } from './login-transaction.js';
import {
  createRelyingParty,
  isLoopbackHttp,
  type RelyingParty,
  type RelyingPartySettings,
} from './relying-party.js';
import { CALLBACK_PATH, registerIdentityRoutes } from './routes.js';
import { loadOrCreateSecret } from './secrets.js';
import { createSessions, type SessionView } from './sessions.js';
import { resolveUserPrincipal } from './sign-in-resolution.js';

export { DEVELOPMENT_PROVIDER_PATH, type DevelopmentProvider } from './development-provider.js';
export { identityMigrations } from './migrations.js';
export { PRINCIPAL_REFRESH_MS, type SessionView } from './sessions.js';
export {
  type IdentityClaims,
  readIdentityClaims,
  resolveSignIn,
  resolveUserPrincipal,
  type SignInResolution,
} from './sign-in-resolution.js';
export type { IdentityTables } from './tables.js';

export interface Identity {
  /** Finds the signed-in user of a request from its session cookie. */
  authenticate(request: FastifyRequest): Promise<Principal | undefined>;
  /**
   * Builds the Principal of a User entity from the catalog's memberships, as
   * sign-in does without a groups claim; undefined when no such user exists.
   */
  resolvePrincipal(userRef: string): Promise<Principal | undefined>;
  /** Registers the sign-in routes and, when enabled, the development provider. */
  registerRoutes(app: FastifyInstance): Promise<void>;
  close(): Promise<void>;
  /** The in-process development provider, when `auth.development.enabled`. */
  readonly developmentProvider: DevelopmentProvider | undefined;
}

export interface CreateIdentityOptions {
  config: AppConfig;
  database: DatabaseHandle;
  logger: Logger;
  directory: CatalogDirectory;
  /** Source of the current time for sessions; tests pass a fixed clock. */
  clock?: () => Date;
}

/**
 * Composes sign-in: the OpenID Connect relying party (for `auth.oidc`, or for
 * the development provider when only that is enabled), database sessions and
 * sign-in resolution against the catalog. Throws a ConfigError for an issuer
 * that is plain http off the local machine, or a development provider under
 * NODE_ENV=production.
 */
export async function createIdentity(options: CreateIdentityOptions): Promise<Identity> {
  const { config, database, logger, directory } = options;
  const auth = config.auth;
  const baseUrl = config.app.baseUrl.replace(/\/+$/, '');

  const developmentProvider = auth.development?.enabled
    ? createDevelopmentProvider({ baseUrl, users: auth.development.users, logger })
    : undefined;

  const settings = relyingPartySettings(config, baseUrl, developmentProvider);
  let relyingParty: RelyingParty | undefined;
  if (settings) {
    relyingParty = createRelyingParty(settings, logger);
  } else {
    logger.warn(
      {},
      'sign-in is not configured: set auth.oidc, or auth.development.enabled for development',
    );
  }

  const secret = auth.session.secret ?? (await loadOrCreateSecret(database, 'session-secret'));
  const transactions = createLoginTransactionCodec(secret);
  const sessions = createSessions({
    database,
    directory,
    logger,
    maxAgeHours: auth.session.maxAgeHours,
    transitiveGroupOwnership: config.permission.transitiveGroupOwnership,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const views = new WeakMap<FastifyRequest, SessionView>();

  return {
    developmentProvider,

    async authenticate(request) {
      const view = await sessions.find(request.cookies?.[auth.session.cookieName]);
      if (!view) {
        return undefined;
      }
      views.set(request, view);
      return view.principal;
    },

    resolvePrincipal: (userRef) =>
      resolveUserPrincipal(userRef, {
        directory,
        transitiveGroupOwnership: config.permission.transitiveGroupOwnership,
      }),

    async registerRoutes(app) {
      await developmentProvider?.registerRoutes(app);
      await registerIdentityRoutes(app, {
        baseUrl,
        cookieName: auth.session.cookieName,
        maxAgeHours: auth.session.maxAgeHours,
        groupsClaim: auth.oidc?.groupsClaim ?? 'groups',
        transitiveGroupOwnership: config.permission.transitiveGroupOwnership,
        relyingParty,
        transactions,
        sessions,
        directory,
        logger,
        sessionOf: (request) => views.get(request),
      });
    },

    async close() {},
  };
}

function relyingPartySettings(
  config: AppConfig,
  baseUrl: string,
  developmentProvider: DevelopmentProvider | undefined,
): RelyingPartySettings | undefined {
  const redirectUri = `${baseUrl}${CALLBACK_PATH}`;
  const oidc = config.auth.oidc;
  if (oidc) {
    const issuer = new URL(oidc.issuer);
    if (issuer.protocol === 'http:' && !isLoopbackHttp(issuer)) {
      throw new ConfigError('auth.oidc.issuer must use https', [
        {
          path: 'auth.oidc.issuer',
          value: oidc.issuer,
          message:
            'plain http is accepted only for an issuer on this machine (localhost or 127.0.0.1): use the https address of the identity provider',
        },
      ]);
    }
    return {
      issuer: oidc.issuer,
      clientId: oidc.clientId,
      clientSecret: oidc.clientSecret,
      scopes: oidc.scopes,
      clockToleranceSeconds: oidc.clockToleranceSeconds,
      redirectUri,
    };
  }

  if (developmentProvider) {
    return {
      issuer: developmentProvider.issuer,
      clientId: developmentProvider.clientId,
      clientSecret: developmentProvider.clientSecret,
      scopes: DEVELOPMENT_SCOPES,
      clockToleranceSeconds: 30,
      redirectUri,
      // The provider's own session would sign the next user in silently, so
      // after a sign-out the form (and the choice of demo user) comes back.
      defaultPrompt: 'login',
    };
  }
  return undefined;
}
