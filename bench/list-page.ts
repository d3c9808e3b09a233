import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import type { DialectName } from '../src/database/index.js';
import { createLogger } from '../src/logging.js';
import { createPortal } from '../src/server.js';
import { createTestDatabase } from '../test/support/databases.js';
import { HttpClient } from '../test/support/http-client.js';
import { freePort } from '../test/support/portal.js';
import { generateOrganisation } from './generate-organisation.js';
import { type LatencySummary, measureLatency } from './statistics.js';

const BENCH_ROOT = path.dirname(fileURLToPath(import.meta.url));
/** Generated once per machine and reused; the generator is deterministic. */
export const ORGANISATION_FOLDER = path.join(tmpdir(), 'backstage-luigi-bench-organisation');

export interface ListPageResult {
  dialect: DialectName;
  entities: number;
  startupSeconds: number;
  pages: Array<{ name: string; rows: number; latency: LatencySummary }>;
}

/** Generates the 100,000-entity organisation into ORGANISATION_FOLDER unless it is there. */
export function ensureOrganisation(): string {
  if (!existsSync(path.join(ORGANISATION_FOLDER, 'entities-0099.yaml'))) {
    generateOrganisation(ORGANISATION_FOLDER);
  }
  return ORGANISATION_FOLDER;
}

/**
 * Starts the whole portal on the generated organisation, signs in through the
 * development provider as a team member (conditional read) and as an admin
 * (unconditional read), and measures permission-checked list pages of 50 over
 * HTTP on loopback, one request at a time.
 */
export async function benchmarkListPage(options: {
  dialect: DialectName;
  samples?: number;
}): Promise<ListPageResult> {
  const folder = ensureOrganisation();
  const database = await createTestDatabase(options.dialect);
  const work = mkdtempSync(path.join(tmpdir(), 'backstage-luigi-bench-'));
  const port = await freePort();
  const configFile = path.join(work, 'app-config.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      app: { baseUrl: `http://127.0.0.1:${port}` },
      backend: { listen: { host: '127.0.0.1', port } },
      database: database.config,
      auth: {
        development: {
          enabled: true,
          users: [
            {
              username: 'developer',
              password: 'bench',
              name: 'Developer',
              email: 'user-0@generated.example',
              groups: [],
            },
            {
              username: 'admin',
              password: 'bench',
              name: 'Admin',
              email: 'user-1@generated.example',
              groups: [],
            },
          ],
        },
      },
      catalog: {
        locations: [
          // The generated organisation's users and groups come from a trusted location.
          {
            type: 'file',
            target: path.join(folder, '*.yaml'),
            rules: [{ allow: ['User', 'Group'] }],
          },
        ],
        refresh: { intervalSeconds: 0, watch: false },
      },
      permission: { rolesFile: path.join(BENCH_ROOT, 'roles.yaml') },
    }),
  );

  const { config } = loadConfig([configFile]);
  const started = performance.now();
  const portal = await createPortal({
    config,
    logger: createLogger({ level: 'warn' }),
    backgroundRefresh: false,
  });
  const startupSeconds = (performance.now() - started) / 1000;
  await portal.listen();

  try {
    const baseUrl = `http://127.0.0.1:${port}`;
    const pages: ListPageResult['pages'] = [];
    for (const username of ['developer', 'admin']) {
      const client = new HttpClient(baseUrl);
      await client.signInWithDevelopmentProvider(username, 'bench');
      for (const [name, target] of [
        [
          'GET /entities kind=component limit 50',
          '/api/catalog/entities?filter=kind=component&limit=50',
        ],
        [
          'GET /entities/by-query kind=component, by name, limit 50',
          '/api/catalog/entities/by-query?filter=kind=component&orderField=metadata.name,asc&limit=50&totalItems=exclude',
        ],
      ] as const) {
        let rows = 0;
        const latency = await measureLatency(
          async () => {
            const response = await client.request(target);
            if (response.status !== 200) {
              throw new Error(
                `${target} returned ${response.status}: ${response.body.slice(0, 200)}`,
              );
            }
            const body = JSON.parse(response.body) as unknown[] | { items: unknown[] };
            rows = Array.isArray(body) ? body.length : body.items.length;
          },
          { warmup: 20, samples: options.samples ?? 300 },
        );
        pages.push({ name: `${username}: ${name}`, rows, latency });
      }
    }
    const summary = await portal.database.db
      .selectFrom('catalog_entities')
      .select((builder) => builder.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    return { dialect: options.dialect, entities: Number(summary.count), startupSeconds, pages };
  } finally {
    await portal.close();
    await database.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}
