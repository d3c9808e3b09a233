import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ShellNodeConfig } from '../config/index.js';
import { ConfigError, type ErrorDetail } from '../errors/index.js';
import type { Decision, PermissionRegistry, Principal } from '../permissions/index.js';
import type { JwtSigningKey } from './signing-key.js';

/** Maximum life of a micro-frontend JWT in seconds, applied over any configured lifetime. */
export const MAX_TOKEN_LIFETIME_SECONDS = 300;

/** A navigation node whose micro frontend may request JWTs for its backend. */
export interface TokenNode {
  /** The node's route with its dynamic segments as configured, such as `tools/deploy/:name`. */
  nodePath: string;
  audience: string;
  /** Permissions that the backend reads from the `permissions` claim. */
  audiencePermissions: string[];
  /** Requirements to see the node and each ancestor, from the root down: a permission, or `public`. */
  guards: Array<{ public: true } | { permission: string }>;
}

/** The part of the permission service that issuing a JWT needs. */
export interface TokenAuthorizer {
  authorize(principal: Principal, permission: string): Decision;
}

/** Claims of a micro-frontend JWT besides `iss`, `aud`, `sub`, `iat`, `exp` and `jti`. */
export interface MicroFrontendClaims {
  /** The user's ownership references: the user entity and every group they belong to. */
  ent: string[];
  /** The node's `audiencePermissions` that the user is granted without conditions, sorted. */
  permissions: string[];
}

export interface IssuedToken {
  token: string;
  audience: string;
  /** Expiry as an ISO 8601 time. */
  expiresAt: string;
}

/**
 * Collects the validated nodes that declare an `audience`, keyed by route.
 * Throws ConfigError listing every node whose `audiencePermissions` names an
 * unregistered permission or that lists permissions without an audience.
 */
export function indexTokenNodes(
  nodes: readonly ShellNodeConfig[],
  registry: PermissionRegistry,
): Map<string, TokenNode> {
  const index = new Map<string, TokenNode>();
  const faults: ErrorDetail[] = [];

  const visit = (
    siblings: readonly ShellNodeConfig[],
    parent: { route: string; field: string; guards: TokenNode['guards'] },
  ) => {
    siblings.forEach((node, position) => {
      const route = parent.route ? `${parent.route}/${node.pathSegment}` : node.pathSegment;
      const field = `${parent.field}[${position}]`;
      const guards: TokenNode['guards'] = [...parent.guards];
      if (node.public === true) {
        guards.push({ public: true });
      } else if (node.permission !== undefined) {
        guards.push({ permission: node.permission });
      }

      const listed = node.audiencePermissions ?? [];
      if (node.audience === undefined && listed.length > 0) {
        faults.push({
          path: `${field}.audiencePermissions`,
          message: `node '${route}' lists audiencePermissions but has no audience: add the audience of its backend, such as https://deploy.example.com`,
        });
      }
      listed.forEach((name, item) => {
        if (registry.getPermission(name) === undefined) {
          faults.push({
            path: `${field}.audiencePermissions[${item}]`,
            value: name,
            message: `node '${route}' lists '${name}', which is not a registered permission: correct the name or register the permission`,
          });
        }
      });

      if (node.audience !== undefined) {
        index.set(route, {
          nodePath: route,
          audience: node.audience,
          audiencePermissions: [...new Set(listed)],
          guards,
        });
      }
      visit(node.children ?? [], { route, field: `${field}.children`, guards });
    });
  };
  visit(nodes, { route: '', field: 'shell.nodes', guards: [] });

  if (faults.length > 0) {
    throw new ConfigError(
      `JWT audiences in shell.nodes are invalid (${faults.length} faults)`,
      faults,
    );
  }
  return index;
}

/**
 * Returns true when the user may see the node: every guard from the root
 * down is public or a permission that is not denied. CONDITIONAL counts as
 * held, as in the navigation, because the backend applies the conditions.
 */
export function maySeeTokenNode(
  node: TokenNode,
  principal: Principal,
  permissions: TokenAuthorizer,
): boolean {
  return node.guards.every(
    (guard) =>
      'public' in guard || permissions.authorize(principal, guard.permission).result !== 'DENY',
  );
}

/**
 * Signs a JWT for the node's backend: `aud` is the node's audience, `sub` the
 * user entity, `ent` the ownership references and `permissions` those of the
 * node's list that the user is granted without conditions. A permission whose
 * decision is CONDITIONAL depends on the resource, so for it the backend
 * requests a decision from the portal's authorize API instead.
 */
export async function issueMicroFrontendToken(options: {
  node: TokenNode;
  principal: Principal;
  permissions: TokenAuthorizer;
  key: JwtSigningKey;
  issuer: string;
  lifetimeSeconds: number;
  now?: Date;
}): Promise<IssuedToken> {
  const { node, principal, key } = options;
  const lifetime = Math.min(options.lifetimeSeconds, MAX_TOKEN_LIFETIME_SECONDS);
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const expiresAt = issuedAt + lifetime;

  const claims: MicroFrontendClaims = {
    ent: [...principal.ownershipEntityRefs].sort(),
    permissions: node.audiencePermissions
      .filter((name) => options.permissions.authorize(principal, name).result === 'ALLOW')
      .sort(),
  };
  const token = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.keyId, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(node.audience)
    .setSubject(principal.userEntityRef)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(randomUUID())
    .sign(key.privateKey);

  return {
    token,
    audience: node.audience,
    expiresAt: new Date(expiresAt * 1000).toISOString(),
  };
}
