import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AuditTrail } from '../audit/index.js';
import {
  type CatalogDirectory,
  findGroupRefsByAnnotation,
  readCatalogVersion,
} from '../catalog/index.js';
import type { AppConfig } from '../config/index.js';
import type { DatabaseHandle } from '../database/index.js';
import { ConfigError, NotAllowedError } from '../errors/index.js';
import type { Principal } from '../permissions/index.js';
import { createIdentityAudit } from './audit-events.js';
import {
  type BearerAuthenticator,
  BearerTokenError,
  createBearerAuthenticator,
} from './bearer-tokens.js';
import {
  createDevelopmentProvider,
  DEVELOPMENT_SCOPES,
  type DevelopmentProvider,
} from './development-provider.js';
import { createGroupMapper } from './group-mapping.js';
import { createLoginTransactionCodec } from './login-transaction.js';
import { createPrincipalResolver } from './principal-resolver.js';
import { effectiveGroupSettings } from './provider-profiles.js';
import {
  createRelyingParty,
  isLoopbackHttp,
  type RelyingParty,
  type RelyingPartySettings,
} from './relying-party.js';
import { changesState, foreignSource } from './request-origin.js';
import { CALLBACK_PATH, registerIdentityRoutes } from './routes.js';
import { loadOrCreateSecret } from './secrets.js';
import { createSessions, type SessionView } from './sessions.js';
import { resolveUserPrincipal } from './sign-in-resolution.js';

export { BearerTokenError } from './bearer-tokens.js';
export { DEVELOPMENT_PROVIDER_PATH, type DevelopmentProvider } from './development-provider.js';
export { identityMigrations } from './migrations.js';
export {
  ENTRA_GROUP_ID_ANNOTATION,
  OKTA_GROUP_ID_ANNOTATION,
  PROVIDER_PROFILES,
} from './provider-profiles.js';
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
  /**
   * Finds the user of a request: from its `Authorization: Bearer` access
   * token when it has that header, else from its session cookie. Throws a
   * BearerTokenError (401) for a rejected token, and a NotAllowedError (403)
   * for a session request that changes state from another origin.
   */
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
  /** Receives sign-in and sign-out records; without it nothing is recorded. */
  audit?: AuditTrail;
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
  const audit = createIdentityAudit(options.audit, database.db, logger);

  const developmentProvider = auth.development?.enabled
    ? createDevelopmentProvider({ baseUrl, users: auth.development.users, logger, audit })
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

  const groupSettings = effectiveGroupSettings(auth.oidc);
  const mapGroups = createGroupMapper(groupSettings.groupMapping, {
    findGroupRef: (ref) => directory.findGroupRef(ref),
    findGroupRefsByAnnotation: (annotation, values) =>
      findGroupRefsByAnnotation(database, annotation, values),
  });
  const resolver = createPrincipalResolver({
    directory,
    transitiveGroupOwnership: config.permission.transitiveGroupOwnership,
    groupsClaim: groupSettings.groupsClaim,
    mapGroups,
    readCatalogVersion: () => readCatalogVersion(database),
  });

  const secret = auth.session.secret ?? (await loadOrCreateSecret(database, 'session-secret'));
  const transactions = createLoginTransactionCodec(secret);
  const sessions = createSessions({
    database,
    directory,
    logger,
    maxAgeHours: auth.session.maxAgeHours,
    idleTimeoutMinutes: auth.session.idleTimeoutMinutes,
    transitiveGroupOwnership: config.permission.transitiveGroupOwnership,
    mapGroups,
    readCatalogVersion: resolver.catalogVersion,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const views = new WeakMap<FastifyRequest, SessionView>();

  const bearerSettings = auth.oidc?.bearer;
  const bearer: BearerAuthenticator | undefined =
    bearerSettings && relyingParty
      ? createBearerAuthenticator({
          settings: {
            audiences: bearerSettings.audiences,
            issuer: bearerSettings.issuer,
            clockToleranceSeconds: auth.oidc?.clockToleranceSeconds ?? 30,
          },
          provider: relyingParty,
          resolver,
          logger,
          ...(options.clock ? { clock: options.clock } : {}),
        })
      : undefined;
  const baseOrigin = new URL(baseUrl).origin;

  return {
    developmentProvider,

    async authenticate(request) {
      const authorization = request.headers.authorization;
      if (authorization !== undefined) {
        if (!bearer) {
          throw new BearerTokenError(
            'This portal does not accept bearer tokens (auth.oidc.bearer is not configured): sign in with a browser session instead',
            { code: 'BEARER_TOKENS_DISABLED', oauthError: 'invalid_request' },
          );
        }
        return await bearer.authenticate(authorization);
      }

      const view = await sessions.find(request.cookies?.[auth.session.cookieName]);
      if (!view) {
        return undefined;
      }
      // A browser may send the session cookie with a request that another
      // site started, so a request that changes state must come from the
      // portal's own pages (CSRF).
      if (changesState(request)) {
        const source = foreignSource(request, baseOrigin);
        if (source) {
          throw new NotAllowedError(
            `Request rejected: a ${request.method} with a session cookie must come from ${baseOrigin}, but ${source}. Send it from the portal's pages, or call the API with Authorization: Bearer instead of a cookie`,
          );
        }
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
        relyingParty,
        transactions,
        sessions,
        resolver,
        logger,
        sessionOf: (request) => views.get(request),
        audit,
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
