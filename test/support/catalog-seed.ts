import { catalogMigrations, type RefreshSummary } from '../../src/catalog/index.js';
import { createCatalogIngestion } from '../../src/catalog/ingestion/index.js';
import { type DatabaseHandle, migrateToLatest } from '../../src/database/index.js';
import { createLogger } from '../../src/logging.js';

/**
 * Migrates the catalog tables and stores the catalog files through the real
 * ingestion, each file as its own location that is trusted with User and
 * Group entities. Throws when nothing was stored, so a test never runs
 * against an empty catalog by accident.
 */
export async function seedCatalogFiles(
  database: DatabaseHandle,
  files: readonly string[],
): Promise<RefreshSummary> {
  await migrateToLatest(database, [catalogMigrations]);
  const ingestion = createCatalogIngestion({
    database,
    config: {
      locations: files.map((target) => ({
        type: 'file' as const,
        target,
        rules: [{ allow: ['User', 'Group'] }],
      })),
      refresh: { intervalSeconds: 0, watch: false },
    },
    logger: createLogger({ level: 'silent' }),
  });
  try {
    const summary = await ingestion.refreshAll();
    if (summary.entities === 0) {
      throw new Error(`The catalog ingestion stored no entities from ${files.join(', ')}`);
    }
    return summary;
  } finally {
    await ingestion.stop();
  }
}
