import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import type { FastifyInstance } from 'fastify';
import { InputError, NotFoundError } from '../errors/index.js';
import { authorizeBatch } from './authorize-batch.js';
import { parseAuthorizeRequest } from './authorize-request.js';
import { explainDecision } from './explain.js';
import { PERMISSION_POLICY_READ } from './policy-permissions.js';
import type { PermissionService } from './service.js';
import type { PermissionDefinition, Principal } from './types.js';

export interface PermissionRouteOptions {
  /**
   * Builds the Principal of a User entity as sign-in would, from the
   * catalog's memberships; undefined when no such user exists. Identity
   * provides it, because permissions may not read the catalog.
   */
  resolvePrincipal(userRef: string): Promise<Principal | undefined>;
}

/** Characters accepted in each parameter of the explain route. */
const MAX_PARAMETER_LENGTH = 1_000;

/**
 * Adds the permission routes:
 * - `GET /api/permission/permissions`: every registered permission, for anyone writing roles;
 * - `POST /api/permission/authorize`: Backstage's permission protocol for the signed-in user;
 * - `GET /api/permission/explain`: any user's decision with the grants behind it.
 */
export async function registerPermissionRoutes(
  app: FastifyInstance,
  permissions: PermissionService,
  options: PermissionRouteOptions,
): Promise<void> {
  const { registry } = permissions;

  app.get('/api/permission/permissions', { config: { access: { signedIn: true } } }, async () => ({
    permissions: registry.listPermissions(),
  }));

  app.post(
    '/api/permission/authorize',
    { config: { access: { signedIn: true } } },
    async (request) => {
      const items = parseAuthorizeRequest(request.body);
      const principal = request.principal!;
      const policy = permissions.currentPolicy();
      const answered = await authorizeBatch(items, principal, policy, registry);
      request.log.debug(
        { user: principal.userEntityRef, items: items.length },
        'permission batch authorized',
      );
      return { items: answered };
    },
  );

  app.get(
    '/api/permission/explain',
    { config: { access: { permission: PERMISSION_POLICY_READ } } },
    async (request) => {
      const query = request.query as Record<string, unknown>;
      const userRef = parseUserParameter(requireParameter(query, 'user', 'user=ada'));
      const permission = findPermission(
        requireParameter(query, 'permission', 'permission=catalog.entity.read'),
        permissions,
      );
      const resourceRef = readParameter(query, 'resourceRef');

      if (resourceRef !== undefined && !permission.resourceType) {
        throw new InputError(
          `resourceRef applies only to resource permissions, and '${permission.name}' has no resource type: remove resourceRef`,
          { details: [{ path: 'resourceRef', value: resourceRef, message: 'not allowed here' }] },
        );
      }

      const principal = await options.resolvePrincipal(userRef);
      if (!principal) {
        throw new NotFoundError(
          `User ${userRef} was not found in the catalog: name a User entity, such as user:default/ada`,
        );
      }
      return await explainDecision(
        principal,
        permission,
        resourceRef,
        permissions.currentPolicy(),
        registry,
      );
    },
  );
}

/** Reads a required query parameter; `example` shows a valid one in the error. */
function requireParameter(query: Record<string, unknown>, name: string, example: string): string {
  const value = readParameter(query, name);
  if (value === undefined) {
    throw new InputError(`Parameter ${name} is required: add it to the query, such as ${example}`, {
      details: [{ path: name, message: 'is required' }],
    });
  }
  return value;
}

/** Reads a query parameter given at most once; an empty one counts as missing. */
function readParameter(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new InputError(`Parameter ${name} is given more than once: give it once`, {
      details: [{ path: name, message: 'is repeated' }],
    });
  }
  if (value.length > MAX_PARAMETER_LENGTH) {
    throw new InputError(
      `Parameter ${name} is ${value.length} characters long: use at most ${MAX_PARAMETER_LENGTH}`,
      { details: [{ path: name, message: `at most ${MAX_PARAMETER_LENGTH} characters` }] },
    );
  }
  return value;
}

/** Reads `ada`, `user:ada` or `user:default/ada` as a lowercase User reference. */
function parseUserParameter(value: string): string {
  let ref: { kind: string; namespace: string; name: string };
  try {
    ref = parseEntityRef(value, { defaultKind: 'user', defaultNamespace: 'default' });
  } catch {
    throw invalidUser(value, 'is not an entity reference');
  }
  if (ref.kind.toLowerCase() !== 'user') {
    throw invalidUser(value, `has kind '${ref.kind}'`);
  }
  return stringifyEntityRef(ref).toLowerCase();
}

function invalidUser(value: string, problem: string): InputError {
  return new InputError(
    `Parameter user '${value}' ${problem}: name a user as ada, user:ada or user:default/ada`,
    { details: [{ path: 'user', value, message: problem }] },
  );
}

function findPermission(name: string, permissions: PermissionService): PermissionDefinition {
  const permission = permissions.registry.getPermission(name);
  if (!permission) {
    throw new InputError(
      `Parameter permission '${name}' is not a registered permission: see GET /api/permission/permissions for the list`,
      { details: [{ path: 'permission', value: name, message: 'is not registered' }] },
    );
  }
  return permission;
}
