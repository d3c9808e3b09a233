import type { FastifyInstance } from 'fastify';
import type { PermissionService } from './service.js';

/** Adds `GET /api/permission/permissions`: every registered permission, for anyone writing roles. */
export async function registerPermissionRoutes(
  app: FastifyInstance,
  permissions: PermissionService,
): Promise<void> {
  app.get('/api/permission/permissions', { config: { access: { signedIn: true } } }, async () => ({
    permissions: permissions.registry.listPermissions(),
  }));
}
