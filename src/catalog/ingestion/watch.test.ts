import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { type DialectContext, describeEachDialect } from '../../../test/support/databases.js';
import { migrateToLatest } from '../../database/index.js';
import { catalogMigrations } from '../migrations.js';
import type { CatalogTables } from '../tables.js';
import { IngestionRunner } from './runner.js';
import { createIngestionStore } from './sql-store.js';
import { WATCH_DEBOUNCE_MS } from './watch.js';

const component = (name: string) => `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ${name} }
spec: { type: service, lifecycle: production, owner: team-x }
`;

/** How long a quiet watcher is observed: several debounce periods. */
const QUIET_MS = 1500;

/**
 * CPU time the whole test process may spend while nothing changes, in
 * milliseconds. The idle watcher measured about 1 ms of 1.5 s on two cores,
 * so the limit leaves room for a loaded machine. A refresh loop shows in the
 * count of refreshes.
 */
const IDLE_CPU_MS = 250;

const folders: string[] = [];
after(() => {
  for (const folder of folders) {
    rmSync(folder, { recursive: true, force: true });
  }
});

function temporaryFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'catalog-watch-'));
  folders.push(folder);
  return folder;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeEachDialect('catalog folder watching', (context: DialectContext) => {
  const db = () => context.handle().db as Kysely<CatalogTables>;
  const refs = async () =>
    (await db().selectFrom('catalog_entities').select('entity_ref').execute())
      .map((row) => row.entity_ref)
      .sort();

  /** Starts a watching runner over the glob and counts its location refreshes. */
  async function watchGlob(
    glob: string,
  ): Promise<{ runner: IngestionRunner; refreshes(): number }> {
    await migrateToLatest(context.handle(), [catalogMigrations]);
    let refreshes = 0;
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (
          (JSON.parse(chunk.toString()) as { msg: string }).msg === 'catalog location refreshed'
        ) {
          refreshes += 1;
        }
        done();
      },
    });
    const runner = new IngestionRunner(
      createIngestionStore(context.handle()),
      {
        locations: [{ type: 'file', target: glob }],
        refresh: { intervalSeconds: 0, watch: true },
      },
      pino({ level: 'info' }, stream),
    );
    await runner.refreshAll();
    runner.startBackgroundRefresh();
    return { runner, refreshes: () => refreshes };
  }

  async function waitFor(condition: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await condition())) {
      assert.ok(Date.now() < deadline, 'condition not met within 10 s');
      await sleep(50);
    }
  }

  /** Returns the location refreshes and the CPU milliseconds of a quiet period. */
  async function observeQuiet(
    refreshes: () => number,
  ): Promise<{ refreshes: number; cpuMs: number }> {
    const before = refreshes();
    const cpu = process.cpuUsage();
    await sleep(QUIET_MS);
    const used = process.cpuUsage(cpu);
    return { refreshes: refreshes() - before, cpuMs: (used.user + used.system) / 1000 };
  }

  test('settles after the watched folder is deleted', async (t) => {
    const folder = temporaryFolder();
    mkdirSync(path.join(folder, 'teams'));
    writeFileSync(path.join(folder, 'teams/a.yaml'), component('svc-a'));
    const { runner, refreshes } = await watchGlob(path.join(folder, 'teams/*.yaml'));
    try {
      assert.deepEqual(await refs(), ['component:default/svc-a']);

      rmSync(path.join(folder, 'teams'), { recursive: true });
      await waitFor(async () => (await refs()).length === 0);
      await sleep(WATCH_DEBOUNCE_MS * 2);
      const quiet = await observeQuiet(refreshes);
      t.diagnostic(`${quiet.cpuMs} ms of CPU and ${quiet.refreshes} refreshes in ${QUIET_MS} ms`);

      assert.equal(quiet.refreshes, 0);
      assert.ok(quiet.cpuMs < IDLE_CPU_MS, `${quiet.cpuMs} ms of CPU while idle`);

      // The folder coming back is still seen.
      mkdirSync(path.join(folder, 'teams'));
      writeFileSync(path.join(folder, 'teams/b.yaml'), component('svc-b'));
      await waitFor(async () => (await refs()).includes('component:default/svc-b'));
    } finally {
      await runner.stop();
    }
  });

  test('ignores other changes beside a missing folder', async (t) => {
    const folder = temporaryFolder();
    const { runner, refreshes } = await watchGlob(path.join(folder, 'missing/*.yaml'));
    try {
      const before = refreshes();
      // Such as the database or the logs of the portal written beside the catalog.
      for (let index = 0; index < 10; index++) {
        writeFileSync(path.join(folder, `busy-${index}.log`), `line ${index}\n`);
        await sleep(WATCH_DEBOUNCE_MS / 2);
      }
      const quiet = await observeQuiet(refreshes);
      t.diagnostic(`${quiet.cpuMs} ms of CPU in the last ${QUIET_MS} ms`);

      assert.equal(refreshes() - before, 0);
      assert.ok(quiet.cpuMs < IDLE_CPU_MS, `${quiet.cpuMs} ms of CPU while idle`);

      mkdirSync(path.join(folder, 'missing'));
      writeFileSync(path.join(folder, 'missing/a.yaml'), component('svc-late'));
      await waitFor(async () => (await refs()).includes('component:default/svc-late'));
    } finally {
      await runner.stop();
    }
  });

  test('ignores a log file beside a catalog file', async () => {
    const folder = temporaryFolder();
    const catalogFile = path.join(folder, 'catalog-info.yaml');
    writeFileSync(catalogFile, component('svc-file'));
    const { runner, refreshes } = await watchGlob(catalogFile);
    try {
      const before = refreshes();
      // Such as the portal's own log, written on every refresh.
      for (let index = 0; index < 10; index++) {
        writeFileSync(path.join(folder, 'portal.log'), `line ${index}\n`, { flag: 'a' });
        await sleep(WATCH_DEBOUNCE_MS / 2);
      }
      await observeQuiet(refreshes);

      assert.equal(refreshes() - before, 0);

      writeFileSync(catalogFile, component('svc-renamed'));
      await waitFor(async () => (await refs()).includes('component:default/svc-renamed'));
    } finally {
      await runner.stop();
    }
  });

  test('skips unchanged files of a glob', async () => {
    const folder = temporaryFolder();
    writeFileSync(path.join(folder, 'a.yaml'), component('svc-glob'));
    const { runner, refreshes } = await watchGlob(path.join(folder, '*.yaml'));
    try {
      const before = refreshes();
      for (let index = 0; index < 10; index++) {
        writeFileSync(path.join(folder, 'portal.log'), `line ${index}\n`, { flag: 'a' });
        await sleep(WATCH_DEBOUNCE_MS / 2);
      }
      // Written again with the same content, as a checkout or a formatter may do.
      writeFileSync(path.join(folder, 'a.yaml'), component('svc-glob'));
      await observeQuiet(refreshes);

      assert.equal(refreshes() - before, 0);

      writeFileSync(path.join(folder, 'b.yaml'), component('svc-glob-b'));
      await waitFor(async () => (await refs()).includes('component:default/svc-glob-b'));
    } finally {
      await runner.stop();
    }
  });
});
