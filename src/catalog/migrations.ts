import type { Kysely } from 'kysely';
import { autoIncrement, type DialectName, type MigrationSet } from '../database/index.js';

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
  }),
};
