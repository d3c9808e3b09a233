import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Kysely } from 'kysely';
import { type DialectContext, describeEachDialect } from '../../../test/support/databases.js';
import type { CatalogConfig } from '../../config/index.js';
import { migrateToLatest } from '../../database/index.js';
import { createLogger } from '../../logging.js';
import { catalogMigrations } from '../migrations.js';
import type { CatalogTables } from '../tables.js';
import { IngestionRunner } from './runner.js';
import { createIngestionStore } from './sql-store.js';
import type { IngestionStore } from './store.js';

const component = (name: string, spec = '') => `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ${name} }
spec: { type: service, lifecycle: production, owner: group:team-x${spec} }
`;

const TEAM = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-x }
spec: { type: team, children: [] }
`;

const folders: string[] = [];
after(() => {
  for (const folder of folders) {
    rmSync(folder, { recursive: true, force: true });
  }
});

describeEachDialect('catalog refresh pass', (context: DialectContext) => {
  const db = () => context.handle().db as Kysely<CatalogTables>;

  /** The dangling-reference warnings as `entity field`, sorted. */
  const dangling = async () =>
    (
      await db()
        .selectFrom('catalog_errors')
        .select(['entity_ref', 'field'])
        .where('code', '=', 'dangling-reference')
        .execute()
    )
      .map((row) => `${row.entity_ref} ${row.field}`)
      .sort();

  /**
   * Creates a runner whose store records the dangling warnings that readers
   * see after each committed transaction.
   */
  async function observedRunner(
    catalogConfig: CatalogConfig,
  ): Promise<{ runner: IngestionRunner; seen: string[][] }> {
    await migrateToLatest(context.handle(), [catalogMigrations]);
    const store = createIngestionStore(context.handle());
    const seen: string[][] = [];
    const observed: IngestionStore = {
      ...store,
      transaction: async (work, options) => {
        const result = await store.transaction(work, options);
        seen.push(await dangling());
        return result;
      },
    };
    const runner = new IngestionRunner(observed, catalogConfig, createLogger({ level: 'silent' }));
    return { runner, seen };
  }

  test('reports no reference to a location the pass has not reached', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'refresh-pass-'));
    folders.push(folder);
    writeFileSync(
      path.join(folder, 'a.yaml'),
      component('svc-a', ', dependsOn: [component:svc-b, component:svc-missing]'),
    );
    writeFileSync(path.join(folder, 'b.yaml'), component('svc-b'));
    writeFileSync(path.join(folder, 'team.yaml'), TEAM);
    const target = (name: string) => ({ type: 'file' as const, target: path.join(folder, name) });
    const { runner, seen } = await observedRunner({
      locations: [
        target('a.yaml'),
        target('b.yaml'),
        { ...target('team.yaml'), rules: [{ allow: ['Group'] }] },
      ],
      refresh: { intervalSeconds: 0, watch: false },
    });

    try {
      await runner.refreshAll();
      assert.ok(seen.length >= 3, 'a transaction per location');
      for (const [index, warnings] of seen.entries()) {
        assert.ok(
          warnings.every((warning) => warning === 'component:default/svc-a spec.dependsOn[1]'),
          `transaction ${index} showed ${warnings.join(', ')}`,
        );
      }
      assert.deepEqual(await dangling(), ['component:default/svc-a spec.dependsOn[1]']);

      // svc-b goes away after svc-a's location was refreshed in the same pass.
      seen.length = 0;
      writeFileSync(path.join(folder, 'b.yaml'), component('svc-c'));
      await runner.refreshAll();

      assert.deepEqual(await dangling(), [
        'component:default/svc-a spec.dependsOn[0]',
        'component:default/svc-a spec.dependsOn[1]',
      ]);
      for (const [index, warnings] of seen.slice(0, -1).entries()) {
        assert.deepEqual(
          warnings,
          ['component:default/svc-a spec.dependsOn[1]'],
          `transaction ${index} shows the warnings of the previous pass`,
        );
      }
    } finally {
      await runner.stop();
    }
  });
});
