import type { Decision, Principal } from '../permissions/index.js';

/**
 * What a route requires. Every route declares one in `config.access`; a route
 * without it is rejected at registration, so nothing is served by accident.
 * - `public`: anyone, signed in or not (sign-in pages, static assets);
 * - `signedIn`: any signed-in user (their own profile, their navigation);
 * - `permission`: a signed-in user whom the permission model does not deny.
 *   For a resource permission the handler applies `request.decision`, which
 *   may be CONDITIONAL.
 */
export type RouteAccess = { public: true } | { signedIn: true } | { permission: string };

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
  access: RouteAccess;
}

export function describeAccess(access: RouteAccess): string {
  if ('public' in access) return 'public';
  if ('signedIn' in access) return 'signed in';
  return `permission ${access.permission}`;
}
