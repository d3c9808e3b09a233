import type { Logger } from 'pino';
import type { CatalogConfig } from '../../config/index.js';
import type { DatabaseHandle } from '../../database/index.js';
import type { RefreshSummary } from '../catalog.js';

// NOTE: placeholder with the final signatures; the ingestion pipeline replaces it.

export interface CatalogIngestion {
  refreshAll(): Promise<RefreshSummary>;
  startBackgroundRefresh(): void;
  stop(): Promise<void>;
}

export function createCatalogIngestion(_options: {
  database: DatabaseHandle;
  config: CatalogConfig;
  logger: Logger;
}): CatalogIngestion {
  return {
    refreshAll: async () => ({ locations: 0, entities: 0, errors: 0, warnings: 0 }),
    startBackgroundRefresh: () => {},
    stop: async () => {},
  };
}
