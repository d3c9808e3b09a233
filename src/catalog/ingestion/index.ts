import type { Logger } from 'pino';
import type { CatalogConfig } from '../../config/index.js';
import type { DatabaseHandle } from '../../database/index.js';
import type { RefreshSummary } from '../catalog.js';
import { IngestionRunner } from './runner.js';
import { createIngestionStore } from './sql-store.js';

export { type CatalogIssue, formatIssue, ISSUE_CODES, type IssueCode } from './issues.js';
export type { KindRule } from './kind-rules.js';
export { ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION } from './prepare-file.js';
export { type FileReadResult, type ReadEntity, readCatalogFile } from './read-file.js';
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
}): CatalogIngestion {
  const runner = new IngestionRunner(
    createIngestionStore(options.database),
    options.config,
    options.logger,
  );
  return {
    refreshAll: () => runner.refreshAll(),
    startBackgroundRefresh: () => runner.startBackgroundRefresh(),
    stop: () => runner.stop(),
  };
}
