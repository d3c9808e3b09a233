import { type Kysely, sql } from 'kysely';
import { autoIncrement, type DialectName, type MigrationSet } from '../database/index.js';
import { SEARCH_STATISTICS } from './ingestion/sqlite-bulk-load.js';

export const catalogMigrations: MigrationSet = {
  name: 'catalog',
  migrations: (dialect: DialectName) => ({
    '0001-initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('catalog_locations')
          .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
          .addColumn('type', 'varchar(64)', (column) => column.notNull())
          .addColumn('target', 'text', (column) => column.notNull())
          .addColumn('parent_id', 'varchar(64)', (column) =>
            column.references('catalog_locations.id').onDelete('cascade'),
          )
          .addColumn('parent_entity_ref', 'text')
          .addColumn('position', 'integer', (column) => column.notNull().defaultTo(0))
          .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
          .addColumn('refreshed_at', 'varchar(32)')
          .execute();
        await db.schema
          .createIndex('catalog_locations_type_target')
          .on('catalog_locations')
          .columns(['type', 'target'])
          .unique()
          .execute();
        await db.schema
          .createIndex('catalog_locations_parent')
          .on('catalog_locations')
          .column('parent_id')
          .execute();

        await db.schema
          .createTable('catalog_entities')
          .addColumn('entity_ref', 'text', (column) => column.primaryKey())
          .addColumn('uid', 'varchar(64)', (column) => column.notNull().unique())
          .addColumn('kind', 'text', (column) => column.notNull())
          .addColumn('namespace', 'text', (column) => column.notNull())
          .addColumn('name', 'text', (column) => column.notNull())
          .addColumn('location_id', 'varchar(64)', (column) =>
            column.notNull().references('catalog_locations.id').onDelete('cascade'),
          )
          .addColumn('file', 'text', (column) => column.notNull())
          .addColumn('doc_index', 'integer', (column) => column.notNull())
          .addColumn('body', 'text', (column) => column.notNull())
          .addColumn('etag', 'varchar(64)', (column) => column.notNull())
          .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
          .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
          .execute();
        await db.schema
          .createIndex('catalog_entities_location')
          .on('catalog_entities')
          .column('location_id')
          .execute();

        await db.schema
          .createTable('catalog_relations')
          .addColumn('originating_ref', 'text', (column) =>
            column.notNull().references('catalog_entities.entity_ref').onDelete('cascade'),
          )
          .addColumn('source_ref', 'text', (column) => column.notNull())
          .addColumn('type', 'varchar(64)', (column) => column.notNull())
          .addColumn('target_ref', 'text', (column) => column.notNull())
          .addPrimaryKeyConstraint('catalog_relations_pk', [
            'originating_ref',
            'source_ref',
            'type',
            'target_ref',
          ])
          .execute();
        await db.schema
          .createIndex('catalog_relations_source')
          .on('catalog_relations')
          .columns(['source_ref', 'type'])
          .execute();
        await db.schema
          .createIndex('catalog_relations_type_target')
          .on('catalog_relations')
          .columns(['type', 'target_ref', 'source_ref'])
          .execute();

        await db.schema
          .createTable('catalog_search')
          .addColumn('entity_ref', 'text', (column) =>
            column.notNull().references('catalog_entities.entity_ref').onDelete('cascade'),
          )
          .addColumn('key', 'text', (column) => column.notNull())
          .addColumn('value', 'text')
          .execute();
        await db.schema
          .createIndex('catalog_search_key_value')
          .on('catalog_search')
          .columns(['key', 'value', 'entity_ref'])
          .execute();
        await db.schema
          .createIndex('catalog_search_entity')
          .on('catalog_search')
          .column('entity_ref')
          .execute();

        await db.schema
          .createTable('catalog_errors')
          .addColumn('id', autoIncrement(dialect), (column) => column.primaryKey())
          .addColumn('location_id', 'varchar(64)', (column) =>
            column.notNull().references('catalog_locations.id').onDelete('cascade'),
          )
          .addColumn('severity', 'varchar(16)', (column) => column.notNull())
          .addColumn('file', 'text')
          .addColumn('doc_index', 'integer')
          .addColumn('line', 'integer')
          .addColumn('entity_ref', 'text')
          .addColumn('field', 'text')
          .addColumn('message', 'text', (column) => column.notNull())
          .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
          .execute();
        await db.schema
          .createIndex('catalog_errors_location')
          .on('catalog_errors')
          .column('location_id')
          .execute();
        await db.schema
          .createIndex('catalog_errors_entity')
          .on('catalog_errors')
          .column('entity_ref')
          .execute();
      },
    },
    '0002-error-codes': {
      async up(db: Kysely<unknown>) {
        // A stable code per fault lets a refresh replace the warnings it
        // derives from the whole catalog (dangling references, group cycles)
        // without touching the faults found while reading files.
        await db.schema.alterTable('catalog_errors').addColumn('code', 'varchar(64)').execute();
        await db.schema
          .createIndex('catalog_errors_code')
          .on('catalog_errors')
          .columns(['code', 'entity_ref'])
          .execute();
      },
    },
    '0003-search-entity-key-index': {
      async up(db: Kysely<unknown>) {
        // The read API looks up keys of one entity per candidate row (filter
        // checks, the sort value of a by-query page), so it needs an index that
        // starts with the entity. That index also serves every lookup of the
        // single-column index it replaces.
        await db.schema
          .createIndex('catalog_search_entity_key')
          .on('catalog_search')
          .columns(['entity_ref', 'key', 'value'])
          .execute();
        await db.schema.dropIndex('catalog_search_entity').execute();
      },
    },
    '0004-integer-entity-ids': {
      async up(db: Kysely<unknown>) {
        // Relation and search rows name their entity by an integer id instead
        // of its reference, which made them about half as large. On SQLite
        // both tables are clustered on that id (WITHOUT ROWID), so an
        // entity's rows are stored together in the order they were written,
        // and the primary key also serves every lookup by entity.
        if (dialect === 'sqlite') {
          await rebuildWithEntityIdsOnSqlite(db);
        } else {
          await addEntityIdsOnPostgres(db);
        }
      },
    },
  }),
};

/**
 * Rebuilds the entity tables on SQLite, whose tables keep their primary key
 * for life. The old tables are renamed first, which also points the foreign
 * keys of the old rows at the renamed entity table, so each old table can be
 * dropped once its rows are copied.
 */
async function rebuildWithEntityIdsOnSqlite(db: Kysely<unknown>): Promise<void> {
  await sql`alter table catalog_search rename to catalog_search_by_ref`.execute(db);
  await sql`alter table catalog_relations rename to catalog_relations_by_ref`.execute(db);
  await sql`alter table catalog_entities rename to catalog_entities_by_ref`.execute(db);

  await db.schema
    .createTable('catalog_entities')
    .addColumn('id', 'integer', (column) => column.primaryKey())
    .addColumn('entity_ref', 'text', (column) => column.notNull().unique())
    .addColumn('uid', 'varchar(64)', (column) => column.notNull().unique())
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('namespace', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('location_id', 'varchar(64)', (column) =>
      column.notNull().references('catalog_locations.id').onDelete('cascade'),
    )
    .addColumn('file', 'text', (column) => column.notNull())
    .addColumn('doc_index', 'integer', (column) => column.notNull())
    .addColumn('body', 'text', (column) => column.notNull())
    .addColumn('etag', 'varchar(64)', (column) => column.notNull())
    .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
    .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
    .execute();
  await sql`
    insert into catalog_entities
      (entity_ref, uid, kind, namespace, name, location_id, file, doc_index, body, etag, created_at, updated_at)
    select entity_ref, uid, kind, namespace, name, location_id, file, doc_index, body, etag, created_at, updated_at
    from catalog_entities_by_ref order by rowid`.execute(db);

  await db.schema
    .createTable('catalog_relations')
    .addColumn('originating_id', 'integer', (column) =>
      column.notNull().references('catalog_entities.id').onDelete('cascade'),
    )
    .addColumn('source_ref', 'text', (column) => column.notNull())
    .addColumn('type', 'varchar(64)', (column) => column.notNull())
    .addColumn('target_ref', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('catalog_relations_pk', [
      'originating_id',
      'source_ref',
      'type',
      'target_ref',
    ])
    .modifyEnd(sql`without rowid`)
    .execute();
  await sql`
    insert into catalog_relations (originating_id, source_ref, type, target_ref)
    select e.id, r.source_ref, r.type, r.target_ref
    from catalog_relations_by_ref r join catalog_entities e on e.entity_ref = r.originating_ref
    order by e.id`.execute(db);

  // A value may be null, which a WITHOUT ROWID primary key cannot contain,
  // so the row's position among its entity's rows replaces it in the key.
  await db.schema
    .createTable('catalog_search')
    .addColumn('entity_id', 'integer', (column) =>
      column.notNull().references('catalog_entities.id').onDelete('cascade'),
    )
    .addColumn('entity_kind', 'text', (column) => column.notNull())
    .addColumn('key', 'text', (column) => column.notNull())
    .addColumn('ordinal', 'integer', (column) => column.notNull())
    .addColumn('value', 'text')
    .addPrimaryKeyConstraint('catalog_search_pk', ['entity_id', 'key', 'ordinal'])
    .modifyEnd(sql`without rowid`)
    .execute();
  await sql`
    insert into catalog_search (entity_id, entity_kind, key, ordinal, value)
    select e.id, substr(e.entity_ref, 1, instr(e.entity_ref, ':') - 1), s.key,
      row_number() over (partition by s.entity_ref order by s.rowid) - 1, s.value
    from catalog_search_by_ref s join catalog_entities e on e.entity_ref = s.entity_ref
    order by e.id`.execute(db);

  await db.schema.dropTable('catalog_search_by_ref').execute();
  await db.schema.dropTable('catalog_relations_by_ref').execute();
  await db.schema.dropTable('catalog_entities_by_ref').execute();

  await db.schema
    .createIndex('catalog_entities_location')
    .on('catalog_entities')
    .column('location_id')
    .execute();
  await createEntityRowIndexes(db);
  for (const statement of SEARCH_STATISTICS) {
    await sql.raw(statement).execute(db);
  }
}

/**
 * Gives the PostgreSQL entities an integer id, numbered by the identity
 * sequence, and moves the relation and search rows over to it.
 */
async function addEntityIdsOnPostgres(db: Kysely<unknown>): Promise<void> {
  await sql`alter table catalog_entities add column id integer generated by default as identity`.execute(
    db,
  );

  await sql`alter table catalog_relations add column originating_id integer`.execute(db);
  await sql`
    update catalog_relations r set originating_id = e.id
    from catalog_entities e where e.entity_ref = r.originating_ref`.execute(db);
  await sql`alter table catalog_relations drop constraint catalog_relations_pk`.execute(db);
  await sql`alter table catalog_relations drop column originating_ref`.execute(db);
  await sql`alter table catalog_relations alter column originating_id set not null`.execute(db);

  await sql`
    create table catalog_search_by_id (
      entity_id integer not null,
      entity_kind text not null,
      key text not null,
      ordinal integer not null,
      value text
    )`.execute(db);
  await sql`
    insert into catalog_search_by_id (entity_id, entity_kind, key, ordinal, value)
    select e.id, split_part(e.entity_ref, ':', 1), s.key,
      (row_number() over (partition by s.entity_ref order by s.key, s.value) - 1)::integer, s.value
    from catalog_search s join catalog_entities e on e.entity_ref = s.entity_ref`.execute(db);
  await db.schema.dropTable('catalog_search').execute();
  await sql`alter table catalog_search_by_id rename to catalog_search`.execute(db);

  await sql`alter table catalog_entities drop constraint catalog_entities_pkey`.execute(db);
  await sql`alter table catalog_entities add constraint catalog_entities_pkey primary key (id)`.execute(
    db,
  );
  await sql`alter table catalog_entities add constraint catalog_entities_entity_ref_key unique (entity_ref)`.execute(
    db,
  );

  await sql`
    alter table catalog_relations
      add constraint catalog_relations_pk primary key (originating_id, source_ref, type, target_ref),
      add constraint catalog_relations_originating_id_fkey foreign key (originating_id)
        references catalog_entities (id) on delete cascade`.execute(db);
  await sql`
    alter table catalog_search add constraint catalog_search_entity_id_fkey foreign key (entity_id)
      references catalog_entities (id) on delete cascade`.execute(db);
  // The relation indexes name no entity column, so they stay as they are.
  await db.schema
    .createIndex('catalog_search_key_value')
    .on('catalog_search')
    .columns(['key', 'value', 'entity_id', 'entity_kind'])
    .execute();
  // PostgreSQL tables are heaps, so lookups by entity need their own index.
  await db.schema
    .createIndex('catalog_search_entity_key')
    .on('catalog_search')
    .columns(['entity_id', 'key', 'value'])
    .execute();
}

/** Creates the SQLite indexes of relation and search rows beside their primary keys. */
async function createEntityRowIndexes(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('catalog_relations_source')
    .on('catalog_relations')
    .columns(['source_ref', 'type'])
    .execute();
  await db.schema
    .createIndex('catalog_relations_type_target')
    .on('catalog_relations')
    .columns(['type', 'target_ref', 'source_ref'])
    .execute();
  await db.schema
    .createIndex('catalog_search_key_value')
    .on('catalog_search')
    .columns(['key', 'value', 'entity_id', 'entity_kind'])
    .execute();
}
