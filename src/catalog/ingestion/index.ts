import type { Logger } from 'pino';
import type { CatalogConfig } from '../../config/index.js';
import type { DatabaseHandle } from '../../database/index.js';
import type { RefreshSummary } from '../catalog.js';
import {
  checkProvidedEntities,
  type EntityProvider,
  type ProvidedEntitiesResult,
  type ProvidedEntity,
  type ProvidedEntityChange,
  type ProvidedEntityProblem,
  writeProvidedEntities,
} from './provided-entities.js';
import { IngestionRunner, type LocationRefreshReport } from './runner.js';
import { createIngestionStore } from './sql-store.js';

export { type CatalogIssue, formatIssue, ISSUE_CODES, type IssueCode } from './issues.js';
export type { KindRule } from './kind-rules.js';
export { ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION } from './prepare-file.js';
export type {
  EntityProvider,
  ProvidedEntitiesResult,
  ProvidedEntity,
  ProvidedEntityChange,
  ProvidedEntityProblem,
} from './provided-entities.js';
export { type FileReadResult, type ReadEntity, readCatalogFile } from './read-file.js';
export type { LocationRefreshReport } from './runner.js';
export {
  type FileValidation,
  type ValidationReport,
  validateCatalogFiles,
} from './validate-files.js';

export interface CatalogIngestion {
  /** Reads every location now and stores the result; resolves after any refresh already under way. */
  refreshAll(): Promise<RefreshSummary>;
  /** Starts the interval refresh and the file watchers that the config enables. */
  startBackgroundRefresh(): void;
  /** Stops the timers and watchers and waits for a refresh under way. */
  stop(): Promise<void>;
  /** Returns why any of a provider's entities could not be stored now; writes nothing. */
  checkProvided(
    provider: EntityProvider,
    entities: readonly ProvidedEntity[],
  ): Promise<ProvidedEntityProblem[]>;
  /**
   * Stores a change of a provider's entities, such as SCIM's, under the
   * provider's own location, and refreshes again the file locations that
   * may now store a reference the change freed.
   */
  writeProvided(
    provider: EntityProvider,
    change: ProvidedEntityChange,
  ): Promise<ProvidedEntitiesResult>;
}

/**
 * Creates the ingestion pipeline: it reads the config locations and the
 * Location entities they lead to, validates each entity with
 * `@backstage/catalog-model`, and stores entities, relations, search rows and
 * faults, one database transaction per location.
 */
export function createCatalogIngestion(options: {
  database: DatabaseHandle;
  config: CatalogConfig;
  logger: Logger;
  /** Called after each location refresh; see IngestionRunnerOptions. */
  onLocationRefreshed?: ((report: LocationRefreshReport) => Promise<void>) | undefined;
}): CatalogIngestion {
  const store = createIngestionStore(options.database);
  const runner = new IngestionRunner(
    store,
    options.config,
    options.logger,
    options.onLocationRefreshed ? { onLocationRefreshed: options.onLocationRefreshed } : {},
  );
  return {
    refreshAll: () => runner.refreshAll(),
    startBackgroundRefresh: () => runner.startBackgroundRefresh(),
    stop: () => runner.stop(),
    checkProvided: (provider, entities) => checkProvidedEntities(store, provider, entities),
    async writeProvided(provider, change) {
      const result = await writeProvidedEntities(store, provider, change, new Date().toISOString());
      if (result.retryLocations.length > 0) {
        runner
          .refreshLocations(result.retryLocations)
          .catch((error: unknown) =>
            options.logger.error(
              { err: error, locations: result.retryLocations },
              'catalog refresh after a provider change failed',
            ),
          );
      }
      return result;
    },
  };
}
