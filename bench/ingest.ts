import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { catalogMigrations } from '../src/catalog/index.js';
import { createCatalogIngestion } from '../src/catalog/ingestion/index.js';
import type { DatabaseConfig } from '../src/config/index.js';
import { connectDatabase, migrateToLatest } from '../src/database/index.js';
import {
  DEFAULT_SIZE,
  generateOrganisation,
  type OrganisationSize,
} from './generate-organisation.js';

export interface IngestFigures {
  entities: number;
  seconds: number;
  perSecond: number;
}

export interface IngestBenchmarkOptions {
  /** Size of the generated organisation; 100,000 by default. */
  entities?: number;
  dialect: 'sqlite' | 'postgres';
}

/** Server used to create and drop the benchmark's PostgreSQL database. */
const POSTGRES_ADMIN_URL =
  process.env.PORTAL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Written last into a generated folder, so a folder cut short by a crash is generated again. */
const COMPLETE_MARKER = '.complete';

/**
 * Measures the first ingest of a generated organisation into an empty
 * database: a temporary SQLite file, or a PostgreSQL database created for the
 * run and dropped after it. The organisation is generated once per size into
 * the temporary folder and reused by later calls.
 */
export async function benchmarkIngest(options: IngestBenchmarkOptions): Promise<IngestFigures> {
  const { first } = await runIngestBenchmark(options, { refreshAgain: false });
  return first;
}

/** Runs the first ingest and, when asked, a second refresh of the unchanged files. */
export async function runIngestBenchmark(
  options: IngestBenchmarkOptions,
  settings: { refreshAgain: boolean },
): Promise<{ first: IngestFigures; again?: IngestFigures }> {
  const folder = organisationFolder(options.entities ?? DEFAULT_TOTAL);
  const database = await createDatabase(options.dialect);
  const handle = connectDatabase(database.config);
  try {
    await migrateToLatest(handle, [catalogMigrations]);
    const ingestion = createCatalogIngestion({
      database: handle,
      logger: pino({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' }),
      config: {
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
    });

    const first = await timeRefresh(() => ingestion.refreshAll());
    const again = settings.refreshAgain
      ? await timeRefresh(() => ingestion.refreshAll())
      : undefined;
    await ingestion.stop();
    return again ? { first, again } : { first };
  } finally {
    await handle.destroy();
    await database.cleanup();
  }
}

const DEFAULT_TOTAL = Object.entries(DEFAULT_SIZE)
  .filter(([key]) => key !== 'entitiesPerFile' && key !== 'groupDepth')
  .reduce((sum, [, count]) => sum + count, 0);

async function timeRefresh(refresh: () => Promise<{ entities: number }>): Promise<IngestFigures> {
  const started = process.hrtime.bigint();
  const summary = await refresh();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    entities: summary.entities,
    seconds,
    perSecond: Math.round(summary.entities / seconds),
  };
}

/** Generates the organisation of about `entities` entities once, scaling every count of the default. */
function organisationFolder(entities: number): string {
  const folder = path.join(tmpdir(), `backstage-luigi-bench-organisation-${entities}`);
  if (existsSync(path.join(folder, COMPLETE_MARKER))) {
    return folder;
  }

  rmSync(folder, { recursive: true, force: true });
  const factor = entities / DEFAULT_TOTAL;
  const scale = (count: number) => Math.max(1, Math.round(count * factor));
  const size: OrganisationSize = {
    ...DEFAULT_SIZE,
    domains: scale(DEFAULT_SIZE.domains),
    systems: scale(DEFAULT_SIZE.systems),
    groups: Math.max(DEFAULT_SIZE.groupDepth * 2, scale(DEFAULT_SIZE.groups)),
    users: scale(DEFAULT_SIZE.users),
    apis: scale(DEFAULT_SIZE.apis),
    resources: scale(DEFAULT_SIZE.resources),
    components: scale(DEFAULT_SIZE.components),
  };
  generateOrganisation(folder, size);
  writeFileSync(path.join(folder, COMPLETE_MARKER), '');
  return folder;
}

interface BenchmarkDatabase {
  config: DatabaseConfig;
  cleanup(): Promise<void>;
}

async function createDatabase(dialect: 'sqlite' | 'postgres'): Promise<BenchmarkDatabase> {
  if (dialect === 'sqlite') {
    const folder = mkdtempSync(path.join(tmpdir(), 'backstage-luigi-bench-'));
    return {
      config: {
        client: 'better-sqlite3',
        connection: { filename: path.join(folder, 'portal.sqlite') },
      },
      cleanup: async () => rmSync(folder, { recursive: true, force: true }),
    };
  }

  const name = `portal_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  await runAdminQuery(`create database ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    config: { client: 'pg', connection: url.toString(), pool: { max: 10 } },
    cleanup: () => runAdminQuery(`drop database if exists ${name} with (force)`),
  };
}

async function runAdminQuery(statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

// Run directly: node --import tsx bench/ingest.ts [sqlite|postgres] [entities]
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dialect = process.argv[2] === 'postgres' ? 'postgres' : 'sqlite';
  const entities = Number(process.argv[3] ?? DEFAULT_TOTAL);
  const { first, again } = await runIngestBenchmark({ dialect, entities }, { refreshAgain: true });
  const line = (label: string, figures: IngestFigures) =>
    `${label}: ${figures.entities} entities in ${figures.seconds.toFixed(2)} s, ${figures.perSecond} entities/s`;
  console.log(`${dialect} ${line('first ingest', first)}`);
  if (again) {
    console.log(`${dialect} ${line('unchanged refresh', again)}`);
  }
}
