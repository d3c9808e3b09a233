import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { describeEachDialect } from '../test/support/databases.js';
import { EXAMPLE_CONFIG, startTestPortal } from '../test/support/portal.js';
import { createCommandRegistry, main } from './cli.js';

test('command registry matches the server', async () => {
  const portal = await startTestPortal();
  try {
    const server = portal.portal.permissions.registry;
    const commands = createCommandRegistry();

    assert.deepEqual(commands.listPermissions(), server.listPermissions());
    assert.deepEqual(
      commands.listRules().map((rule) => `${rule.resourceType}/${rule.name}`),
      server.listRules().map((rule) => `${rule.resourceType}/${rule.name}`),
    );
  } finally {
    await portal.close();
  }
});

describeEachDialect('start on a port in use', (context) => {
  test('leaves running portal data unchanged', async (t) => {
    const running = await startTestPortal({ database: context.database() });
    const folder = mkdtempSync(path.join(tmpdir(), 'portal-second-start-'));
    try {
      const db = running.portal.database.db;
      const readEntityRefs = async () =>
        (
          await sql<{ entity_ref: string }>`
            select entity_ref from catalog_entities order by entity_ref`.execute(db)
        ).rows.map((row) => row.entity_ref);
      const readLocationTargets = async () =>
        (
          await sql<{
            target: string;
          }>`select target from catalog_locations order by target`.execute(db)
        ).rows.map((row) => row.target);
      const readAuditActions = async () =>
        (
          await sql<{ action: string }>`select action from audit_records order by sequence`.execute(
            db,
          )
        ).rows.map((row) => row.action);
      const entitiesBefore = await readEntityRefs();
      const locationsBefore = await readLocationTargets();
      const auditBefore = await readAuditActions();

      const catalogFile = path.join(folder, 'catalog-info.yaml');
      writeFileSync(
        catalogFile,
        'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: second-start\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/platform-team\n',
      );
      const secondConfig = path.join(folder, 'app-config.yaml');
      // JSON is YAML, so the shared database's config is written as it is.
      writeFileSync(
        secondConfig,
        JSON.stringify({
          backend: { listen: running.config.backend.listen },
          database: running.config.database,
          catalog: { locations: [{ type: 'file', target: catalogFile }] },
        }),
      );
      const errors: string[] = [];
      t.mock.method(console, 'error', (message: unknown) => errors.push(String(message)));

      const code = await main([
        'node',
        'backstage-luigi',
        'start',
        '--config',
        EXAMPLE_CONFIG,
        secondConfig,
      ]);
      // main sets the exit code of the process, which would fail this test file.
      process.exitCode = undefined;

      assert.equal(code, 1);
      assert.match(
        errors.join('\n'),
        new RegExp(
          `Port ${running.config.backend.listen.port} on 127\\.0\\.0\\.1 is already in use`,
        ),
      );
      assert.deepEqual(await readEntityRefs(), entitiesBefore);
      assert.deepEqual(await readLocationTargets(), locationsBefore);
      assert.deepEqual(await readAuditActions(), auditBefore);
    } finally {
      await running.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
