import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { describeEachDialect } from '../../../test/support/databases.js';
import { migrateToLatest } from '../../database/index.js';
import { catalogMigrations } from '../migrations.js';
import type { CatalogTables } from '../tables.js';
import {
  checkProvidedEntities,
  type EntityProvider,
  type ProvidedEntity,
  writeProvidedEntities,
} from './provided-entities.js';
import { IngestionRunner } from './runner.js';
import { createIngestionStore } from './sql-store.js';
import type { IngestionStore } from './store.js';

const PROVIDER: EntityProvider = { type: 'scim', target: '/scim/v2', kinds: ['User', 'Group'] };
const NOW = '2026-03-01T10:00:00.000Z';

function user(name: string, email = `${name}@example.com`): ProvidedEntity {
  const entity: Entity = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name },
    spec: { profile: { email }, memberOf: [] },
  };
  return { entity, source: `/scim/v2/Users/${name}` };
}

function group(name: string, members: string[]): ProvidedEntity {
  const entity: Entity = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name },
    spec: {
      type: 'team',
      children: [],
      members: members.map((member) => `user:default/${member}`),
    },
  };
  return { entity, source: `/scim/v2/Groups/${name}` };
}

describeEachDialect('provided entities', (context) => {
  let store: IngestionStore;
  let runner: IngestionRunner;
  let folder: string;
  let db: Kysely<CatalogTables>;

  before(async () => {
    await migrateToLatest(context.handle(), [catalogMigrations]);
    db = context.handle().db as Kysely<CatalogTables>;
    store = createIngestionStore(context.handle());
    folder = mkdtempSync(path.join(tmpdir(), 'provided-entities-'));
    const file = path.join(folder, 'org.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: backstage.io/v1alpha1',
        'kind: User',
        'metadata:',
        '  name: grace',
        'spec:',
        '  memberOf: []',
        '---',
        'apiVersion: backstage.io/v1alpha1',
        'kind: Component',
        'metadata:',
        '  name: compiler',
        'spec:',
        '  type: service',
        '  lifecycle: production',
        '  owner: user:default/ada',
        '',
      ].join('\n'),
    );
    runner = new IngestionRunner(
      store,
      {
        locations: [{ type: 'file', target: file, rules: [{ allow: ['User', 'Group'] }] }],
        refresh: { intervalSeconds: 0, watch: false },
      },
      pino({ level: 'silent' }),
    );
    await runner.refreshAll();
  });

  after(async () => {
    await runner?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  test('write stores entities under the provider location', async () => {
    const result = await writeProvidedEntities(
      store,
      PROVIDER,
      { upsert: [user('ada'), group('admins', ['ada'])], remove: [] },
      NOW,
    );
    assert.deepEqual(result.problems, []);
    assert.equal(result.written, 2);

    const row = await db
      .selectFrom('catalog_entities as e')
      .innerJoin('catalog_locations as l', 'l.id', 'e.location_id')
      .select(['e.body', 'e.file', 'l.type', 'l.target'])
      .where('e.entity_ref', '=', 'user:default/ada')
      .executeTakeFirstOrThrow();
    assert.equal(row.type, 'scim');
    assert.equal(row.target, '/scim/v2');
    assert.equal(row.file, '/scim/v2/Users/ada');
    const annotations = (JSON.parse(row.body) as Entity).metadata.annotations ?? {};
    assert.equal(annotations['backstage.io/managed-by-location'], 'scim:/scim/v2/Users/ada');
    assert.equal(annotations['backstage.io/managed-by-origin-location'], 'scim:/scim/v2');

    const membership = await db
      .selectFrom('catalog_relations')
      .select('target_ref')
      .where('source_ref', '=', 'user:default/ada')
      .where('type', '=', 'memberOf')
      .executeTakeFirst();
    assert.equal(membership?.target_ref, 'group:default/admins');
  });

  test('unchanged entities are not written again', async () => {
    const result = await writeProvidedEntities(
      store,
      PROVIDER,
      { upsert: [user('ada'), group('admins', ['ada'])], remove: [] },
      NOW,
    );
    assert.equal(result.written, 0);
  });

  test('a provided user clears dangling references to it', async () => {
    const warnings = await db
      .selectFrom('catalog_errors')
      .select('entity_ref')
      .where('code', '=', 'dangling-reference')
      .execute();
    assert.deepEqual(warnings, []);
  });

  test('check and write report a reference a file stores', async () => {
    const problems = await checkProvidedEntities(store, PROVIDER, [user('grace'), user('hopper')]);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.code, 'entity-conflict');
    assert.equal(problems[0]?.entityRef, 'user:default/grace');
    assert.match(problems[0]?.message ?? '', /already stored from catalog location .*org\.yaml/);

    const result = await writeProvidedEntities(
      store,
      PROVIDER,
      { upsert: [user('grace')], remove: [] },
      NOW,
    );
    assert.equal(result.written, 0);
    assert.equal(result.problems[0]?.code, 'entity-conflict');
  });

  test('kinds outside the provider are rejected', async () => {
    const component: ProvidedEntity = {
      entity: {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'sneaky' },
        spec: { type: 'service', lifecycle: 'production', owner: 'ada' },
      },
      source: '/scim/v2/Other/sneaky',
    };
    const problems = await checkProvidedEntities(store, PROVIDER, [component]);
    assert.equal(problems[0]?.code, 'kind-not-allowed');
  });

  test('refresh of file locations keeps the provider root', async () => {
    await runner.refreshAll();
    const row = await db
      .selectFrom('catalog_entities')
      .select('entity_ref')
      .where('entity_ref', '=', 'user:default/ada')
      .executeTakeFirst();
    assert.ok(row);
  });

  test('remove deletes and reports dangling references', async () => {
    const result = await writeProvidedEntities(
      store,
      PROVIDER,
      { upsert: [group('admins', [])], remove: ['user:default/ada'] },
      NOW,
    );
    assert.deepEqual(result.removed, ['user:default/ada']);

    const warnings = await db
      .selectFrom('catalog_errors')
      .select(['entity_ref', 'message'])
      .where('code', '=', 'dangling-reference')
      .execute();
    assert.deepEqual(
      warnings.map((warning) => warning.entity_ref),
      ['component:default/compiler'],
    );
  });

  test('replaceAll deletes what the change leaves out', async () => {
    await writeProvidedEntities(store, PROVIDER, { upsert: [user('lin')], remove: [] }, NOW);
    const result = await writeProvidedEntities(
      store,
      PROVIDER,
      { upsert: [user('lin')], remove: [], replaceAll: true },
      NOW,
    );
    assert.deepEqual(result.removed, ['group:default/admins']);
  });
});
