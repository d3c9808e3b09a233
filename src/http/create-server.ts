import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { AuthenticationError, NotAllowedError } from '../errors/index.js';
import type { PermissionService, Principal } from '../permissions/index.js';
import { findUndeclaredRoutes, isRouteAccess, type RouteRecord } from './access.js';
import { errorBody, frameworkErrorResponse, handleError } from './error-handler.js';

/**
 * Maximum length of a path parameter, in characters. Entity kinds,
 * namespaces and names are at most 63 characters each in Backstage's format,
 * so 512 leaves room for percent-encoding while keeping parameters bounded.
 */
const MAX_PATH_PARAMETER_LENGTH = 512;

export interface HttpServerOptions {
  logger: Logger;
  permissions: PermissionService;
  /** Finds the signed-in user of a request from its session cookie. */
  authenticate(request: FastifyRequest): Promise<Principal | undefined>;
  /** Largest accepted request body, in bytes. */
  bodyLimit?: number;
  /**
   * The origin users should use (`app.baseUrl`). A page request that arrives
   * under another host name, such as 127.0.0.1 for localhost, is redirected
   * there, because sign-in cookies belong to one host name.
   */
  canonicalOrigin?: string;
  /**
   * Called for each request to a non-public route that is rejected before its
   * handler runs, so it can be recorded. The response waits for it. An error
   * it throws is logged, and the rejection is sent all the same.
   */
  onAccessDenied?(request: FastifyRequest, denial: AccessDenial): Promise<void>;
}

/** A request to a non-public route that the access check rejected. */
export interface AccessDenial {
  /** 401: no valid session. 403: the route's permission is denied. */
  status: 401 | 403;
  /** The route's permission, for a 403. */
  permission?: string;
  /** The message of the error response. */
  reason: string;
}

export interface HttpServer {
  app: FastifyInstance;
  /** Every route registered so far with what it requires. */
  routes: RouteRecord[];
}

/**
 * Creates the Fastify app with the portal's conventions: JSON errors, one
 * access declaration per route (enforced at registration), authentication of
 * every non-public route and a pre-check of its permission.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    genReqId: (request) => {
      const header = request.headers['x-request-id'];
      return typeof header === 'string' && /^[\w.-]{1,128}$/.test(header) ? header : randomUUID();
    },
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      const { status, body } = frameworkErrorResponse(error, request.url);
      // The reply's generic type here knows no routes, so it takes no status code.
      void (reply as unknown as FastifyReply).status(status).send(body);
    },
  });
  const routes: RouteRecord[] = [];

  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);

  // Every route enters the inventory, declared or not, so that the check at
  // ready time and the route inventory test see the same list.
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    const methods = [route.method].flat();
    if (
      isRouteAccess(access) &&
      'permission' in access &&
      !options.permissions.registry.getPermission(access.permission)
    ) {
      throw new Error(
        `Route ${methods.join(',')} ${route.url} names unregistered permission ${access.permission}`,
      );
    }
    for (const method of methods) {
      routes.push({ method, url: route.url, access });
    }
  });

  app.addHook('onReady', async () => {
    const undeclared = findUndeclaredRoutes(routes);
    if (undeclared.length > 0) {
      const list = undeclared.map((route) => `${route.method} ${route.url}`).join(', ');
      throw new Error(
        `Routes declare no access: ${list}. Set config.access to { public: true }, { signedIn: true } or { permission: '…' }`,
      );
    }
  });

  const reportDenial = async (request: FastifyRequest, denial: AccessDenial): Promise<void> => {
    try {
      await options.onAccessDenied?.(request, denial);
    } catch (error) {
      request.log.error({ err: error, status: denial.status }, 'recording a denied request failed');
    }
  };

  const canonical = options.canonicalOrigin ? new URL(options.canonicalOrigin) : undefined;
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (canonical && isPageRequest(request) && request.headers.host !== canonical.host) {
      return reply.redirect(`${canonical.origin}${request.url}`, 302);
    }
    if (request.is404) {
      return;
    }
    const access: unknown = request.routeOptions.config?.access;
    if (!isRouteAccess(access)) {
      // Unreachable once onReady has passed; kept so that no route is ever served without a declaration.
      throw new Error(`Route ${request.routeOptions.url} declares no access and is not served`);
    }
    // A SCIM route checks its provisioning token in its own hook instead of a session.
    if ('public' in access || 'scimToken' in access) {
      return;
    }

    let principal: Principal | undefined;
    try {
      principal = await options.authenticate(request);
    } catch (error) {
      await rejectCredentials(request, reply, error, reportDenial);
      throw error;
    }
    if (!principal) {
      const error = new AuthenticationError(
        'Sign-in required: the request carries no valid session; sign in at /api/auth/login',
      );
      await reportDenial(request, { status: 401, reason: error.message });
      throw error;
    }
    request.principal = principal;

    if ('permission' in access) {
      const decision = options.permissions.authorize(principal, access.permission);
      if (decision.result === 'DENY') {
        const error = new NotAllowedError(
          `Permission ${access.permission} is not granted to ${principal.userEntityRef}`,
        );
        await reportDenial(request, {
          status: 403,
          permission: access.permission,
          reason: error.message,
        });
        throw error;
      }
      request.decision = decision;
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: redactUrl(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        user: request.principal?.userEntityRef,
      },
      'request completed',
    );
  });

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(errorBody('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`, []));
  });

  return { app, routes };
}

/**
 * Handles a credential that `authenticate` rejected by throwing: a bearer
 * token (401, with the error's `WWW-Authenticate` challenge) or a session
 * request from another origin (403). Both are reported as denials.
 */
async function rejectCredentials(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  reportDenial: (request: FastifyRequest, denial: AccessDenial) => Promise<void>,
): Promise<void> {
  const challenge =
    typeof error === 'object' && error !== null
      ? (error as { wwwAuthenticate?: unknown }).wwwAuthenticate
      : undefined;
  if (typeof challenge === 'string') {
    reply.header('www-authenticate', challenge);
  }
  if (error instanceof AuthenticationError) {
    await reportDenial(request, { status: 401, reason: error.message });
  } else if (error instanceof NotAllowedError) {
    await reportDenial(request, { status: 403, reason: error.message });
  }
}

/** A browser navigation: a GET or HEAD that accepts HTML. */
function isPageRequest(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return (request.method === 'GET' || request.method === 'HEAD') && accept.includes('text/html');
}

/** Query parameters whose values are credentials or one-time codes, so logs never hold them. */
const SECRET_PARAMETERS =
  /^(code|state|nonce|token|id_token|access_token|refresh_token|client_secret|password|session_state)$/i;

/** Replaces the values of credential-like query parameters in a request URL with `[redacted]`. */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) {
    return url;
  }
  const parts = url
    .slice(queryStart + 1)
    .split('&')
    .map((part) => {
      const name = decodeURIComponentSafely(part.split('=')[0] ?? '');
      return SECRET_PARAMETERS.test(name) ? `${part.split('=')[0]}=[redacted]` : part;
    });
  return `${url.slice(0, queryStart)}?${parts.join('&')}`;
}

function decodeURIComponentSafely(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
