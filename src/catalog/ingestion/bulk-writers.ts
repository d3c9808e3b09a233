import type SqliteDatabase from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import type { PlannedEntity } from './location-plan.js';
import { chunks, type ErrorRowInput } from './store.js';

/** Writes many rows at once, inside the caller's transaction. */
export interface BulkWriter {
  /** Inserts entity rows with their relation and search rows. */
  insertEntities(entities: readonly PlannedEntity[]): Promise<void>;
  insertErrors(rows: readonly ErrorRowInput[]): Promise<void>;
}

interface SqliteStatements {
  entity: SqliteDatabase.Statement;
  relation: SqliteDatabase.Statement;
  search: SqliteDatabase.Statement;
  error: SqliteDatabase.Statement;
}

const statementsByDatabase = new WeakMap<SqliteDatabase.Database, SqliteStatements>();

/**
 * Prepared statements on the raw better-sqlite3 connection: one compiled
 * statement run per row is the fastest write path SQLite offers from Node.
 */
export function createSqliteBulkWriter(sqlite: SqliteDatabase.Database): BulkWriter {
  let statements = statementsByDatabase.get(sqlite);
  if (!statements) {
    statements = {
      entity: sqlite.prepare(
        `insert into catalog_entities
          (entity_ref, uid, kind, namespace, name, location_id, file, doc_index, body, etag, created_at, updated_at)
          values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      relation: sqlite.prepare(
        'insert into catalog_relations (originating_ref, source_ref, type, target_ref) values (?, ?, ?, ?)',
      ),
      search: sqlite.prepare(
        'insert into catalog_search (entity_ref, key, value) values (?, ?, ?)',
      ),
      error: sqlite.prepare(
        `insert into catalog_errors
          (location_id, severity, code, file, doc_index, line, entity_ref, field, message, created_at)
          values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
    };
    statementsByDatabase.set(sqlite, statements);
  }
  const prepared = statements;

  return {
    async insertEntities(entities) {
      for (const { row, relations, search } of entities) {
        prepared.entity.run(
          row.entity_ref,
          row.uid,
          row.kind,
          row.namespace,
          row.name,
          row.location_id,
          row.file,
          row.doc_index,
          row.body,
          row.etag,
          row.created_at,
          row.updated_at,
        );
        for (const [source, type, target] of relations) {
          prepared.relation.run(row.entity_ref, source, type, target);
        }
        for (const { key, value } of search) {
          prepared.search.run(row.entity_ref, key, value);
        }
      }
    },

    async insertErrors(rows) {
      for (const row of rows) {
        prepared.error.run(
          row.location_id,
          row.severity,
          row.code,
          row.file,
          row.doc_index,
          row.line,
          row.entity_ref,
          row.field,
          row.message,
          row.created_at,
        );
      }
    },
  };
}

/** Entities per statement on PostgreSQL; their relation and search rows go in statements of their own. */
const POSTGRES_ENTITY_CHUNK = 2_000;
const POSTGRES_ROW_CHUNK = 20_000;

/**
 * Multi-row inserts on PostgreSQL: each column is bound as one array and
 * `unnest` turns the arrays back into rows, so a statement carries thousands
 * of rows with a handful of parameters.
 */
// biome-ignore lint/suspicious/noExplicitAny: the ingestion writes raw SQL over its own tables only.
export function createPostgresBulkWriter(executor: Kysely<any>): BulkWriter {
  return {
    async insertEntities(entities) {
      for (const chunk of chunks(entities, POSTGRES_ENTITY_CHUNK)) {
        const rows = chunk.map((entity) => entity.row);
        await sql`
          insert into catalog_entities
            (entity_ref, uid, kind, namespace, name, location_id, file, doc_index, body, etag, created_at, updated_at)
          select * from unnest(
            ${rows.map((row) => row.entity_ref)}::text[],
            ${rows.map((row) => row.uid)}::text[],
            ${rows.map((row) => row.kind)}::text[],
            ${rows.map((row) => row.namespace)}::text[],
            ${rows.map((row) => row.name)}::text[],
            ${rows.map((row) => row.location_id)}::text[],
            ${rows.map((row) => row.file)}::text[],
            ${rows.map((row) => row.doc_index)}::int[],
            ${rows.map((row) => row.body)}::text[],
            ${rows.map((row) => row.etag)}::text[],
            ${rows.map((row) => row.created_at)}::text[],
            ${rows.map((row) => row.updated_at)}::text[]
          )`.execute(executor);
      }

      const relations = entities.flatMap((entity) =>
        entity.relations.map(([source, type, target]) => [
          entity.row.entity_ref,
          source,
          type,
          target,
        ]),
      );
      for (const chunk of chunks(relations, POSTGRES_ROW_CHUNK)) {
        await sql`
          insert into catalog_relations (originating_ref, source_ref, type, target_ref)
          select * from unnest(
            ${chunk.map((row) => row[0])}::text[],
            ${chunk.map((row) => row[1])}::text[],
            ${chunk.map((row) => row[2])}::text[],
            ${chunk.map((row) => row[3])}::text[]
          )`.execute(executor);
      }

      const search = entities.flatMap((entity) =>
        entity.search.map((row) => [entity.row.entity_ref, row.key, row.value] as const),
      );
      for (const chunk of chunks(search, POSTGRES_ROW_CHUNK)) {
        await sql`
          insert into catalog_search (entity_ref, key, value)
          select * from unnest(
            ${chunk.map((row) => row[0])}::text[],
            ${chunk.map((row) => row[1])}::text[],
            ${chunk.map((row) => row[2])}::text[]
          )`.execute(executor);
      }
    },

    async insertErrors(rows) {
      for (const chunk of chunks(rows, POSTGRES_ROW_CHUNK)) {
        await sql`
          insert into catalog_errors
            (location_id, severity, code, file, doc_index, line, entity_ref, field, message, created_at)
          select * from unnest(
            ${chunk.map((row) => row.location_id)}::text[],
            ${chunk.map((row) => row.severity)}::text[],
            ${chunk.map((row) => row.code)}::text[],
            ${chunk.map((row) => row.file)}::text[],
            ${chunk.map((row) => row.doc_index)}::int[],
            ${chunk.map((row) => row.line)}::int[],
            ${chunk.map((row) => row.entity_ref)}::text[],
            ${chunk.map((row) => row.field)}::text[],
            ${chunk.map((row) => row.message)}::text[],
            ${chunk.map((row) => row.created_at)}::text[]
          )`.execute(executor);
      }
    },
  };
}
