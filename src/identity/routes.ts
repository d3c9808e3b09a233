import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { requestContext } from '../audit/index.js';
import { AuthenticationError, NotAllowedError } from '../errors/index.js';
import type { IdentityAudit } from './audit-events.js';
import { describeCallbackFailure } from './callback-failure.js';
import {
  LOGIN_TRANSACTION_SECONDS,
  type LoginTransactionCodec,
  parseReturnTo,
} from './login-transaction.js';
import { escapeHtml, pageHtml, sendFailurePage, sendPage } from './pages.js';
import type { PrincipalResolver, VersionedResolution } from './principal-resolver.js';
import { IdentityProviderError, type RelyingParty } from './relying-party.js';
import { requestOrigin } from './request-origin.js';
import type { Sessions, SessionView } from './sessions.js';

export const CALLBACK_PATH = '/api/auth/callback';

export interface IdentityRouteOptions {
  /** `app.baseUrl` without a trailing slash. */
  baseUrl: string;
  cookieName: string;
  maxAgeHours: number;
  /** Undefined when neither `auth.oidc` nor the development provider is configured. */
  relyingParty: RelyingParty | undefined;
  transactions: LoginTransactionCodec;
  sessions: Sessions;
  resolver: PrincipalResolver;
  logger: Logger;
  /** The session found by `authenticate` for a request, if any. */
  sessionOf(request: FastifyRequest): SessionView | undefined;
  /** Records sign-ins (succeeded and failed) and sign-outs. */
  audit: IdentityAudit;
}

/** Registers login, callback, logout and the profile route. */
export async function registerIdentityRoutes(
  app: FastifyInstance,
  options: IdentityRouteOptions,
): Promise<void> {
  const { logger: log, sessions, audit } = options;
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
    const signInFailed = (reason: string, details?: Record<string, unknown>) =>
      audit.record({
        action: 'auth.sign-in',
        outcome: 'failed',
        reason,
        request: requestContext(request),
        details,
      });
    if (!options.relyingParty) {
      await signInFailed('sign-in is not configured: no identity provider');
      return sendFailurePage(
        reply,
        503,
        'Sign-in is not configured',
        'This portal has no identity provider: set auth.oidc in the configuration.',
      );
    }
    if (!transaction) {
      log.info({}, 'sign-in callback rejected: no valid login transaction cookie');
      await signInFailed(
        'no valid login transaction cookie: the sign-in was not started from this browser, expired or was already completed',
      );
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
      await signInFailed(failure.reason, { status: failure.status });
      return sendFailurePage(reply, failure.status, 'Sign-in failed', failure.reason);
    }

    const claims = options.resolver.readClaims(idTokenClaims);
    let resolution: VersionedResolution;
    try {
      resolution = await options.resolver.resolve(claims);
    } catch (error) {
      if (error instanceof AuthenticationError) {
        log.warn(
          { sub: claims.sub, email: claims.email, username: claims.preferredUsername },
          'sign-in rejected: no matching User entity',
        );
        await signInFailed(error.message, {
          subject: claims.sub,
          email: claims.email,
          username: claims.preferredUsername,
        });
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
    if (claims.groupsDistributed) {
      log.warn(
        { user: principal.userEntityRef, groups: principal.groupEntityRefs.length },
        'groups overage: the token names where to fetch the groups instead of listing them, so only catalog memberships apply; provision the groups through SCIM',
      );
    }
    for (const cycle of resolution.cycles) {
      log.warn({ user: principal.userEntityRef, cycle }, 'group parent cycle; walk stopped');
    }

    // A new id at every sign-in: a session id planted before sign-in is worthless after it.
    await sessions.delete(request.cookies[options.cookieName]);
    await sessions.deleteExpired();
    const { sessionId } = await sessions.create(
      principal,
      claims,
      audit.within({
        actor: principal.userEntityRef,
        action: 'auth.sign-in',
        target: principal.userEntityRef,
        outcome: 'succeeded',
        request: requestContext(request),
        details: {
          matchedBy: resolution.matchedBy,
          groups: principal.groupEntityRefs,
          unknownGroups: resolution.unknownGroups,
        },
      }),
      resolution.catalogVersion,
    );
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
      const message = `Sign-out rejected: the request comes from ${origin ? `origin ${origin}` : 'an unknown origin (no Origin or Referer header)'}, not from ${baseOrigin}`;
      await audit.record({
        action: 'auth.sign-out',
        outcome: 'denied',
        reason: message,
        request: requestContext(request),
      });
      throw new NotAllowedError(message);
    }

    // The route is public, so no session was looked up for it yet.
    const sessionId = request.cookies[options.cookieName];
    const view = await sessions.find(sessionId);
    // Without a session there is nothing to end, so nothing is recorded.
    await sessions.delete(
      sessionId,
      view
        ? audit.within({
            actor: view.principal.userEntityRef,
            action: 'auth.sign-out',
            target: view.principal.userEntityRef,
            outcome: 'succeeded',
            request: requestContext(request),
          })
        : undefined,
    );
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

function isFormPost(request: FastifyRequest): boolean {
  const type = request.headers['content-type'] ?? '';
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/');
}
