import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { AuthenticationError, NotAllowedError } from '../errors/index.js';
import type { PermissionService, Principal } from '../permissions/index.js';
import type { RouteAccess, RouteRecord } from './access.js';
import { errorBody, handleError } from './error-handler.js';

export interface HttpServerOptions {
  logger: Logger;
  permissions: PermissionService;
  /** Finds the signed-in user of a request, from its session cookie or bearer token. */
  authenticate(request: FastifyRequest): Promise<Principal | undefined>;
  /** Largest accepted request body, in bytes. */
  bodyLimit?: number;
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
  });
  const routes: RouteRecord[] = [];

  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);

  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    const methods = [route.method].flat();
    if (!access) {
      throw new Error(
        `Route ${methods.join(',')} ${route.url} declares no access: set config.access to { public: true }, { signedIn: true } or { permission: '…' }`,
      );
    }
    if ('permission' in access && !options.permissions.registry.getPermission(access.permission)) {
      throw new Error(
        `Route ${methods.join(',')} ${route.url} names unregistered permission ${access.permission}`,
      );
    }
    for (const method of methods) {
      routes.push({ method, url: route.url, access });
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const access: RouteAccess | undefined = request.routeOptions.config?.access;
    if (!access || 'public' in access) {
      return;
    }

    const principal = await options.authenticate(request);
    if (!principal) {
      throw new AuthenticationError('Sign-in required: no valid session or bearer token was sent');
    }
    request.principal = principal;

    if ('permission' in access) {
      const decision = options.permissions.authorize(principal, access.permission);
      if (decision.result === 'DENY') {
        throw new NotAllowedError(
          `Permission ${access.permission} is not granted to ${principal.userEntityRef}`,
        );
      }
      request.decision = decision;
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
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
