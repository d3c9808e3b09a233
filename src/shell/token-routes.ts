import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { InputError, NotAllowedError, NotFoundError } from '../errors/index.js';
import type { JwtSigningKey } from './signing-key.js';
import {
  type IssuedToken,
  issueMicroFrontendToken,
  maySeeTokenNode,
  type TokenAuthorizer,
  type TokenNode,
} from './token.js';

/** Path of the public keys that verify micro-frontend JWTs. */
export const JWKS_PATH = '/.well-known/jwks.json';
/** Path where the shell requests a JWT for the micro frontend of one node. */
export const TOKEN_PATH = '/api/shell/token';

export interface TokenRouteOptions {
  key: JwtSigningKey;
  /** `iss` of every JWT: the portal's `app.baseUrl`. */
  issuer: string;
  lifetimeSeconds: number;
  permissions: TokenAuthorizer;
  /**
   * Finds the served node of a route, such as `tools/deploy/:name`, configured
   * or registered in the catalog; undefined when no node has an audience there.
   */
  findTokenNode(nodePath: string): TokenNode | undefined | Promise<TokenNode | undefined>;
}

const tokenRequestSchema = z
  .object({
    nodePath: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(2_000, 'must be at most 2,000 characters'),
  })
  .strict();

/**
 * Registers the JWKS and the token route. The token route takes the session
 * cookie, so the identity layer accepts its POST only from the portal's own
 * origin.
 */
export async function registerTokenRoutes(
  app: FastifyInstance,
  options: TokenRouteOptions,
): Promise<void> {
  const jwks = { keys: [options.key.publicJwk] };

  app.get(JWKS_PATH, { config: { access: { public: true } } }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=300').send(jwks),
  );

  app.post(
    TOKEN_PATH,
    { config: { access: { signedIn: true } } },
    async (request, reply): Promise<IssuedToken> => {
      const parsed = tokenRequestSchema.safeParse(request.body ?? {});
      if (!parsed.success) {
        throw new InputError(
          'The token request is invalid: send a JSON body such as {"nodePath": "tools/deploy"}',
          {
            details: parsed.error.issues.map((issue) => ({
              path: issue.path.join('.') || '(body)',
              message: issue.message,
            })),
          },
        );
      }

      const nodePath = trimSlashes(parsed.data.nodePath);
      const node = await options.findTokenNode(nodePath);
      if (!node) {
        throw new NotFoundError(
          `No shell node '${nodePath}' has an audience: give the node an audience in shell.nodes or its MicroFrontend entity, or request the token from the micro frontend of a node that has one`,
        );
      }

      const principal = request.principal!;
      if (!maySeeTokenNode(node, principal, options.permissions)) {
        throw new NotAllowedError(
          `${principal.userEntityRef} may not use shell node '${nodePath}', so no token for its audience is issued`,
        );
      }

      const issued = await issueMicroFrontendToken({
        node,
        principal,
        permissions: options.permissions,
        key: options.key,
        issuer: options.issuer,
        lifetimeSeconds: options.lifetimeSeconds,
      });
      request.log.info(
        { user: principal.userEntityRef, node: nodePath, audience: issued.audience },
        'micro-frontend token issued',
      );
      void reply.header('cache-control', 'no-store');
      return issued;
    },
  );
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}
