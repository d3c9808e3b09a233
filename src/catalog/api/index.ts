import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../../database/index.js';
import type { AnyPermissionRule, PermissionRegistry } from '../../permissions/index.js';
import type { EntityFaultSource } from '../entity-faults.js';
import type { CatalogTables } from '../tables.js';
import { registerEntityRoutes } from './entities-routes.js';
import { registerLocationRoutes } from './locations-routes.js';
import { detectBytewiseText } from './query-plan.js';
import type { PermissionAuthorizer } from './read-access.js';
import { catalogPermissionRules as rules } from './rules.js';

export {
  CATALOG_ENTITY_READ,
  CATALOG_ENTITY_RESOURCE_TYPE,
  CATALOG_LOCATION_READ,
  catalogPermissions,
} from './permissions.js';
export { criteriaToEntityFilter, type PermissionAuthorizer } from './read-access.js';

/** The catalog-entity condition rules: IS_ENTITY_OWNER, IS_ENTITY_KIND and the HAS_… rules. */
export const catalogPermissionRules: AnyPermissionRule[] = rules;

/**
 * Registers the read side of Backstage's catalog REST API under /api/catalog,
 * with catalog.entity.read applied in SQL to every list, count and facet.
 * `permissions` decides catalog.entity.read on the location routes, which
 * require catalog.location.read.
 */
export async function registerCatalogRoutes(
  app: FastifyInstance,
  options: {
    database: DatabaseHandle;
    registry: PermissionRegistry;
    permissions: PermissionAuthorizer;
    logger: Logger;
    /** Other capabilities' faults about stored entities, for `GET /ingestion-errors`. */
    faultSources?: readonly EntityFaultSource[];
  },
): Promise<void> {
  const db = options.database.db as Kysely<CatalogTables>;
  const { dialect } = options.database;
  const { registry, permissions } = options;
  const bytewiseText = await detectBytewiseText(db, dialect);
  registerEntityRoutes(app, { db, dialect, bytewiseText, registry });
  registerLocationRoutes(app, {
    db,
    dialect,
    bytewiseText,
    registry,
    permissions,
    faultSources: options.faultSources,
  });
  options.logger.debug({ prefix: '/api/catalog' }, 'catalog API routes registered');
}
