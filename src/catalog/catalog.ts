import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CatalogConfig } from '../config/index.js';
import type { DatabaseHandle } from '../database/index.js';
import type { PermissionRegistry } from '../permissions/index.js';
import {
  catalogPermissionRules,
  catalogPermissions,
  type PermissionAuthorizer,
  registerCatalogRoutes,
} from './api/index.js';
import { createCatalogDirectory } from './directory.js';
import type { EntityFaultSource } from './entity-faults.js';
import {
  createCatalogIngestion,
  type EntityProvider,
  type LocationRefreshReport,
  type ProvidedEntitiesResult,
  type ProvidedEntity,
  type ProvidedEntityChange,
  type ProvidedEntityProblem,
} from './ingestion/index.js';
import { createEntityResourceType } from './permission-resources.js';

/** Counts from one refresh of every location. */
export interface RefreshSummary {
  locations: number;
  entities: number;
  errors: number;
  warnings: number;
}

/** What identity reads from the catalog to resolve a signed-in user. */
export interface CatalogDirectory {
  /** Finds the User entity whose `spec.profile.email` matches, ignoring case. */
  findUserRefByEmail(email: string): Promise<string | undefined>;
  /** Finds the User entity named `name` in the default namespace, ignoring case. */
  findUserRefByName(name: string): Promise<string | undefined>;
  /** Returns the reference when a User entity with that reference exists. */
  findUserRef(ref: string): Promise<string | undefined>;
  /** Returns the reference when a Group entity with that reference exists. */
  findGroupRef(ref: string): Promise<string | undefined>;
  /** Direct groups of a user, from its `memberOf` relations (declared on either side). */
  getDirectGroupRefs(userRef: string): Promise<string[]>;
  /**
   * The groups and all their ancestors through `childOf` relations. Cycles end
   * the walk and are returned so the caller can report them.
   */
  expandGroupAncestors(
    groupRefs: readonly string[],
  ): Promise<{ groupRefs: string[]; cycles: string[][] }>;
}

export interface CatalogOptions {
  database: DatabaseHandle;
  config: CatalogConfig;
  logger: Logger;
  registry: PermissionRegistry;
  /** Called after each location refresh, once its transaction has ended, such as to record it. */
  onLocationRefreshed?: ((report: LocationRefreshReport) => Promise<void>) | undefined;
}

export interface Catalog {
  directory: CatalogDirectory;
  /** Reads every location now and stores the result. */
  refreshAll(): Promise<RefreshSummary>;
  /** Starts the interval refresh and the file watchers from the config. */
  startBackgroundRefresh(): void;
  /**
   * Registers the REST API; `permissions` decides catalog.entity.read where a
   * route requires another permission. The permission service loads the
   * roles only after every capability has registered its rules, so it comes
   * here and not in CatalogOptions.
   */
  registerRoutes(app: FastifyInstance, permissions: PermissionAuthorizer): Promise<void>;
  /**
   * Adds a capability's faults about stored entities to the ingestion error
   * list, such as the shell's MicroFrontend entities that it does not serve.
   */
  addFaultSource(source: EntityFaultSource): void;
  stop(): Promise<void>;
  /** Entities of providers other than catalog files, such as SCIM provisioning. */
  providedEntities: ProvidedEntities;
}

/** Writes and checks the entities of a provider under a root location of its own. */
export interface ProvidedEntities {
  /** Returns why any of the entities could not be stored now; writes nothing. */
  check(
    provider: EntityProvider,
    entities: readonly ProvidedEntity[],
  ): Promise<ProvidedEntityProblem[]>;
  /** Stores and deletes entities of the provider in one transaction. */
  write(provider: EntityProvider, change: ProvidedEntityChange): Promise<ProvidedEntitiesResult>;
}

/**
 * Composes the catalog: permissions, rules and the catalog-entity resource
 * type, ingestion, the REST API and the directory.
 */
export function createCatalog(options: CatalogOptions): Catalog {
  options.registry.registerPermissions(...catalogPermissions);
  options.registry.registerRules(...catalogPermissionRules);
  options.registry.registerResourceType(createEntityResourceType(options.database));

  const ingestion = createCatalogIngestion(options);
  // Filled after the routes are registered too: the route reads the array on each request.
  const faultSources: EntityFaultSource[] = [];
  return {
    directory: createCatalogDirectory(options.database),
    refreshAll: () => ingestion.refreshAll(),
    startBackgroundRefresh: () => ingestion.startBackgroundRefresh(),
    registerRoutes: (app, permissions) =>
      registerCatalogRoutes(app, { ...options, permissions, faultSources }),
    addFaultSource: (source) => {
      faultSources.push(source);
    },
    stop: () => ingestion.stop(),
    providedEntities: {
      check: (provider, entities) => ingestion.checkProvided(provider, entities),
      write: (provider, change) => ingestion.writeProvided(provider, change),
    },
  };
}
