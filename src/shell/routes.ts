import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ShellNodeConfig } from '../config/index.js';
import { errorBody } from '../http/index.js';
import type { Principal } from '../permissions/index.js';
import { addFrameSettings } from './framing.js';
import { buildGlobalContext, type GlobalContextAuthorizer } from './global-context.js';
import type { MicroFrontendRegistry } from './micro-frontend-registry.js';
import {
  buildUserNavigation,
  type NavigationAuthorizer,
  profileFromPrincipal,
  type ShellConfigResponse,
} from './navigation.js';
import {
  LUIGI_ASSETS_PATH,
  MICRO_FRONTEND_POLICY,
  MICRO_FRONTENDS_PATH,
  renderShellPage,
  SHELL_ASSETS_PATH,
  shellPagePolicy,
} from './pages.js';
import { sendStaticFile } from './static-files.js';
import { registerTokenRoutes, type TokenRouteOptions } from './token-routes.js';

export interface ShellRouteOptions {
  title: string;
  /** Validated nodes, without those that lead nowhere. */
  nodes: readonly ShellNodeConfig[];
  permissions: NavigationAuthorizer & GlobalContextAuthorizer;
  authenticate(request: FastifyRequest): Promise<Principal | undefined>;
  /** Folder of the built browser bundles (`dist/web`). */
  webRoot: string;
  /** Folder of the installed `@luigi-project/core` package. */
  luigiRoot: string;
  luigiVersion: string;
  /** Origins of absolute view URLs, allowed as frame sources. */
  frameOrigins: readonly string[];
  /** Origins of absolute `badgeCounter.url`s, which the shell script may fetch from. */
  connectOrigins?: readonly string[] | undefined;
  /** Adds the micro frontends registered in the catalog to `nodes`; only `nodes` when undefined. */
  registrations?: MicroFrontendRegistry | undefined;
  /** The JWKS and token routes for micro frontends; left out when undefined. */
  tokens?: TokenRouteOptions | undefined;
}

/**
 * Path prefixes that never fall back to the shell page, so an unknown API or
 * asset URL gets a 404 instead of HTML.
 */
const RESERVED_PREFIXES = ['/api', '/assets', '/micro-frontends', '/dev-idp'];

/**
 * Registers the shell page (at `/` and, for path routing, at every other GET
 * path that accepts HTML), the per-user navigation and the static files of
 * Luigi core, the shell bundle and the built-in micro frontends.
 */
export async function registerShellRoutes(
  app: FastifyInstance,
  options: ShellRouteOptions,
): Promise<void> {
  const page = renderShellPage({ title: options.title, luigiVersion: options.luigiVersion });
  const pagePolicy = shellPagePolicy(options.frameOrigins, options.connectOrigins);

  const sendShellPage = async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = await options.authenticate(request);
    if (!principal) {
      return reply.redirect(`/api/auth/login?returnTo=${encodeURIComponent(request.url)}`, 302);
    }
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', pagePolicy)
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'same-origin')
      .header('x-content-type-options', 'nosniff')
      .send(page);
  };

  app.get('/', { config: { access: { public: true } } }, sendShellPage);

  app.get('/*', { config: { access: { public: true } } }, async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const reserved = RESERVED_PREFIXES.some(
      (prefix) => path === prefix || path.startsWith(`${prefix}/`),
    );
    const acceptsHtml = (request.headers.accept ?? '').includes('text/html');
    if (reserved || !acceptsHtml) {
      return reply.status(404).send(errorBody('NOT_FOUND', `No route GET ${path}`, []));
    }
    return sendShellPage(request, reply);
  });

  app.get(
    '/api/shell/config',
    { config: { access: { signedIn: true } } },
    async (request): Promise<ShellConfigResponse> => {
      const principal = request.principal!;
      const nodes = options.registrations
        ? (await options.registrations.current()).nodes
        : options.nodes;
      return {
        title: options.title,
        nodes: addFrameSettings(buildUserNavigation(nodes, principal, options.permissions), nodes),
        profile: profileFromPrincipal(principal),
        globalContext: buildGlobalContext(principal, options.permissions),
      };
    },
  );

  if (options.tokens) {
    await registerTokenRoutes(app, options.tokens);
  }

  app.get(`${LUIGI_ASSETS_PATH}*`, { config: { access: { public: true } } }, (request, reply) =>
    sendStaticFile(reply, {
      root: options.luigiRoot,
      relativePath: wildcardOf(request),
      requestPath: pathOf(request),
      // The shell page adds the package version to these URLs, so an upgrade changes them.
      cacheControl: 'public, max-age=86400',
    }),
  );

  app.get(`${SHELL_ASSETS_PATH}*`, { config: { access: { public: true } } }, (request, reply) =>
    sendStaticFile(reply, {
      root: `${options.webRoot}/shell`,
      relativePath: wildcardOf(request),
      requestPath: pathOf(request),
      cacheControl: 'no-cache',
    }),
  );

  app.get(`${MICRO_FRONTENDS_PATH}*`, { config: { access: { public: true } } }, (request, reply) =>
    sendStaticFile(reply, {
      root: `${options.webRoot}/micro-frontends`,
      relativePath: wildcardOf(request),
      requestPath: pathOf(request),
      cacheControl: 'no-cache',
      htmlHeaders: {
        'content-security-policy': MICRO_FRONTEND_POLICY,
        'referrer-policy': 'same-origin',
      },
    }),
  );
}

function wildcardOf(request: FastifyRequest): string {
  return (request.params as { '*'?: string })['*'] ?? '';
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '/';
}
