import { type Kysely, sql } from 'kysely';
import type { PlannedEntity } from './location-plan.js';
import {
  type DroppedSchema,
  dropForBulkLoad,
  isCatalogEmpty,
  restoreAfterBulkLoad,
} from './postgres-bulk-load.js';
import { chunks, type ErrorRowInput } from './store.js';

/** Writes many rows at once, inside the caller's transaction. */
export interface BulkWriter {
  /** Inserts entity rows with their relation and search rows; may be called once per file. */
  insertEntities(entities: readonly PlannedEntity[]): Promise<void>;
  /** Ends a refresh's entity inserts, building any index the writer left out meanwhile. */
  endEntityInserts(): Promise<void>;
  insertErrors(rows: readonly ErrorRowInput[]): Promise<void>;
}

/** Entities per statement on PostgreSQL; their relation and search rows go in statements of their own. */
const POSTGRES_ENTITY_CHUNK = 2_000;
const POSTGRES_ROW_CHUNK = 20_000;

/**
 * Multi-row inserts on PostgreSQL: each column is bound as one array and
 * `unnest` turns the arrays back into rows, so a statement carries thousands
 * of rows with a handful of parameters. When the catalog has no entity yet,
 * as on the first refresh, the entity tables are loaded without their
 * secondary indexes and row foreign keys (see postgres-bulk-load.ts).
 */
// biome-ignore lint/suspicious/noExplicitAny: the ingestion writes raw SQL over its own tables only.
export function createPostgresBulkWriter(executor: Kysely<any>): BulkWriter {
  let bulkLoadChecked = false;
  let dropped: DroppedSchema | undefined;
  return {
    async insertEntities(entities) {
      if (entities.length === 0) {
        return;
      }
      if (!bulkLoadChecked) {
        bulkLoadChecked = true;
        dropped = (await isCatalogEmpty(executor)) ? await dropForBulkLoad(executor) : undefined;
      }

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

      const relations: string[][] = [];
      for (const { row, relations: triples } of entities) {
        for (let index = 0; index < triples.length; index += 3) {
          relations.push([
            row.entity_ref,
            triples[index] as string,
            triples[index + 1] as string,
            triples[index + 2] as string,
          ]);
        }
      }
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

      const search: Array<[string, string, string | null]> = [];
      for (const { row, search: pairs } of entities) {
        for (let index = 0; index < pairs.length; index += 2) {
          search.push([row.entity_ref, pairs[index] as string, pairs[index + 1] ?? null]);
        }
      }
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

    async endEntityInserts() {
      if (dropped) {
        await restoreAfterBulkLoad(executor, dropped);
        dropped = undefined;
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
