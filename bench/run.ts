import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DialectName } from '../src/database/index.js';
import { checkPostgres } from '../test/support/databases.js';
import { benchmarkIngest, type IngestFigures } from './ingest.js';
import { benchmarkListPage, type ListPageResult } from './list-page.js';

/**
 * `npm run bench`: every benchmark of the portal, each printed beside the
 * figure it is compared with. Backstage's figures were measured on this kind
 * of machine (2 cores) with its catalog backend on SQLite.
 */

const BACKSTAGE_INGEST_PER_SECOND = 60;
const BACKSTAGE_PAGE_MS_AT_10K = 70;
const TARGET_INGEST_PER_SECOND = 10_000;
const TARGET_PAGE_P50_MS = 10;

const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

function format(value: number, digits = 1): string {
  return value.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function verdict(met: boolean): string {
  return met ? 'target met' : 'TARGET MISSED';
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const wanted = (name: string) => only.length === 0 || only.includes(name);
  const dialects: DialectName[] = ['sqlite'];
  const postgresProblem = await checkPostgres();
  if (postgresProblem) {
    console.log(`PostgreSQL figures skipped: ${postgresProblem}`);
  } else {
    dialects.push('postgres');
  }

  console.log(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node.js ${process.version}\n`,
  );
  const results: { ingest: Record<string, IngestFigures>; listPage: ListPageResult[] } = {
    ingest: {},
    listPage: [],
  };

  if (wanted('ingest')) {
    console.log('Catalog ingest: first refresh of a generated organisation of 100,000 entities');
    console.log(
      `  Backstage catalog backend (SQLite): about ${BACKSTAGE_INGEST_PER_SECOND} entities/s`,
    );
    for (const dialect of dialects) {
      const figures = await benchmarkIngest({ dialect });
      results.ingest[dialect] = figures;
      const ratio = figures.perSecond / BACKSTAGE_INGEST_PER_SECOND;
      const met = dialect !== 'sqlite' || figures.perSecond >= TARGET_INGEST_PER_SECOND;
      console.log(
        `  Backstage Luigi (${dialect}): ${format(figures.perSecond, 0)} entities/s (${format(figures.seconds)} s, ${format(ratio, 0)}× Backstage)${dialect === 'sqlite' ? `, target ≥ ${format(TARGET_INGEST_PER_SECOND, 0)}: ${verdict(met)}` : ''}`,
      );
    }
    console.log();
  }

  if (wanted('list-page')) {
    console.log(
      'Catalog list page: filtered, permission-checked pages of 50 over HTTP, one request at a time',
    );
    console.log(
      `  Backstage catalog backend (SQLite): about ${BACKSTAGE_PAGE_MS_AT_10K} ms at 10,000 entities`,
    );
    for (const dialect of dialects) {
      const result = await benchmarkListPage({ dialect });
      results.listPage.push(result);
      console.log(`  Backstage Luigi (${dialect}, ${format(result.entities, 0)} entities):`);
      for (const page of result.pages) {
        const met = page.latency.p50 < TARGET_PAGE_P50_MS;
        console.log(
          `    ${page.name}: p50 ${format(page.latency.p50)} ms, p99 ${format(page.latency.p99)} ms (${page.rows} rows)${dialect === 'sqlite' ? `, target p50 < ${TARGET_PAGE_P50_MS} ms: ${verdict(met)}` : ''}`,
        );
      }
    }
    console.log();
  }

  mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `bench-${new Date().toISOString().replaceAll(':', '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`Figures written to ${path.relative(process.cwd(), file)}`);
}

await main();
