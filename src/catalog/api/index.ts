import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../../database/index.js';
import type {
  AnyPermissionRule,
  PermissionDefinition,
  PermissionRegistry,
} from '../../permissions/index.js';

// NOTE: placeholder with the final signatures; the catalog API replaces it.

export const catalogPermissions: PermissionDefinition[] = [
  {
    name: 'catalog.entity.read',
    resourceType: 'catalog-entity',
    action: 'read',
    description: 'Read catalog entities',
  },
  {
    name: 'catalog.location.read',
    action: 'read',
    description: 'Read catalog locations and their ingestion errors',
  },
];

export const catalogPermissionRules: AnyPermissionRule[] = [];

export async function registerCatalogRoutes(
  _app: FastifyInstance,
  _options: { database: DatabaseHandle; registry: PermissionRegistry; logger: Logger },
): Promise<void> {}
