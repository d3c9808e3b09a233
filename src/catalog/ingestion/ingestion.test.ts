import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Kysely, sql } from 'kysely';
import { parseAllDocuments } from 'yaml';
import { type DialectContext, describeEachDialect } from '../../../test/support/databases.js';
import type { CatalogConfig } from '../../config/index.js';
import { migrateToLatest } from '../../database/index.js';
import { createLogger } from '../../logging.js';
import { catalogMigrations } from '../migrations.js';
import { deriveRelations, type RelationSource } from '../relations.js';
import type { CatalogTables } from '../tables.js';
import { type CatalogIngestion, createCatalogIngestion } from './index.js';

const ALL_KINDS = fileURLToPath(
  new URL('../../../test/fixtures/catalog/relations/all-kinds.yaml', import.meta.url),
);

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

function createFolder(files: Record<string, string>): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'catalog-ingest-'));
  writeFiles(folder, files);
  return folder;
}

function writeFiles(folder: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
    writeFileSync(path.join(folder, name), text);
  }
}

function config(targets: string[], extra: Partial<CatalogConfig> = {}): CatalogConfig {
  return {
    locations: targets.map((target) => ({ type: 'file' as const, target })),
    refresh: { intervalSeconds: 0, watch: false },
    ...extra,
  };
}

/** Builds a config whose locations are trusted with User and Group entities. */
function trustedConfig(targets: string[]): CatalogConfig {
  return {
    locations: targets.map((target) => ({
      type: 'file' as const,
      target,
      rules: [{ allow: ['User', 'Group'] }],
    })),
    refresh: { intervalSeconds: 0, watch: false },
  };
}

describeEachDialect('catalog ingestion', (context: DialectContext) => {
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

  function folderWith(files: Record<string, string>): string {
    const folder = createFolder(files);
    folders.push(folder);
    return folder;
  }

  const db = () => context.handle().db as Kysely<CatalogTables>;
  const refs = async () =>
    (
      await db().selectFrom('catalog_entities').select('entity_ref').orderBy('entity_ref').execute()
    ).map((row) => row.entity_ref);
  const errors = async () =>
    await db().selectFrom('catalog_errors').selectAll().orderBy('id').execute();
  const relationsFrom = async (originating: string) =>
    (
      await db()
        .selectFrom('catalog_relations as r')
        .innerJoin('catalog_entities as e', 'e.id', 'r.originating_id')
        .select(['r.source_ref', 'r.type', 'r.target_ref'])
        .where('e.entity_ref', '=', originating)
        .execute()
    )
      .map((row) => `${row.source_ref} ${row.type} ${row.target_ref}`)
      .sort();

  test.after(async () => {
    for (const ingestion of ingestions) {
      await ingestion.stop();
    }
    for (const folder of folders) {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('stores relations of every kind in both directions', async () => {
    await (await start(trustedConfig([ALL_KINDS]))).refreshAll();
    const sources = parseAllDocuments(readFileSync(ALL_KINDS, 'utf8')).map(
      (document) => document.toJS() as RelationSource,
    );

    assert.equal((await refs()).length, sources.length);
    for (const source of sources) {
      const ref = `${source.kind.toLowerCase()}:${source.metadata.namespace}/${source.metadata.name}`;
      const expected = [
        ...new Set(
          deriveRelations(source).relations.map(
            (relation) => `${relation.sourceRef} ${relation.type} ${relation.targetRef}`,
          ),
        ),
      ].sort();
      assert.ok(expected.length >= 2, ref);
      assert.deepEqual(await relationsFrom(ref), expected, ref);
    }
  });

  test('stores the body with namespace, uid, etag and annotations', async () => {
    const folder = folderWith({ 'a.yaml': component('svc-a') });
    const file = path.join(folder, 'a.yaml');
    const ingestion = await start(config([file]));
    await ingestion.refreshAll();

    const row = await db()
      .selectFrom('catalog_entities')
      .selectAll()
      .where('entity_ref', '=', 'component:default/svc-a')
      .executeTakeFirstOrThrow();
    const body = JSON.parse(row.body);
    assert.equal(body.relations, undefined);
    assert.equal(body.metadata.namespace, 'default');
    assert.equal(body.metadata.uid, row.uid);
    assert.equal(body.metadata.etag, row.etag);
    assert.equal(body.metadata.annotations['backstage.io/managed-by-location'], `file:${file}`);
    assert.equal(
      body.metadata.annotations['backstage.io/managed-by-origin-location'],
      `file:${file}`,
    );
    assert.equal(row.file, file);
    assert.equal(row.doc_index, 0);

    writeFiles(folder, { 'a.yaml': component('svc-a', ', system: shop') });
    await ingestion.refreshAll();
    const changed = await db()
      .selectFrom('catalog_entities')
      .selectAll()
      .where('entity_ref', '=', 'component:default/svc-a')
      .executeTakeFirstOrThrow();
    assert.equal(changed.uid, row.uid);
    assert.notEqual(changed.etag, row.etag);
    assert.equal(changed.created_at, row.created_at);
  });

  test('writes search rows as Backstage does', async () => {
    const long = 'x'.repeat(201);
    const folder = folderWith({
      'a.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: Svc-A
  tags: [java, web]
  description: ${long}
spec: { type: service, lifecycle: production, owner: Team-X, consumesApis: [Payments] }
`,
    });
    await (await start(config([path.join(folder, 'a.yaml')]))).refreshAll();

    const rows = await db()
      .selectFrom('catalog_search as s')
      .innerJoin('catalog_entities as e', 'e.id', 's.entity_id')
      .select(['s.key', 's.value'])
      .where('e.entity_ref', '=', 'component:default/svc-a')
      .execute();
    const values = (key: string) =>
      rows
        .filter((row) => row.key === key)
        .map((row) => row.value)
        .sort();
    assert.deepEqual(values('kind'), ['component']);
    assert.deepEqual(values('metadata.name'), ['svc-a']);
    assert.deepEqual(values('metadata.namespace'), ['default']);
    assert.deepEqual(values('metadata.tags'), ['java', 'web']);
    assert.deepEqual(values('metadata.tags.java'), ['true']);
    assert.deepEqual(values('metadata.description'), [null]);
    assert.deepEqual(values('spec.owner'), ['team-x']);
    assert.deepEqual(values('spec.consumesapis'), ['payments']);
    assert.deepEqual(values('spec.consumesapis.payments'), ['true']);
    assert.equal(values('metadata.uid').length, 1);
    assert.equal(
      rows.some((row) => row.key.startsWith('relations.')),
      false,
    );
    assert.deepEqual(values('metadata.annotations.backstage.io/managed-by-location'), [
      `file:${path.join(folder, 'a.yaml')}`.toLowerCase(),
    ]);
  });

  test('removes an entity deleted from its file', async () => {
    const folder = folderWith({
      'a.yaml': `${component('svc-a', ', dependsOn: [component:svc-b]')}---\n${component('svc-b')}`,
    });
    const ingestion = await start(config([path.join(folder, 'a.yaml')]));
    await ingestion.refreshAll();
    assert.deepEqual(await refs(), ['component:default/svc-a', 'component:default/svc-b']);

    writeFiles(folder, { 'a.yaml': component('svc-a') });
    await ingestion.refreshAll();
    assert.deepEqual(await refs(), ['component:default/svc-a']);
    assert.deepEqual(await relationsFrom('component:default/svc-b'), []);
    assert.deepEqual(await relationsFrom('component:default/svc-a'), [
      'component:default/svc-a ownedBy group:default/team-x',
      'group:default/team-x ownerOf component:default/svc-a',
    ]);
  });

  test('keeps uid and creation time of an entity that moved', async () => {
    const folder = folderWith({
      'a.yaml': `${component('svc-a', ', dependsOn: [component:svc-b]')}---\n${component('svc-b')}`,
      'b.yaml': component('svc-c'),
    });
    const ingestion = await start(config([path.join(folder, '*.yaml')]));
    await ingestion.refreshAll();
    const row = async (ref: string) =>
      await db()
        .selectFrom('catalog_entities')
        .select(['uid', 'created_at', 'file', 'doc_index'])
        .where('entity_ref', '=', ref)
        .executeTakeFirstOrThrow();
    const before = await row('component:default/svc-a');

    // svc-a moves to the other file, after svc-c, and svc-b takes its place.
    writeFiles(folder, {
      'a.yaml': component('svc-b'),
      'b.yaml': `${component('svc-c')}---\n${component('svc-a', ', dependsOn: [component:svc-b]')}`,
    });
    await ingestion.refreshAll();

    const after = await row('component:default/svc-a');
    assert.equal(after.uid, before.uid);
    assert.equal(after.created_at, before.created_at);
    assert.equal(after.file, path.join(folder, 'b.yaml'));
    assert.equal(after.doc_index, 1);
    assert.deepEqual(await refs(), [
      'component:default/svc-a',
      'component:default/svc-b',
      'component:default/svc-c',
    ]);
    assert.deepEqual(await relationsFrom('component:default/svc-a'), [
      'component:default/svc-a dependsOn component:default/svc-b',
      'component:default/svc-a ownedBy group:default/team-x',
      'component:default/svc-b dependencyOf component:default/svc-a',
      'group:default/team-x ownerOf component:default/svc-a',
    ]);
  });

  test('replaces an entity that became invalid with its error', async () => {
    const folder = folderWith({ 'a.yaml': `${component('svc-a')}---\n${component('svc-b')}` });
    const ingestion = await start(config([path.join(folder, 'a.yaml')]));
    await ingestion.refreshAll();

    writeFiles(folder, {
      'a.yaml': `${component('svc-a').replace('lifecycle: production, ', '')}---\n${component('svc-b')}`,
    });
    await ingestion.refreshAll();
    assert.deepEqual(await refs(), ['component:default/svc-b']);
    const faults = (await errors()).filter((row) => row.severity === 'error');
    assert.equal(faults.length, 1);
    assert.equal(faults[0]?.entity_ref, 'component:default/svc-a');
    assert.equal(faults[0]?.field, 'spec.lifecycle');
    assert.equal(faults[0]?.file, path.join(folder, 'a.yaml'));
    assert.equal(faults[0]?.line, 4);
    assert.equal(faults[0]?.doc_index, 0);
  });

  test('keeps the previous state when a write fails', async () => {
    const folder = folderWith({ 'a.yaml': `${component('svc-a')}---\n${component('svc-b')}` });
    const ingestion = await start(config([path.join(folder, 'a.yaml')]));
    await ingestion.refreshAll();
    const before = {
      refs: await refs(),
      relations: await relationsFrom('component:default/svc-a'),
      errors: await errors(),
    };

    // A trigger makes the search insert of one new entity fail halfway through the refresh.
    if (context.dialect === 'sqlite') {
      await sql`create trigger fail_boom before insert on catalog_search
        when new.entity_ref = 'component:default/boom'
        begin select raise(abort, 'injected failure'); end`.execute(db());
    } else {
      await sql`create function fail_boom() returns trigger language plpgsql as $$
        begin
          if new.entity_ref = 'component:default/boom' then raise exception 'injected failure'; end if;
          return new;
        end $$`.execute(db());
      await sql`create trigger fail_boom before insert on catalog_search
        for each row execute function fail_boom()`.execute(db());
    }
    try {
      writeFiles(folder, {
        'a.yaml': `${component('svc-a', ', system: other')}---\n${component('svc-c')}---\n${component('boom', ', dependsOn: [component:boom]')}`,
      });
      await ingestion.refreshAll();

      assert.deepEqual(await refs(), before.refs);
      assert.deepEqual(await relationsFrom('component:default/svc-a'), before.relations);
      assert.deepEqual(await errors(), before.errors);
    } finally {
      await sql`drop trigger fail_boom${context.dialect === 'postgres' ? sql` on catalog_search` : sql``}`.execute(
        db(),
      );
      if (context.dialect === 'postgres') {
        await sql`drop function fail_boom()`.execute(db());
      }
    }

    await ingestion.refreshAll();
    assert.deepEqual(await refs(), [
      'component:default/boom',
      'component:default/svc-a',
      'component:default/svc-c',
    ]);
  });

  test('keeps the first location on a conflict', async () => {
    const folder = folderWith({
      'first.yaml': component('svc-a'),
      'second.yaml': component('svc-a'),
    });
    const first = path.join(folder, 'first.yaml');
    const second = path.join(folder, 'second.yaml');
    const ingestion = await start(config([first, second]));
    await ingestion.refreshAll();

    const row = await db()
      .selectFrom('catalog_entities')
      .select('file')
      .where('entity_ref', '=', 'component:default/svc-a')
      .executeTakeFirstOrThrow();
    assert.equal(row.file, first);
    const conflict = (await errors()).find((error) => error.code === 'entity-conflict');
    assert.equal(conflict?.entity_ref, 'component:default/svc-a');
    assert.equal(conflict?.file, second);
    assert.match(conflict?.message ?? '', new RegExp(`location ${first}`));
    assert.match(conflict?.message ?? '', new RegExp(`in ${second}, read by location ${second}`));

    // When the first location lets go, the second one stores it in the same refresh.
    writeFiles(folder, { 'first.yaml': component('svc-z') });
    await ingestion.refreshAll();
    const moved = await db()
      .selectFrom('catalog_entities')
      .select('file')
      .where('entity_ref', '=', 'component:default/svc-a')
      .executeTakeFirstOrThrow();
    assert.equal(moved.file, second);
    assert.equal((await errors()).filter((error) => error.code === 'entity-conflict').length, 0);
  });

  test('C4: an empty glob warns and its sibling target loads', async () => {
    const folder = folderWith({
      'root.yaml': location('root', ['./components/*.yaml', './apis/orders.yaml']),
      'apis/orders.yaml': `apiVersion: backstage.io/v1alpha1
kind: API
metadata: { name: orders }
spec: { type: openapi, lifecycle: production, owner: team-x, definition: x }
`,
    });
    mkdirSync(path.join(folder, 'components'));
    await (await start(config([path.join(folder, 'root.yaml')]))).refreshAll();

    assert.deepEqual(await refs(), ['api:default/orders', 'location:default/root']);
    const faults = (await errors()).filter((error) => error.code !== 'dangling-reference');
    assert.equal(faults.length, 1);
    assert.equal(faults[0]?.severity, 'warning');
    assert.equal(faults[0]?.code, 'location-empty');
    assert.equal(faults[0]?.file, path.join(folder, 'components/*.yaml'));
  });

  test('reports a missing target and keeps the Location', async () => {
    const folder = folderWith({
      'root.yaml': location('root', ['./missing.yaml', './here.yaml']),
      'here.yaml': component('svc-a'),
    });
    await (await start(config([path.join(folder, 'root.yaml')]))).refreshAll();

    assert.deepEqual(await refs(), ['component:default/svc-a', 'location:default/root']);
    const faults = (await errors()).filter((error) => error.severity === 'error');
    assert.equal(faults.length, 1);
    assert.equal(faults[0]?.code, 'location-not-found');
    assert.equal(faults[0]?.entity_ref, 'location:default/root');
    assert.equal(faults[0]?.file, path.join(folder, 'missing.yaml'));
  });

  test('follows Location chains several levels deep', async () => {
    const folder = folderWith({
      'root.yaml': location('root', ['./level1/all.yaml']),
      'level1/all.yaml': location('level1', ['level2/all.yaml']),
      'level1/level2/all.yaml': location('level2', ['./svc.yaml']),
      'level1/level2/svc.yaml': component('svc-a'),
    });
    const root = path.join(folder, 'root.yaml');
    await (await start(config([root]))).refreshAll();

    assert.deepEqual(await refs(), [
      'component:default/svc-a',
      'location:default/level1',
      'location:default/level2',
      'location:default/root',
    ]);
    const body = JSON.parse(
      (
        await db()
          .selectFrom('catalog_entities')
          .select('body')
          .where('entity_ref', '=', 'component:default/svc-a')
          .executeTakeFirstOrThrow()
      ).body,
    );
    assert.equal(
      body.metadata.annotations['backstage.io/managed-by-location'],
      `file:${path.join(folder, 'level1/level2/svc.yaml')}`,
    );
    assert.equal(
      body.metadata.annotations['backstage.io/managed-by-origin-location'],
      `file:${root}`,
    );
  });

  test('stops a Location cycle and reports it', async () => {
    const folder = folderWith({
      'a.yaml': `${location('a', ['./b.yaml'])}---\n${component('svc-a')}`,
      'b.yaml': location('b', ['./a.yaml']),
    });
    await (await start(config([path.join(folder, 'a.yaml')]))).refreshAll();

    assert.deepEqual(await refs(), [
      'component:default/svc-a',
      'location:default/a',
      'location:default/b',
    ]);
    const cycle = (await errors()).filter((error) => error.code === 'location-cycle');
    assert.equal(cycle.length, 1);
    assert.equal(cycle[0]?.entity_ref, 'location:default/b');
    assert.equal(cycle[0]?.field, 'spec.targets[0]');
    assert.match(cycle[0]?.message ?? '', /points back at location/);
  });

  test('removes a child location with its entities', async () => {
    const folder = folderWith({
      'root.yaml': location('root', ['./one.yaml', './two.yaml']),
      'one.yaml': component('svc-one'),
      'two.yaml': component('svc-two'),
    });
    const ingestion = await start(config([path.join(folder, 'root.yaml')]));
    await ingestion.refreshAll();
    assert.deepEqual(await refs(), [
      'component:default/svc-one',
      'component:default/svc-two',
      'location:default/root',
    ]);

    writeFiles(folder, { 'root.yaml': location('root', ['./one.yaml']) });
    await ingestion.refreshAll();
    assert.deepEqual(await refs(), ['component:default/svc-one', 'location:default/root']);
    const targets = (await db().selectFrom('catalog_locations').select('target').execute())
      .map((row) => row.target)
      .sort();
    assert.deepEqual(targets, [path.join(folder, 'one.yaml'), path.join(folder, 'root.yaml')]);
  });

  test('recomputes dangling warnings when targets come and go', async () => {
    const folder = folderWith({
      'a.yaml': component('svc-a', ', dependsOn: [component:svc-b]'),
      'b.yaml': component('svc-c'),
    });
    const ingestion = await start(
      config([path.join(folder, 'a.yaml'), path.join(folder, 'b.yaml')]),
    );
    const dangling = async () =>
      (await errors())
        .filter((error) => error.code === 'dangling-reference')
        .map((error) => `${error.entity_ref} ${error.field} ${error.severity}`)
        .sort();

    await ingestion.refreshAll();
    assert.deepEqual(await dangling(), [
      'component:default/svc-a spec.dependsOn[0] warning',
      'component:default/svc-a spec.owner warning',
      'component:default/svc-c spec.owner warning',
    ]);
    const warning = (await errors()).find((error) => error.field === 'spec.dependsOn[0]');
    assert.match(warning?.message ?? '', /component:default\/svc-b, which is not in the catalog/);

    // The missing entity appears in the other location: the warning of svc-a goes.
    writeFiles(folder, { 'b.yaml': `${component('svc-c')}---\n${component('svc-b')}` });
    await ingestion.refreshAll();
    assert.deepEqual(await dangling(), [
      'component:default/svc-a spec.owner warning',
      'component:default/svc-b spec.owner warning',
      'component:default/svc-c spec.owner warning',
    ]);

    // It disappears again: the warning comes back.
    writeFiles(folder, { 'b.yaml': component('svc-c') });
    await ingestion.refreshAll();
    assert.deepEqual(await dangling(), [
      'component:default/svc-a spec.dependsOn[0] warning',
      'component:default/svc-a spec.owner warning',
      'component:default/svc-c spec.owner warning',
    ]);
  });

  test('C5: stores membership declared on one side only', async () => {
    const folder = folderWith({
      'org.yaml': `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-x }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: user-a }
spec: { memberOf: [team-x] }
`,
    });
    await (await start(trustedConfig([path.join(folder, 'org.yaml')]))).refreshAll();
    const rows = await db()
      .selectFrom('catalog_relations')
      .select(['source_ref', 'type', 'target_ref'])
      .where('type', 'in', ['memberOf', 'hasMember'])
      .execute();
    const got = rows.map((row) => `${row.source_ref} ${row.type} ${row.target_ref}`).sort();
    assert.deepEqual(got, [
      'group:default/team-x hasMember user:default/user-a',
      'user:default/user-a memberOf group:default/team-x',
    ]);
  });

  test('C6: stores the group hierarchy and reports a parent cycle', async () => {
    const folder = folderWith({
      'org.yaml': `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: group-1 }
spec: { type: team, parent: group-a, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: group-a }
spec: { type: department, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: loop-0 }
spec: { type: team, parent: loop-1, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: loop-1 }
spec: { type: team, parent: loop-0, children: [] }
`,
    });
    const ingestion = await start(trustedConfig([path.join(folder, 'org.yaml')]));
    await ingestion.refreshAll();

    const rows = await db()
      .selectFrom('catalog_relations')
      .select(['source_ref', 'type', 'target_ref'])
      .where('type', 'in', ['childOf', 'parentOf'])
      .where('source_ref', 'in', ['group:default/group-1', 'group:default/group-a'])
      .execute();
    assert.deepEqual(rows.map((row) => `${row.source_ref} ${row.type} ${row.target_ref}`).sort(), [
      'group:default/group-1 childOf group:default/group-a',
      'group:default/group-a parentOf group:default/group-1',
    ]);

    const cycles = (await errors()).filter((error) => error.code === 'group-cycle');
    assert.deepEqual(cycles.map((error) => error.entity_ref).sort(), [
      'group:default/loop-0',
      'group:default/loop-1',
    ]);
    assert.equal(cycles[0]?.severity, 'warning');
    assert.match(cycles[0]?.message ?? '', /its own ancestor through childOf/);

    // Breaking the cycle removes the warnings.
    writeFiles(folder, {
      'org.yaml': readFileSync(path.join(folder, 'org.yaml'), 'utf8').replace(
        'parent: loop-0, ',
        '',
      ),
    });
    await ingestion.refreshAll();
    assert.equal((await errors()).filter((error) => error.code === 'group-cycle').length, 0);
  });

  test('applies the rules of the config and of the location', async () => {
    const folder = folderWith({
      'a.yaml': `${component('svc-a')}---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: { name: g }\nspec: { type: team, children: [] }\n`,
      'b.yaml': `apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: { name: h }\nspec: { type: team, children: [] }\n`,
    });
    await (
      await start({
        locations: [
          { type: 'file', target: path.join(folder, 'a.yaml') },
          { type: 'file', target: path.join(folder, 'b.yaml'), rules: [{ allow: ['Group'] }] },
        ],
        rules: [{ allow: ['Component'] }],
        refresh: { intervalSeconds: 0, watch: false },
      })
    ).refreshAll();

    assert.deepEqual(await refs(), ['component:default/svc-a', 'group:default/h']);
    const denied = (await errors()).filter((error) => error.code === 'kind-not-allowed');
    assert.deepEqual(
      denied.map((error) => error.entity_ref),
      ['group:default/g'],
    );
  });

  test('refreshes on the configured interval', async () => {
    const folder = folderWith({ 'a.yaml': component('svc-a') });
    const ingestion = await start(
      config([path.join(folder, 'a.yaml')], { refresh: { intervalSeconds: 1, watch: false } }),
    );
    await ingestion.refreshAll();
    ingestion.startBackgroundRefresh();

    writeFiles(folder, { 'a.yaml': component('svc-b') });
    await waitFor(async () => (await refs()).includes('component:default/svc-b'));
    assert.deepEqual(await refs(), ['component:default/svc-b']);
    await ingestion.stop();
  });

  test('picks up a changed file and a new glob match by watching', async () => {
    const folder = folderWith({
      'root.yaml': location('root', ['./teams/*.yaml']),
      'teams/a.yaml': component('svc-a'),
    });
    const ingestion = await start(
      config([path.join(folder, 'root.yaml')], { refresh: { intervalSeconds: 0, watch: true } }),
    );
    await ingestion.refreshAll();
    ingestion.startBackgroundRefresh();
    assert.deepEqual(await refs(), ['component:default/svc-a', 'location:default/root']);

    writeFiles(folder, { 'teams/a.yaml': component('svc-b') });
    await waitFor(async () => (await refs()).includes('component:default/svc-b'));
    assert.deepEqual(await refs(), ['component:default/svc-b', 'location:default/root']);

    writeFiles(folder, { 'teams/c.yaml': component('svc-c') });
    await waitFor(async () => (await refs()).includes('component:default/svc-c'));

    unlinkSync(path.join(folder, 'teams/a.yaml'));
    await waitFor(async () => !(await refs()).includes('component:default/svc-b'));
    assert.deepEqual(await refs(), ['component:default/svc-c', 'location:default/root']);
    await ingestion.stop();
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`condition not met within ${timeoutMs} ms`);
}
