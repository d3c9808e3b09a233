import type { Decision, Principal } from '../permissions/index.js';

/**
 * What a route requires. Every route declares one in `config.access`; a route
 * without it is rejected at registration, so nothing is served by accident.
 * - `public`: anyone, signed in or not (sign-in pages, static assets);
 * - `signedIn`: any signed-in user (their own profile, their navigation);
 * - `permission`: a signed-in user whom the permission model does not deny.
 *   For a resource permission the handler applies `request.decision`, which
 *   may be CONDITIONAL;
 * - `scimToken`: a SCIM client with a live provisioning token. The session
 *   layer skips these routes, and the SCIM routes' own hook checks the token
 *   (src/scim/routes.ts).
 */
export type RouteAccess =
  | { public: true }
  | { signedIn: true }
  | { permission: string }
  | { scimToken: true };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The signed-in user; set on every route that is not public. */
    principal?: Principal;
    /** The decision for the route's permission, when it declares one. */
    decision?: Decision;
  }
}

/** One registered route, for the inventory that tests and docs read. */
export interface RouteRecord {
  method: string;
  url: string;
  /** The route's `config.access` as registered; undefined when it declares none. */
  access: RouteAccess | undefined;
}

/**
 * Returns true for exactly one of the declarations: `{ public: true }`,
 * `{ signedIn: true }`, `{ permission: '<name>' }` or `{ scimToken: true }`.
 * Anything else, such as `{ public: false }` or `{}`, declares nothing.
 */
export function isRouteAccess(value: unknown): value is RouteAccess {
  if (value === null || typeof value !== 'object') {
    return false;
  }
  const entries = Object.entries(value);
  if (entries.length !== 1) {
    return false;
  }
  const [key, setting] = entries[0]!;
  if (key === 'public' || key === 'signedIn' || key === 'scimToken') {
    return setting === true;
  }
  return key === 'permission' && typeof setting === 'string' && setting.length > 0;
}

/** Walks the route inventory and returns every route that declares no valid access. */
export function findUndeclaredRoutes(routes: readonly RouteRecord[]): RouteRecord[] {
  return routes.filter((route) => !isRouteAccess(route.access));
}

export function describeAccess(access: RouteAccess): string {
  if ('public' in access) return 'public';
  if ('signedIn' in access) return 'signed in';
  if ('scimToken' in access) return 'SCIM provisioning token';
  return `permission ${access.permission}`;
}
