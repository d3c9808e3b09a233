import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DialectName } from '../src/database/index.js';
import { checkPostgres } from '../test/support/databases.js';
import { type AuditFigures, benchmarkAudit } from './audit.js';
import { benchmarkIdentity, type IdentityFigures } from './identity.js';
import { benchmarkIngest, type IngestFigures } from './ingest.js';
import { benchmarkListPage, type ListPageResult } from './list-page.js';
import { benchmarkPermissions, type PermissionFigures } from './permissions.js';
import { benchmarkShell, type ShellFigures } from './shell.js';
import { benchmarkWorkflows, type WorkflowFigures } from './workflows.js';

/**
 * `npm run bench`: every benchmark of the portal, each printed beside the
 * figure it is compared with. Backstage's figures were measured on this kind
 * of machine (2 cores) with its catalog backend on SQLite.
 */

const BACKSTAGE_INGEST_PER_SECOND = 60;
const BACKSTAGE_PAGE_MS_AT_10K = 70;
const TARGET_INGEST_PER_SECOND = 10_000;
const TARGET_PAGE_P50_MS = 10;
/** This engine's single decisions per second over the faster of casbin and Cedar. */
const TARGET_PERMISSION_RATIO = 100;
const TARGET_AUDIT_APPENDS_PER_SECOND = 5_000;
const TARGET_AUDIT_VERIFY_SECONDS = 10;
const TARGET_SHELL_CONFIG_MS = 2;
const TARGET_FIRST_VIEW_MS = 1_000;

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
  const results: {
    ingest: Record<string, IngestFigures>;
    listPage: ListPageResult[];
    permissions?: PermissionFigures;
    audit: AuditFigures[];
    identity: IdentityFigures[];
    shell?: ShellFigures;
    workflows: WorkflowFigures[];
  } = {
    ingest: {},
    listPage: [],
    audit: [],
    identity: [],
    workflows: [],
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

  if (wanted('permissions')) {
    console.log(
      'Permission decisions: one decision at a time, 10,000 users, 500 groups 4 deep, 50 roles, 100,000 entities',
    );
    const figures = await benchmarkPermissions();
    results.permissions = figures;
    printPermissions(figures, results.listPage);
    console.log();
  }

  if (wanted('audit')) {
    console.log(
      'Audit trail: appends one after another (20,000 on SQLite, 2,000 on PostgreSQL, where each commit waits for the disk), then audit verify over 1,000,000 records loaded in bulk',
    );
    for (const dialect of dialects) {
      const figures = await benchmarkAudit({
        dialect,
        appends: dialect === 'sqlite' ? 20_000 : 2_000,
      });
      results.audit.push(figures);
      printAudit(figures);
    }
    console.log();
  }

  if (wanted('identity')) {
    console.log(
      'Identity: sign-ins through the full OpenID Connect flow against oidc-provider in this process, and principal resolution per API request (small test organisation)',
    );
    for (const dialect of dialects) {
      const figures = await benchmarkIdentity({ dialect });
      results.identity.push(figures);
      printIdentity(figures);
    }
    console.log();
  }

  if (wanted('shell')) {
    console.log(
      'Shell: configuration of one user over 300 generated navigation nodes (in process), and Chromium loading /catalog of the example portal until the catalog view shows its rows',
    );
    const figures = await benchmarkShell();
    results.shell = figures;
    printShell(figures);
    console.log();
  }

  if (wanted('workflows')) {
    console.log(
      'Requests: production deployments created and approved over HTTP, executed through the signed webhook on loopback, and automatically approved staging deployments end to end (example organisation)',
    );
    for (const dialect of dialects) {
      const figures = await benchmarkWorkflows({ dialect });
      results.workflows.push(figures);
      printWorkflows(figures);
    }
    console.log();
  }

  mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `bench-${new Date().toISOString().replaceAll(':', '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`Figures written to ${path.relative(process.cwd(), file)}`);
}

function printWorkflows(figures: WorkflowFigures): void {
  console.log(
    `  ${figures.dialect}: ${format(figures.requests, 0)} requests, ${figures.concurrency} concurrent calls: created ${format(figures.createdPerSecond, 0)}/s, decided ${format(figures.decidedPerSecond, 0)}/s, executed ${format(figures.executedPerSecond, 0)}/s; automatic approval end to end ${format(figures.endToEndPerSecond, 0)}/s; bad signatures ${figures.badSignatures}`,
  );
}

function printShell(figures: ShellFigures): void {
  for (const [who, summary] of Object.entries(figures.configuration)) {
    const met = summary.p99 < TARGET_SHELL_CONFIG_MS;
    console.log(
      `  ${who}: p50 ${format(summary.p50, 3)} ms, p99 ${format(summary.p99, 3)} ms, target < ${TARGET_SHELL_CONFIG_MS} ms: ${verdict(met)}`,
    );
  }
  if (figures.firstView) {
    const met = figures.firstView.p50 < TARGET_FIRST_VIEW_MS;
    console.log(
      `  first micro frontend rendered: p50 ${format(figures.firstView.p50, 0)} ms, p99 ${format(figures.firstView.p99, 0)} ms over ${figures.firstView.samples} loads, target p50 < ${TARGET_FIRST_VIEW_MS} ms: ${verdict(met)}`,
    );
  } else {
    console.log(`  first micro frontend rendered: no figure (${figures.firstViewSkipped})`);
  }
}

function printIdentity(figures: IdentityFigures): void {
  const { signIns, authenticate, http } = figures;
  const latency = (summary: { p50: number; p99: number }) =>
    `p50 ${format(summary.p50, 2)} ms, p99 ${format(summary.p99, 2)} ms`;
  console.log(
    `  ${figures.dialect}: ${format(signIns.sequential.perSecond, 0)} sign-ins/s one at a time (${latency(signIns.sequential.latency)}), ${format(signIns.concurrent.perSecond, 0)} sign-ins/s with ${signIns.concurrent.concurrency} at once`,
  );
  console.log(
    `    resolving the principal (identity.authenticate in process): session cookie ${latency(authenticate.session)}; bearer token ${latency(authenticate.bearerCached)}, at its first use ${latency(authenticate.bearerFirstUse)}`,
  );
  console.log(
    `    GET /api/auth/me over HTTP: session ${latency(http.session)}, bearer ${latency(http.bearer)}; a public page without authentication ${latency(http.publicPage)}`,
  );
}

function printPermissions(figures: PermissionFigures, listPage: ListPageResult[]): void {
  const { agreement } = figures;
  console.log(
    `  ${format(figures.requests, 0)} generated requests, the same for every engine (setup ${format(figures.setupSeconds)} s)`,
  );
  for (const engine of figures.engines) {
    console.log(`  ${engine.engine}: ${format(engine.perSecond, 0)} decisions/s`);
  }

  const [here, ...others] = figures.engines;
  const fastest = others.reduce((best, engine) =>
    engine.perSecond > best.perSecond ? engine : best,
  );
  if (here) {
    const ratio = here.perSecond / fastest.perSecond;
    console.log(
      `  Ratio to the faster other engine (${fastest.engine}): ${format(ratio)}×, target ≥ ${TARGET_PERMISSION_RATIO}×: ${verdict(ratio >= TARGET_PERMISSION_RATIO)}`,
    );
  }
  for (const note of figures.notes) {
    console.log(`  ${note}`);
  }

  console.log(
    `  Agreement on ${format(agreement.sample, 0)} requests: Cedar differs on ${agreement.cedarDisagreements}; casbin differs on ${agreement.casbinDisagreements}, ${agreement.casbinExplained} of them where a grant with conditions applies (casbin's RBAC model has none); ${format(agreement.sameSemantics, 0)} requests have no condition in play`,
  );
  for (const example of agreement.examples) {
    console.log(
      `    ${example.engine}: ${example.user} ${example.permission}${example.resource ? ` ${example.resource}` : ''}: this engine ${example.expected ? 'allows' : 'denies'}, ${example.engine} ${example.actual ? 'allows' : 'denies'} (${example.reason})`,
    );
  }

  const stored = listPage.length > 0 ? { file: 'this run', pages: listPage } : latestListPage();
  const sqlite = stored?.pages.find((result) => result.dialect === 'sqlite');
  if (!stored || !sqlite) {
    console.log(
      '  List page on the same organisation: no figure yet; run `node --import tsx bench/run.ts list-page` first',
    );
    return;
  }
  for (const page of sqlite.pages) {
    console.log(
      `  List page (sqlite, from ${stored.file}): ${page.name}: p50 ${format(page.latency.p50)} ms, p99 ${format(page.latency.p99)} ms`,
    );
  }
}

function printAudit(figures: AuditFigures): void {
  const sqlite = figures.dialect === 'sqlite';
  const appendTarget = (perSecond: number) =>
    sqlite
      ? `, target ≥ ${format(TARGET_AUDIT_APPENDS_PER_SECOND, 0)}: ${verdict(perSecond >= TARGET_AUDIT_APPENDS_PER_SECOND)}`
      : '';
  console.log(
    `  ${figures.dialect}: ${format(figures.appendsPerSecond, 0)} appends/s, one record per transaction${appendTarget(figures.appendsPerSecond)}`,
  );
  console.log(
    `  ${figures.dialect}: ${format(figures.appendsWithActionPerSecond, 0)} appends/s inside a transaction that also inserts a row${appendTarget(figures.appendsWithActionPerSecond)}`,
  );
  if (figures.verify) {
    const { records, seconds, cpuSeconds, ok } = figures.verify;
    console.log(
      `  ${figures.dialect}: audit verify over ${format(records, 0)} records: ${format(seconds)} s, ${format(cpuSeconds)} s of CPU in this process (${ok ? 'passed' : 'FAILED'}), target < ${TARGET_AUDIT_VERIFY_SECONDS} s: ${verdict(ok && seconds < TARGET_AUDIT_VERIFY_SECONDS)}`,
    );
  }
}

/** Reads the list-page figures of the newest results file that has them, for a run of `permissions` alone. */
function latestListPage(): { file: string; pages: ListPageResult[] } | undefined {
  let files: string[];
  try {
    files = readdirSync(RESULTS).filter((name) => /^bench-.*\.json$/.test(name));
  } catch {
    return undefined;
  }
  for (const name of files.sort().reverse()) {
    const file = path.join(RESULTS, name);
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as { listPage?: ListPageResult[] };
      if (stored.listPage && stored.listPage.length > 0) {
        return { file: path.relative(process.cwd(), file), pages: stored.listPage };
      }
    } catch (error) {
      console.log(`  Skipped ${name}: ${(error as Error).message}`);
    }
  }
  return undefined;
}

await main();
