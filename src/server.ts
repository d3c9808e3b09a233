import type { Entity } from '@backstage/catalog-model';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import {
  type AuditForwarder,
  type AuditTrail,
  auditForwardMigrations,
  auditMigrations,
  auditPermissions,
  createAuditForwarder,
  createAuditTrail,
  createBatchedAppender,
  registerAuditRoutes,
} from './audit/index.js';
import {
  type Catalog,
  catalogMigrations,
  createCatalog,
  readCatalogVersion,
  readEntitiesByKind,
} from './catalog/index.js';
import type { AppConfig } from './config/index.js';
import { connectDatabase, type DatabaseHandle, migrateToLatest } from './database/index.js';
import { createHttpServer, type RouteRecord } from './http/index.js';
import { createIdentity, type Identity, identityMigrations } from './identity/index.js';
import { expireSessionPrincipals } from './identity/sessions.js';
import {
  PermissionRegistry,
  PermissionService,
  policyPermissions,
  registerPermissionRoutes,
} from './permissions/index.js';
import {
  createAccessDenialRecorder,
  createLocationRefreshRecorder,
  createRolesChangeRecorder,
  recordConfigLoaded,
  recordPolicyLoaded,
  recordPolicyRejectedAtStart,
} from './portal-audit.js';
import { registerRunbookRoutes, runbookPermissions } from './runbooks/index.js';
import { createScim, type Scim, scimMigrations } from './scim/index.js';
import { createShell, shellPermissions } from './shell/index.js';
import { createConfiguredWorkflowParts } from './workflow-executors.js';
import { roleElevationMigrations } from './workflows/elevation-migrations.js';
import type { RoleElevationStore } from './workflows/elevations.js';
import {
  createWorkflowRegistry,
  createWorkflows,
  type RequestExecutor,
  type RequestNotifier,
  type Workflows,
  workflowMigrations,
  workflowPermissions,
} from './workflows/index.js';
import type { WebhookRequestNotifier } from './workflows/notifications.js';

export interface Portal {
  app: FastifyInstance;
  routes: RouteRecord[];
  database: DatabaseHandle;
  catalog: Catalog;
  identity: Identity;
  permissions: PermissionService;
  audit: AuditTrail;
  /** The forwarder of `audit.forward`; undefined when it is not configured. */
  auditForwarder: AuditForwarder | undefined;
  /** SCIM provisioning; undefined unless `scim.enabled`. */
  scim: Scim | undefined;
  /** The request engine; undefined unless `workflows.rulesFile` is set. */
  workflows: Workflows | undefined;
  /** Starts listening on the configured host and port; returns the address. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface CreatePortalOptions {
  config: AppConfig;
  logger: Logger;
  /** Skip the interval refresh and file watchers; tests refresh on demand. */
  backgroundRefresh?: boolean;
  /** The config files the config was read from, for the `config.loaded` audit record. */
  configFiles?: readonly string[];
  /** Executors and a notifier for the request engine beside the configured ones, such as a test's. */
  workflows?: { executors?: readonly RequestExecutor[]; notifier?: RequestNotifier };
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
    await migrateToLatest(database, [
      catalogMigrations,
      identityMigrations,
      auditMigrations,
      auditForwardMigrations,
      scimMigrations,
      workflowMigrations,
      roleElevationMigrations,
    ]);
    logger.info({ database: database.description }, 'database migrated');

    const audit = createAuditTrail({ database, config, logger });
    await recordConfigLoaded(audit, database, logger, options.configFiles ?? []);
    // Created here, so that a fault in its headers stops the start before any other work.
    const auditForwarder = config.audit.forward
      ? createAuditForwarder({ database, config: config.audit.forward, logger })
      : undefined;

    const registry = new PermissionRegistry();
    registry.registerPermissions(...policyPermissions, ...auditPermissions);
    registry.registerPermissions(...shellPermissions(config));
    // Registered even while the engine is off, so a roles file may grant them.
    const workflowRegistry = createWorkflowRegistry();
    registry.registerPermissions(...workflowPermissions(workflowRegistry));
    registry.registerPermissions(...runbookPermissions);
    const catalog = createCatalog({
      database,
      config: config.catalog,
      logger,
      registry,
      onLocationRefreshed: createLocationRefreshRecorder({ audit, database, logger }),
    });
    closers.unshift(() => catalog.stop());
    const rolesFile = config.permission.rolesFile;
    let permissions: PermissionService;
    try {
      permissions = new PermissionService(registry, rolesFile);
    } catch (error) {
      await recordPolicyRejectedAtStart(audit, database, logger, rolesFile, error);
      throw error;
    }
    await recordPolicyLoaded(audit, database, logger, rolesFile, permissions.currentPolicy());
    permissions.onRolesChange(
      createRolesChangeRecorder({
        audit,
        database,
        logger,
        rolesFile,
        registry,
        transitiveGroupOwnership: config.permission.transitiveGroupOwnership,
      }),
    );
    const shell = createShell({
      config,
      logger,
      permissions,
      // Called only per request, after identity below has been created.
      authenticate: (request) => identity.authenticate(request),
      microFrontends: {
        readEntitiesByKind: (kind) => readEntitiesByKind(database, kind),
        readVersion: () => readCatalogVersion(database),
      },
    });
    catalog.addFaultSource(() => shell.registrationFaults());

    const identity = await createIdentity({
      config,
      database,
      logger,
      directory: catalog.directory,
      audit,
    });
    closers.unshift(() => identity.close());

    const scim = config.scim.enabled
      ? createScim({
          config,
          database,
          logger,
          providedEntities: catalog.providedEntities,
          onPrincipalsChanged: (userRefs) => expireSessionPrincipals(database, userRefs),
          audit: (transaction, event) => audit.append(transaction, event),
        })
      : undefined;

    const recordAccessDenial = createAccessDenialRecorder({
      appender: createBatchedAppender(audit, database.db),
      cookieName: config.auth.session.cookieName,
    });
    const { app, routes } = await createHttpServer({
      logger,
      permissions,
      canonicalOrigin: config.app.baseUrl,
      authenticate: (request) => identity.authenticate(request),
      onAccessDenied: recordAccessDenial,
    });
    closers.unshift(() => app.close());

    await identity.registerRoutes(app);
    await registerPermissionRoutes(app, permissions, {
      resolvePrincipal: (userRef) => identity.resolvePrincipal(userRef),
    });
    await catalog.registerRoutes(app, permissions);
    await shell.registerRoutes(app);
    await registerAuditRoutes(app, audit);
    await registerRunbookRoutes(app, {
      database,
      permissions,
      audit,
      onAccessDenied: recordAccessDenial,
    });
    await scim?.registerRoutes(app);
    const rulesFile = config.workflows.rulesFile;
    let workflows: Workflows | undefined;
    let elevations: RoleElevationStore | undefined;
    let notifier: RequestNotifier | undefined;
    let webhookNotifier: WebhookRequestNotifier | undefined;
    if (rulesFile) {
      const entityResources = registry.getResourceType('catalog-entity');
      const readEntity = async (ref: string) =>
        (await entityResources?.getResources([ref]))?.[0] as Entity | undefined;
      const configured = createConfiguredWorkflowParts({
        config,
        database,
        audit,
        permissions,
        logger,
        readEntity,
      });
      // Executors passed in, such as a test's, replace the configured ones of their type.
      const given = options.workflows?.executors ?? [];
      workflowRegistry.registerExecutors(
        ...given,
        ...configured.executors.filter(
          (executor) => !given.some((other) => other.type === executor.type),
        ),
      );
      elevations = configured.elevations;
      webhookNotifier = options.workflows?.notifier ? undefined : configured.notifier;
      notifier = options.workflows?.notifier ?? configured.notifier;
      workflows = createWorkflows({
        config: { ...config.workflows, rulesFile },
        database,
        registry: workflowRegistry,
        permissions,
        audit,
        loadEntity: readEntity,
        resolvePrincipal: (userRef) => identity.resolvePrincipal(userRef),
        notifier,
        logger,
      });
      await workflows.registerRoutes(app);
    }
    await app.ready();

    const summary = await catalog.refreshAll();
    logger.info(summary, 'catalog refreshed');
    // After the first refresh, so on a new database a reference that a file
    // location also defines stays with the file.
    await scim?.syncCatalog();
    if (options.backgroundRefresh ?? true) {
      catalog.startBackgroundRefresh();
      permissions.watchRolesFile(logger);
      closers.unshift(async () => permissions.stopWatching());
      audit.start();
    }
    // Runs before the database closes: it signs a last checkpoint.
    closers.splice(closers.length - 1, 0, () => audit.stop());

    // Loads the elevations in force before the runner resumes any request.
    await elevations?.start();
    if (workflows) {
      const started = workflows;
      // Resumes requests left approved or executing by an earlier run.
      started.start({
        sweeper: options.backgroundRefresh ?? true,
        watchRules: options.backgroundRefresh ?? true,
      });
      // Stops after the HTTP server, before the database closes.
      closers.splice(closers.length - 2, 0, () => started.stop());
    }
    if (elevations) {
      const store = elevations;
      closers.splice(closers.length - 2, 0, () => store.stop());
    }
    if (webhookNotifier) {
      const sender = webhookNotifier;
      closers.splice(closers.length - 2, 0, () => sender.stop());
    }

    if (auditForwarder) {
      // Stops before the last checkpoint and the database, and after the HTTP server.
      closers.splice(closers.length - 2, 0, () => auditForwarder.stop());
      if (options.backgroundRefresh ?? true) {
        auditForwarder.start();
      }
    }

    return {
      app,
      routes,
      database,
      catalog,
      identity,
      permissions,
      audit,
      auditForwarder,
      scim,
      workflows,
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
