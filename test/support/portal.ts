import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { type AppConfig, loadConfig, mergeConfig } from '../../src/config/index.js';
import type { DialectName } from '../../src/database/index.js';
import { createLogger } from '../../src/logging.js';
import { type CreatePortalOptions, createPortal, type Portal } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXAMPLE_CONFIG = path.join(PROJECT_ROOT, 'examples', 'app-config.yaml');
/** The shared corpus of real catalog and RBAC files, beside the project checkout. */
export const CORPUS_ROOT = path.resolve(PROJECT_ROOT, '..', 'shared', 'corpus');

export interface TestPortal {
  portal: Portal;
  config: AppConfig;
  /** Base URL on loopback, such as http://127.0.0.1:41234, without a trailing slash. */
  url: string;
  close(): Promise<void>;
}

export interface StartTestPortalOptions {
  dialect?: DialectName;
  /** Config files merged in order; the example organisation by default. */
  configFiles?: string[];
  /** Values merged over the files; database, host, port and base URL are set by this helper. */
  overrides?: Record<string, unknown>;
  logger?: Logger;
  /**
   * An existing database to share, as a second replica would; the portal then
   * leaves it in place when it closes. A fresh database of `dialect` when unset.
   */
  database?: TestDatabase;
  /** Executors and a notifier for the request engine, passed to createPortal. */
  workflows?: CreatePortalOptions['workflows'];
}

/** Finds a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the whole portal on a free loopback port with a fresh database of the
 * dialect, listening, with the catalog refreshed once and no background refresh.
 */
export async function startTestPortal(options: StartTestPortalOptions = {}): Promise<TestPortal> {
  const shared = options.database;
  const database: TestDatabase = shared ?? (await createTestDatabase(options.dialect ?? 'sqlite'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const overrides = mergeConfig(
    {
      app: { baseUrl: url },
      backend: { listen: { host: '127.0.0.1', port } },
    },
    options.overrides ?? {},
  );

  const loaded = loadConfig(options.configFiles ?? [EXAMPLE_CONFIG], { overrides });
  // Replaced whole, not merged, so no key of the file's database survives.
  const config: AppConfig = { ...loaded.config, database: database.config };
  const logger = options.logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let portal: Portal;
  try {
    portal = await createPortal({
      config,
      logger,
      backgroundRefresh: false,
      workflows: options.workflows,
    });
    await portal.listen();
  } catch (error) {
    if (!shared) {
      await database.cleanup();
    }
    throw error;
  }

  return {
    portal,
    config,
    url,
    close: async () => {
      await portal.close();
      if (!shared) {
        await database.cleanup();
      }
    },
  };
}
