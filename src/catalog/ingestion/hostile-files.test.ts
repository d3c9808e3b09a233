import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { type DialectContext, describeEachDialect } from '../../../test/support/databases.js';
import type { CatalogConfig, CatalogLocationConfig } from '../../config/index.js';
import { migrateToLatest } from '../../database/index.js';
import { createLogger } from '../../logging.js';
import { catalogMigrations } from '../migrations.js';
import type { CatalogTables } from '../tables.js';
import { type CatalogIngestion, createCatalogIngestion } from './index.js';

/**
 * Catalog files written to harm the server or to gain access: entities of
 * kinds only trusted locations may define, targets that leave the config
 * folder, files that break between refreshes, NUL characters, special files,
 * oversized files and other encodings. Each runs on both databases, because
 * what a refresh stores, and what PostgreSQL rejects, is the point.
 */

const component = (name: string, spec = '') => `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ${name} }
spec: { type: service, lifecycle: production, owner: team-x${spec} }
`;

const location = (name: string, targets: string[]) => `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: { name: ${name} }
spec:
  targets: [${targets.map((target) => `'${target}'`).join(', ')}]
`;

const ORG = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: admins }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: mallory }
spec: { memberOf: [admins] }
`;

/** Text a file outside the config folder holds, which no fault may show. */
const SECRET = 'TOPSECRET-4f1c';

function writeFiles(folder: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
    writeFileSync(path.join(folder, name), content);
  }
}

function locations(
  targets: string[],
  extra: Partial<CatalogLocationConfig> = {},
): CatalogLocationConfig[] {
  return targets.map((target) => ({ type: 'file' as const, target, ...extra }));
}

function config(entries: CatalogLocationConfig[], extra: Partial<CatalogConfig> = {}) {
  return { locations: entries, refresh: { intervalSeconds: 0, watch: false }, ...extra };
}

describeEachDialect('catalog ingestion of hostile files', (context: DialectContext) => {
  const ingestions: CatalogIngestion[] = [];
  const folders: string[] = [];
  let migrated = false;

  async function start(catalogConfig: CatalogConfig): Promise<CatalogIngestion> {
    if (!migrated) {
      await migrateToLatest(context.handle(), [catalogMigrations]);
      migrated = true;
    }
    const ingestion = createCatalogIngestion({
      database: context.handle(),
      config: catalogConfig,
      logger: createLogger({ level: 'silent' }),
    });
    ingestions.push(ingestion);
    return ingestion;
  }

  function folderWith(files: Record<string, string | Buffer>): string {
    const folder = mkdtempSync(path.join(tmpdir(), 'catalog-hostile-'));
    folders.push(folder);
    writeFiles(folder, files);
    return folder;
  }

  const db = () => context.handle().db as Kysely<CatalogTables>;
  const refs = async () =>
    (
      await db().selectFrom('catalog_entities').select('entity_ref').orderBy('entity_ref').execute()
    ).map((row) => row.entity_ref);
  const entityRow = async (ref: string) =>
    await db()
      .selectFrom('catalog_entities')
      .select(['uid', 'etag', 'file', 'location_id'])
      .where('entity_ref', '=', ref)
      .executeTakeFirst();
  const faults = async () =>
    (await db().selectFrom('catalog_errors').selectAll().orderBy('id').execute()).filter(
      (row) => row.code !== 'dangling-reference',
    );

  test.after(async () => {
    for (const ingestion of ingestions) {
      await ingestion.stop();
    }
    for (const folder of folders) {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('rejects User and Group from a location without rules', async () => {
    const folder = folderWith({ 'catalog-info.yaml': `${ORG}---\n${component('svc-a')}` });
    const file = path.join(folder, 'catalog-info.yaml');
    await (await start(config(locations([file])))).refreshAll();

    assert.deepEqual(await refs(), ['component:default/svc-a']);
    const denied = await faults();
    assert.deepEqual(
      denied.map((row) => `${row.code} ${row.entity_ref} ${row.file}`),
      [
        `kind-not-allowed group:default/admins ${file}`,
        `kind-not-allowed user:default/mallory ${file}`,
      ],
    );
    assert.match(denied[1]?.message ?? '', /^kind 'User' is not allowed in /);
    assert.match(denied[1]?.message ?? '', new RegExp(`to config location ${file} in app-config`));
  });

  test('applies the rules of the root to Location children', async () => {
    const folder = folderWith({
      'trusted/all.yaml': location('trusted', ['./org.yaml']),
      'trusted/org.yaml': ORG,
      'untrusted/all.yaml': location('untrusted', ['./people.yaml']),
      'untrusted/people.yaml': ORG.replaceAll('admins', 'owners').replace('mallory', 'eve'),
    });
    await (
      await start(
        config([
          ...locations([path.join(folder, 'trusted/all.yaml')], {
            rules: [{ allow: ['User', 'Group'] }],
          }),
          ...locations([path.join(folder, 'untrusted/all.yaml')]),
        ]),
      )
    ).refreshAll();

    assert.deepEqual(await refs(), [
      'group:default/admins',
      'location:default/trusted',
      'location:default/untrusted',
      'user:default/mallory',
    ]);
    assert.deepEqual(
      (await faults()).map((row) => `${row.code} ${row.entity_ref}`),
      ['kind-not-allowed group:default/owners', 'kind-not-allowed user:default/eve'],
    );
  });

  test('keeps Location targets inside the config folder', async () => {
    const outside = folderWith({
      'secret.yaml': `${component('secret-svc')}# ${SECRET}\n`,
      'passwd.yaml': `root:x:0:0:${SECRET}:/root:/bin/bash\n`,
    });
    const folder = folderWith({
      'root/all.yaml': location('root', [
        './ok.yaml',
        '../outside.yaml',
        path.join(outside, 'secret.yaml'),
        './link.yaml',
        './linked/*.yaml',
        './passwd.yaml',
      ]),
      'root/ok.yaml': component('svc-ok'),
      'outside.yaml': component('outside-svc'),
    });
    symlinkSync(path.join(outside, 'secret.yaml'), path.join(folder, 'root/link.yaml'));
    symlinkSync(outside, path.join(folder, 'root/linked'));
    symlinkSync(path.join(outside, 'passwd.yaml'), path.join(folder, 'root/passwd.yaml'));
    await (await start(config(locations([path.join(folder, 'root/all.yaml')])))).refreshAll();

    assert.deepEqual(await refs(), ['component:default/svc-ok', 'location:default/root']);
    const rows = await faults();
    // Two targets leave the folder as written, and four files through links.
    assert.deepEqual(
      rows
        .map((row) => `${row.code} ${row.entity_ref} ${row.field ?? path.basename(row.file ?? '')}`)
        .sort(),
      [
        'location-outside-folder location:default/root link.yaml',
        'location-outside-folder location:default/root passwd.yaml',
        'location-outside-folder location:default/root passwd.yaml',
        'location-outside-folder location:default/root secret.yaml',
        'location-outside-folder location:default/root spec.targets[1]',
        'location-outside-folder location:default/root spec.targets[2]',
      ],
    );
    for (const row of rows) {
      assert.ok(!row.message.includes(SECRET), row.message);
      assert.match(row.message, /outside the folder/);
    }
  });

  const breakages: ReadonlyArray<[string, (file: string) => void]> = [
    ['invalid YAML', (file) => writeFileSync(file, `${component('svc-x')}  bad: [\n`)],
    ['invalid UTF-8', (file) => writeFileSync(file, Buffer.from(component('svc-é'), 'latin1'))],
    [
      'a FIFO',
      (file) => {
        unlinkSync(file);
        execFileSync('mkfifo', [file]);
      },
    ],
    ['a missing file', (file) => unlinkSync(file)],
    [
      'an oversized file',
      (file) => writeFileSync(file, `${component('svc-x')}#${'x'.repeat(600)}\n`),
    ],
  ];
  for (const [name, breakFile] of breakages) {
    test(`keeps the entities of a file that became ${name}`, { timeout: 20_000 }, async () => {
      const folder = folderWith({
        'a.yaml': `${component('svc-x')}---\n${component('svc-y')}`,
        'b.yaml': component('svc-x', ', system: takeover'),
      });
      const [a, b] = [path.join(folder, 'a.yaml'), path.join(folder, 'b.yaml')];
      const ingestion = await start(
        config(locations([a, b]), { limits: { maxFileBytes: 500, maxPlaceholderFileBytes: 500 } }),
      );
      await ingestion.refreshAll();
      const before = await entityRow('component:default/svc-x');
      assert.equal(before?.file, a);

      breakFile(a);
      await ingestion.refreshAll();

      assert.deepEqual(await refs(), ['component:default/svc-x', 'component:default/svc-y']);
      assert.deepEqual(await entityRow('component:default/svc-x'), before);
      const rows = await faults();
      assert.ok(
        rows.some((row) => row.file === a && row.severity === 'error'),
        'the fault of the broken file is reported',
      );
      assert.ok(
        rows.some((row) => row.code === 'entity-conflict' && row.file === b),
        'the other location still may not take svc-x',
      );

      // Only a file that parses and no longer contains svc-x lets it go.
      rmSync(a, { force: true });
      writeFileSync(a, component('svc-y'));
      await ingestion.refreshAll();
      assert.equal((await entityRow('component:default/svc-x'))?.file, b);
    });
  }

  test('keeps the children of a Location whose file broke', async () => {
    const folder = folderWith({
      'root.yaml': location('root', ['./child.yaml']),
      'child.yaml': component('svc-child'),
    });
    const ingestion = await start(config(locations([path.join(folder, 'root.yaml')])));
    await ingestion.refreshAll();

    writeFileSync(path.join(folder, 'root.yaml'), 'kind: Location\nspec: [\n');
    writeFileSync(path.join(folder, 'child.yaml'), component('svc-child', ', system: new'));
    await ingestion.refreshAll();

    assert.deepEqual(await refs(), ['component:default/svc-child', 'location:default/root']);
    const targets = (await db().selectFrom('catalog_locations').select('target').execute())
      .map((row) => path.basename(row.target))
      .sort();
    assert.deepEqual(targets, ['child.yaml', 'root.yaml']);
    const body = await db()
      .selectFrom('catalog_entities')
      .select('body')
      .where('entity_ref', '=', 'component:default/svc-child')
      .executeTakeFirstOrThrow();
    assert.equal(JSON.parse(body.body).spec.system, 'new', 'the child was still refreshed');
  });

  test('rejects a NUL character per entity', async () => {
    const folder = folderWith({
      'a.yaml': `${component('svc-a').replace('metadata: { name: svc-a }', 'metadata: { name: svc-a, description: "a\\0b" }')}---\n${component('svc-b')}`,
      'b.yaml': component('svc-c', ', system: "sys\\x00tem"'),
    });
    await (await start(config(locations([path.join(folder, '*.yaml')])))).refreshAll();

    assert.deepEqual(await refs(), ['component:default/svc-b']);
    assert.deepEqual(
      (await faults()).map((row) => `${row.code} ${row.field} ${row.doc_index}`),
      ['entity-invalid metadata.description 0', 'entity-invalid spec.system 0'],
    );
  });

  test('stores the files beside an alias bomb', async () => {
    const levels = ['  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let level = 1; level < 10; level++) {
      levels.push(
        `  a${level}: &a${level} [${Array(9)
          .fill(`*a${level - 1}`)
          .join(', ')}]`,
      );
    }
    const folder = folderWith({
      'a.yaml': component('svc-a'),
      'bomb.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: lol
${levels.join('\n')}
spec: { type: service, lifecycle: production, owner: team-x }
`,
    });
    const started = performance.now();
    await (await start(config(locations([path.join(folder, '*.yaml')])))).refreshAll();

    assert.ok(performance.now() - started < 5000, 'the refresh finished within 5 s');
    assert.deepEqual(await refs(), ['component:default/svc-a']);
    const rows = await faults();
    assert.deepEqual(
      rows.map((row) => `${row.code} ${path.basename(row.file ?? '')}`),
      ['yaml-invalid bomb.yaml'],
    );
    assert.match(rows[0]?.message ?? '', /more than 100 times/);
  });

  test('reads no FIFO that a glob or a placeholder names', { timeout: 20_000 }, async () => {
    const folder = folderWith({
      'a.yaml': component('svc-a'),
      'b.yaml': component('svc-b', ', extra: { $text: ./pipe.yaml }'),
    });
    execFileSync('mkfifo', [path.join(folder, 'pipe.yaml')]);
    await (await start(config(locations([path.join(folder, '*.yaml')])))).refreshAll();

    assert.deepEqual(await refs(), ['component:default/svc-a']);
    const rows = await faults();
    assert.deepEqual(
      rows.map((row) => `${row.code} ${path.basename(row.file ?? '')} ${row.field}`),
      ['placeholder-failed b.yaml spec.extra'],
    );
    assert.match(rows[0]?.message ?? '', /is a FIFO \(named pipe\), not a regular file/);
  });

  test('applies the configured size limits per file', async () => {
    const folder = folderWith({
      'big.yaml': `${component('svc-big')}#${'x'.repeat(400)}\n`,
      'small.yaml': `${component('svc-small')}---\n${component('svc-spec', ', extra: { $text: ./spec.txt }')}`,
      'spec.txt': 'y'.repeat(100),
    });
    await (
      await start(
        config(locations([path.join(folder, '*.yaml')]), {
          limits: { maxFileBytes: 400, maxPlaceholderFileBytes: 99 },
        }),
      )
    ).refreshAll();

    assert.deepEqual(await refs(), ['component:default/svc-small']);
    const rows = await faults();
    assert.deepEqual(
      rows.map((row) => `${row.code} ${path.basename(row.file ?? '')}`),
      ['file-too-large big.yaml', 'placeholder-failed small.yaml'],
    );
    assert.match(rows[0]?.message ?? '', /catalog\.limits\.maxFileBytes/);
    assert.match(rows[1]?.message ?? '', /catalog\.limits\.maxPlaceholderFileBytes/);
  });

  test('reads BOM and CRLF and reports UTF-16', async () => {
    const crlf = `\ufeff${component('svc-crlf')}---\n${component('svc-crlf-2')}`.replaceAll(
      '\n',
      '\r\n',
    );
    const folder = folderWith({
      'crlf.yaml': crlf,
      'wide.yaml': Buffer.from(`\ufeff${component('svc-wide')}`, 'utf16le'),
    });
    await (await start(config(locations([path.join(folder, '*.yaml')])))).refreshAll();

    assert.deepEqual(await refs(), ['component:default/svc-crlf', 'component:default/svc-crlf-2']);
    const rows = await faults();
    assert.deepEqual(
      rows.map((row) => `${row.code} ${path.basename(row.file ?? '')}`),
      ['file-encoding-invalid wide.yaml'],
    );
    assert.match(rows[0]?.message ?? '', /UTF-16LE/);
  });
});
