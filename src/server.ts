import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Catalog, catalogMigrations, createCatalog } from './catalog/index.js';
import type { AppConfig } from './config/index.js';
import { connectDatabase, type DatabaseHandle, migrateToLatest } from './database/index.js';
import { createHttpServer, type RouteRecord } from './http/index.js';
import { createIdentity, type Identity, identityMigrations } from './identity/index.js';
import {
  PermissionRegistry,
  PermissionService,
  policyPermissions,
  registerPermissionRoutes,
} from './permissions/index.js';
import { createShell } from './shell/index.js';

export interface Portal {
  app: FastifyInstance;
  routes: RouteRecord[];
  database: DatabaseHandle;
  catalog: Catalog;
  identity: Identity;
  permissions: PermissionService;
  /** Starts listening on the configured host and port; returns the address. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface CreatePortalOptions {
  config: AppConfig;
  logger: Logger;
  /** Skip the interval refresh and file watchers; tests refresh on demand. */
  backgroundRefresh?: boolean;
}

/**
 * Composes the capabilities into one server. Order matters: the database and
 * its migrations first, then the permission registry filled by each
 * capability, then the roles that refer to those permissions, then routes.
 */
export async function createPortal(options: CreatePortalOptions): Promise<Portal> {
  const { config, logger } = options;
  const database = connectDatabase(config.database, {
    onIdleConnectionError: (error) =>
      logger.warn({ err: error }, 'an idle database connection failed; the pool opens a new one'),
  });
  const closers: Array<() => Promise<void>> = [() => database.destroy()];

  try {
    await migrateToLatest(database, [catalogMigrations, identityMigrations]);
    logger.info({ database: database.description }, 'database migrated');

    const registry = new PermissionRegistry();
    registry.registerPermissions(...policyPermissions);
    const catalog = createCatalog({ database, config: config.catalog, logger, registry });
    closers.unshift(() => catalog.stop());
    const permissions = new PermissionService(registry, config.permission.rolesFile);
    const shell = createShell({
      config,
      logger,
      permissions,
      // Called only per request, after identity below has been created.
      authenticate: (request) => identity.authenticate(request),
    });

    const identity = await createIdentity({
      config,
      database,
      logger,
      directory: catalog.directory,
    });
    closers.unshift(() => identity.close());

    const { app, routes } = await createHttpServer({
      logger,
      permissions,
      canonicalOrigin: config.app.baseUrl,
      authenticate: (request) => identity.authenticate(request),
    });
    closers.unshift(() => app.close());

    await identity.registerRoutes(app);
    await registerPermissionRoutes(app, permissions, {
      resolvePrincipal: (userRef) => identity.resolvePrincipal(userRef),
    });
    await catalog.registerRoutes(app, permissions);
    await shell.registerRoutes(app);
    await app.ready();

    const summary = await catalog.refreshAll();
    logger.info(summary, 'catalog refreshed');
    if (options.backgroundRefresh ?? true) {
      catalog.startBackgroundRefresh();
      permissions.watchRolesFile(logger);
      closers.unshift(async () => permissions.stopWatching());
    }

    return {
      app,
      routes,
      database,
      catalog,
      identity,
      permissions,
      listen: async () => {
        const address = await app.listen({
          host: config.backend.listen.host,
          port: config.backend.listen.port,
        });
        logger.info({ address, baseUrl: config.app.baseUrl }, 'portal listening');
        return address;
      },
      close: () => closeAll(closers, logger),
    };
  } catch (error) {
    await closeAll(closers, logger);
    throw error;
  }
}

async function closeAll(closers: Array<() => Promise<void>>, logger: Logger): Promise<void> {
  for (const close of closers) {
    await close().catch((error: unknown) => logger.warn({ err: error }, 'shutdown step failed'));
  }
}
