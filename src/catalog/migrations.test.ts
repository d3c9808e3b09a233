import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { type DialectContext, describeEachDialect } from '../../test/support/databases.js';
import { type MigrationSet, migrateToLatest } from '../database/index.js';
import { catalogMigrations } from './migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: the test writes rows of an older schema.
type AnyKysely = Kysely<any>;

/** Returns the catalog's migrations that come before the one named `before`. */
function migrationsBefore(before: string): MigrationSet {
  return {
    name: catalogMigrations.name,
    migrations: (dialect) =>
      Object.fromEntries(
        Object.entries(catalogMigrations.migrations(dialect)).filter(([name]) => name < before),
      ),
  };
}

const NOW = '2026-01-01T00:00:00.000Z';

/** Writes two entities with relation and search rows as the schema before integer ids stored them. */
async function writeRowsByReference(db: AnyKysely): Promise<void> {
  await sql`insert into catalog_locations (id, type, target, position, created_at)
    values ('loc-1', 'file', '/catalog/a.yaml', 0, ${NOW})`.execute(db);
  const entities = [
    { kind: 'component', name: 'orders' },
    { kind: 'group', name: 'team-a' },
  ];
  for (const { kind, name } of entities) {
    await sql`insert into catalog_entities
      (entity_ref, uid, kind, namespace, name, location_id, file, doc_index, body, etag, created_at, updated_at)
      values (${`${kind}:default/${name}`}, ${`uid-${name}`}, ${kind}, 'default', ${name}, 'loc-1', '/catalog/a.yaml', 0, '{}', 'etag', ${NOW}, ${NOW})`.execute(
      db,
    );
  }
  await sql`insert into catalog_relations (originating_ref, source_ref, type, target_ref) values
    ('component:default/orders', 'component:default/orders', 'ownedBy', 'group:default/team-a'),
    ('component:default/orders', 'group:default/team-a', 'ownerOf', 'component:default/orders'),
    ('component:default/orders', 'component:default/orders', 'dependsOn', 'resource:default/missing')`.execute(
    db,
  );
  await sql`insert into catalog_search (entity_ref, key, value) values
    ('component:default/orders', 'metadata.name', 'orders'),
    ('component:default/orders', 'metadata.tags', 'java'),
    ('component:default/orders', 'metadata.tags', 'go'),
    ('component:default/orders', 'metadata.description', null),
    ('group:default/team-a', 'metadata.name', 'team-a')`.execute(db);
}

describeEachDialect('catalog migration to integer entity ids', (context: DialectContext) => {
  const db = () => context.handle().db as AnyKysely;

  test('keeps every row and links it by id', async () => {
    await migrateToLatest(context.handle(), [migrationsBefore('0004-integer-entity-ids')]);
    await writeRowsByReference(db());
    await migrateToLatest(context.handle(), [catalogMigrations]);

    const entities = await sql<{ id: number; entity_ref: string }>`
      select id, entity_ref from catalog_entities order by entity_ref`.execute(db());
    assert.deepEqual(
      entities.rows.map((row) => row.entity_ref),
      ['component:default/orders', 'group:default/team-a'],
    );
    const ids = new Set(entities.rows.map((row) => Number(row.id)));
    assert.equal(ids.size, 2);

    const relations = await sql<{
      ref: string;
      source_ref: string;
      type: string;
      target_ref: string;
    }>`
      select e.entity_ref as ref, r.source_ref, r.type, r.target_ref
      from catalog_relations r join catalog_entities e on e.id = r.originating_id
      order by r.type`.execute(db());
    assert.deepEqual(
      relations.rows.map((row) => `${row.ref} ${row.source_ref} ${row.type} ${row.target_ref}`),
      [
        'component:default/orders component:default/orders dependsOn resource:default/missing',
        'component:default/orders component:default/orders ownedBy group:default/team-a',
        'component:default/orders group:default/team-a ownerOf component:default/orders',
      ],
    );

    const search = await sql<{
      ref: string;
      entity_kind: string;
      key: string;
      value: string | null;
      ordinal: number;
    }>`
      select e.entity_ref as ref, s.entity_kind, s.key, s.value, s.ordinal
      from catalog_search s join catalog_entities e on e.id = s.entity_id`.execute(db());
    for (const row of search.rows) {
      assert.equal(row.entity_kind, row.ref.split(':')[0], row.ref);
    }
    const rows = search.rows.map((row) => `${row.ref} ${row.key}=${row.value ?? '(null)'}`).sort();
    assert.deepEqual(rows, [
      'component:default/orders metadata.description=(null)',
      'component:default/orders metadata.name=orders',
      'component:default/orders metadata.tags=go',
      'component:default/orders metadata.tags=java',
      'group:default/team-a metadata.name=team-a',
    ]);
    const ordersOrdinals = search.rows
      .filter((row) => row.ref === 'component:default/orders')
      .map((row) => Number(row.ordinal))
      .sort();
    assert.deepEqual(ordersOrdinals, [0, 1, 2, 3]);
  });

  test('deletes the rows of a deleted entity', async () => {
    await sql`delete from catalog_entities where entity_ref = 'component:default/orders'`.execute(
      db(),
    );

    const relations = await sql<{ n: number | string }>`
      select count(*) as n from catalog_relations`.execute(db());
    const search = await sql<{ n: number | string }>`
      select count(*) as n from catalog_search`.execute(db());
    assert.equal(Number(relations.rows[0]?.n), 0);
    assert.equal(Number(search.rows[0]?.n), 1);
  });

  test('numbers a new entity after the migrated ones', async () => {
    const inserted = await sql<{ id: number }>`
      insert into catalog_entities
        (entity_ref, uid, kind, namespace, name, location_id, file, doc_index, body, etag, created_at, updated_at)
      values ('component:default/new', 'uid-new', 'component', 'default', 'new', 'loc-1', '/catalog/a.yaml', 1, '{}', 'etag', ${NOW}, ${NOW})
      returning id`.execute(db());
    const highest = await sql<{ id: number }>`
      select max(id) as id from catalog_entities where entity_ref <> 'component:default/new'`.execute(
      db(),
    );
    assert.ok(Number(inserted.rows[0]?.id) > Number(highest.rows[0]?.id));
  });
});
