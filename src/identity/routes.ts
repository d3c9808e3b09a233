import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { CatalogDirectory } from '../catalog/index.js';
import { AuthenticationError, NotAllowedError } from '../errors/index.js';
import { describeCallbackFailure } from './callback-failure.js';
import {
  LOGIN_TRANSACTION_SECONDS,
  type LoginTransactionCodec,
  parseReturnTo,
} from './login-transaction.js';
import { escapeHtml, pageHtml, sendFailurePage, sendPage } from './pages.js';
import { IdentityProviderError, type RelyingParty } from './relying-party.js';
import type { Sessions, SessionView } from './sessions.js';
import { readIdentityClaims, resolveSignIn } from './sign-in-resolution.js';

export const CALLBACK_PATH = '/api/auth/callback';

export interface IdentityRouteOptions {
  /** `app.baseUrl` without a trailing slash. */
  baseUrl: string;
  cookieName: string;
  maxAgeHours: number;
  groupsClaim: string;
  transitiveGroupOwnership: boolean;
  /** Undefined when neither `auth.oidc` nor the development provider is configured. */
  relyingParty: RelyingParty | undefined;
  transactions: LoginTransactionCodec;
  sessions: Sessions;
  directory: CatalogDirectory;
  logger: Logger;
  /** The session found by `authenticate` for a request, if any. */
  sessionOf(request: FastifyRequest): SessionView | undefined;
}

/** Registers login, callback, logout and the profile route. */
export async function registerIdentityRoutes(
  app: FastifyInstance,
  options: IdentityRouteOptions,
): Promise<void> {
  const { logger: log, sessions } = options;
  const secure = options.baseUrl.startsWith('https:');
  const transactionCookie = `${options.cookieName}_login`;
  const baseOrigin = new URL(options.baseUrl).origin;

  app.get('/api/auth/login', { config: { access: { public: true } } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    if (!options.relyingParty) {
      return sendFailurePage(
        reply,
        503,
        'Sign-in is not configured',
        'This portal has no identity provider: set auth.oidc in the configuration, or auth.development.enabled for local development.',
      );
    }

    const returnTo = parseReturnTo(query.returnTo);
    if (returnTo === undefined) {
      return sendFailurePage(
        reply,
        400,
        'Sign-in request is invalid',
        `returnTo must be a path on this site such as /catalog, not '${String(query.returnTo)}'.`,
      );
    }
    if (query.prompt !== undefined && query.prompt !== 'login') {
      return sendFailurePage(
        reply,
        400,
        'Sign-in request is invalid',
        `prompt may only be 'login' (to ask the identity provider for the password again), not '${String(query.prompt)}'.`,
      );
    }

    let login: Awaited<ReturnType<RelyingParty['startLogin']>>;
    try {
      login = await options.relyingParty.startLogin(
        returnTo,
        query.prompt === 'login' ? { prompt: 'login' } : {},
      );
    } catch (error) {
      if (error instanceof IdentityProviderError) {
        return sendFailurePage(reply, 502, 'The identity provider is unavailable', error.message);
      }
      throw error;
    }

    reply.setCookie(transactionCookie, await options.transactions.seal(login.transaction), {
      path: CALLBACK_PATH,
      httpOnly: true,
      sameSite: 'lax',
      secure,
      maxAge: LOGIN_TRANSACTION_SECONDS,
    });
    return reply.header('cache-control', 'no-store').redirect(login.url.href, 302);
  });

  app.get(CALLBACK_PATH, { config: { access: { public: true } } }, async (request, reply) => {
    const transaction = await options.transactions.open(request.cookies[transactionCookie]);
    reply.clearCookie(transactionCookie, { path: CALLBACK_PATH });
    if (!options.relyingParty) {
      return sendFailurePage(
        reply,
        503,
        'Sign-in is not configured',
        'This portal has no identity provider: set auth.oidc in the configuration.',
      );
    }
    if (!transaction) {
      log.info({}, 'sign-in callback rejected: no valid login transaction cookie');
      return sendFailurePage(
        reply,
        400,
        'Sign-in failed',
        `No sign-in was started from this browser in the last ${LOGIN_TRANSACTION_SECONDS / 60} minutes, or it was already completed. Start again.`,
      );
    }

    const callbackUrl = new URL(`${options.baseUrl}${CALLBACK_PATH}`);
    callbackUrl.search = new URL(request.url, baseOrigin).search;
    let idTokenClaims: Record<string, unknown>;
    try {
      idTokenClaims = await options.relyingParty.finishLogin(callbackUrl, transaction);
    } catch (error) {
      const failure = describeCallbackFailure(error);
      log.warn({ status: failure.status, reason: failure.reason }, 'sign-in callback rejected');
      return sendFailurePage(reply, failure.status, 'Sign-in failed', failure.reason);
    }

    const claims = readIdentityClaims(idTokenClaims, options.groupsClaim);
    let resolution: Awaited<ReturnType<typeof resolveSignIn>>;
    try {
      resolution = await resolveSignIn(claims, {
        directory: options.directory,
        transitiveGroupOwnership: options.transitiveGroupOwnership,
      });
    } catch (error) {
      if (error instanceof AuthenticationError) {
        log.warn(
          { sub: claims.sub, email: claims.email, username: claims.preferredUsername },
          'sign-in rejected: no matching User entity',
        );
        return sendFailurePage(reply, 403, 'Sign-in failed', error.message);
      }
      throw error;
    }

    const { principal } = resolution;
    if (resolution.unknownGroups.length > 0) {
      log.warn(
        { user: principal.userEntityRef, groups: resolution.unknownGroups },
        'groups claim values match no Group entity; ignored',
      );
    }
    for (const cycle of resolution.cycles) {
      log.warn({ user: principal.userEntityRef, cycle }, 'group parent cycle; walk stopped');
    }

    // A new id at every sign-in: a session id planted before sign-in is worthless after it.
    await sessions.delete(request.cookies[options.cookieName]);
    await sessions.deleteExpired();
    const { sessionId } = await sessions.create(principal, claims);
    log.info(
      {
        user: principal.userEntityRef,
        matchedBy: resolution.matchedBy,
        groups: principal.groupEntityRefs.length,
      },
      'user signed in',
    );

    reply.setCookie(options.cookieName, sessionId, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure,
      maxAge: Math.floor(options.maxAgeHours * 3600),
    });
    return reply.header('cache-control', 'no-store').redirect(transaction.returnTo, 303);
  });

  app.get('/api/auth/logout', { config: { access: { public: true } } }, async (_request, reply) => {
    const body = `<h1>Sign out</h1>
<p>Sign out of ${escapeHtml(new URL(options.baseUrl).host)}?</p>
<form method="post" action="/api/auth/logout"><button type="submit">Sign out</button></form>`;
    return sendPage(reply, 200, pageHtml('Sign out', body));
  });

  app.post('/api/auth/logout', { config: { access: { public: true } } }, async (request, reply) => {
    const origin = requestOrigin(request);
    if (origin !== baseOrigin) {
      throw new NotAllowedError(
        `Sign-out rejected: the request comes from ${origin ? `origin ${origin}` : 'an unknown origin (no Origin or Referer header)'}, not from ${baseOrigin}`,
      );
    }

    // The route is public, so no session was looked up for it yet.
    const sessionId = request.cookies[options.cookieName];
    const view = await sessions.find(sessionId);
    await sessions.delete(sessionId);
    reply.clearCookie(options.cookieName, { path: '/', httpOnly: true, sameSite: 'lax', secure });
    log.info({ user: view?.principal.userEntityRef }, 'user signed out');

    if (isFormPost(request)) {
      return reply.redirect('/', 303);
    }
    return reply.status(204).send();
  });

  app.get('/api/auth/me', { config: { access: { signedIn: true } } }, async (request) => {
    const principal = request.principal!;
    const view = options.sessionOf(request);
    return {
      userEntityRef: principal.userEntityRef,
      displayName: view?.displayName ?? principal.userEntityRef,
      email: view?.email ?? null,
      groupEntityRefs: principal.groupEntityRefs,
      ownershipEntityRefs: principal.ownershipEntityRefs,
    };
  });
}

/** Reads the origin of a request from `Origin`, else from `Referer`; undefined when both are missing. */
function requestOrigin(request: FastifyRequest): string | undefined {
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

function isFormPost(request: FastifyRequest): boolean {
  const type = request.headers['content-type'] ?? '';
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/');
}
