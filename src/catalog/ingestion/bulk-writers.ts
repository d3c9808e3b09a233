import { type Kysely, sql } from 'kysely';
import { kindOfRef, type PlannedEntity } from './location-plan.js';
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

/**
 * Returns the id of each entity: the id it was stored under before, or for a
 * new entity the next value of the identity sequence of catalog_entities.id.
 */
// biome-ignore lint/suspicious/noExplicitAny: the ingestion writes raw SQL over its own tables only.
async function postgresEntityIds(executor: Kysely<any>, entities: readonly PlannedEntity[]) {
  const count = entities.filter((entity) => entity.storedId === undefined).length;
  const fresh =
    count === 0
      ? []
      : (
          await sql<{ id: number }>`
            select nextval(pg_get_serial_sequence('catalog_entities', 'id'))::integer as id
            from generate_series(1, ${count})`.execute(executor)
        ).rows.map((row) => row.id);
  let next = 0;
  return entities.map((entity) => {
    if (entity.storedId !== undefined) {
      return entity.storedId;
    }
    next += 1;
    return fresh[next - 1] as number;
  });
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

      const ids = await postgresEntityIds(executor, entities);
      for (let start = 0; start < entities.length; start += POSTGRES_ENTITY_CHUNK) {
        const chunk = entities.slice(start, start + POSTGRES_ENTITY_CHUNK);
        const rows = chunk.map((entity) => entity.row);
        await sql`
          insert into catalog_entities
            (id, entity_ref, uid, kind, namespace, name, location_id, file, doc_index, body, etag, created_at, updated_at)
          select * from unnest(
            ${ids.slice(start, start + chunk.length)}::int[],
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

      const relations: Array<[number, string, string, string]> = [];
      for (const [entityIndex, { relations: triples }] of entities.entries()) {
        for (let index = 0; index < triples.length; index += 3) {
          relations.push([
            ids[entityIndex] as number,
            triples[index] as string,
            triples[index + 1] as string,
            triples[index + 2] as string,
          ]);
        }
      }
      for (const chunk of chunks(relations, POSTGRES_ROW_CHUNK)) {
        await sql`
          insert into catalog_relations (originating_id, source_ref, type, target_ref)
          select * from unnest(
            ${chunk.map((row) => row[0])}::int[],
            ${chunk.map((row) => row[1])}::text[],
            ${chunk.map((row) => row[2])}::text[],
            ${chunk.map((row) => row[3])}::text[]
          )`.execute(executor);
      }

      const search: Array<[number, string, string, number, string | null]> = [];
      for (const [entityIndex, { row, search: pairs }] of entities.entries()) {
        const kind = kindOfRef(row.entity_ref);
        for (let index = 0; index < pairs.length; index += 2) {
          search.push([
            ids[entityIndex] as number,
            kind,
            pairs[index] as string,
            index / 2,
            pairs[index + 1] ?? null,
          ]);
        }
      }
      for (const chunk of chunks(search, POSTGRES_ROW_CHUNK)) {
        await sql`
          insert into catalog_search (entity_id, entity_kind, key, ordinal, value)
          select * from unnest(
            ${chunk.map((row) => row[0])}::int[],
            ${chunk.map((row) => row[1])}::text[],
            ${chunk.map((row) => row[2])}::text[],
            ${chunk.map((row) => row[3])}::int[],
            ${chunk.map((row) => row[4])}::text[]
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
