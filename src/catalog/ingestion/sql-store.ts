import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { DatabaseHandle } from '../../database/index.js';
import { type BulkWriter, createPostgresBulkWriter } from './bulk-writers.js';
import type { StoredEntityInfo } from './derived-warnings.js';
import { ISSUE_CODES } from './issues.js';
import type {
  ExistingEntity,
  ForeignOwner,
  LocationRecord,
  PlannedEntity,
} from './location-plan.js';
import { isCatalogEmpty, useRollbackJournal } from './sqlite-bulk-load.js';
import { createSqliteBulkWriter } from './sqlite-bulk-writer.js';
import {
  type CatalogCounts,
  chunks,
  type IngestionStore,
  locationIdOf,
  type StoreTransaction,
} from './store.js';

// biome-ignore lint/suspicious/noExplicitAny: the ingestion writes raw SQL over its own tables only.
type Executor = Kysely<any>;

/** Key of the PostgreSQL advisory lock that serializes ingestion writes across replicas. */
const INGESTION_LOCK_KEY = 7_410_221_001;

/** Largest list bound to one statement; PostgreSQL takes arrays, SQLite a JSON text. */
const LIST_CHUNK = 20_000;

interface LocationRow {
  id: string;
  type: string;
  target: string;
  parent_id: string | null;
  parent_entity_ref: string | null;
  position: number | string;
}

/**
 * Creates the ingestion's store over the catalog tables. Lists are bound as
 * one parameter (`json_each` on SQLite, `unnest` on PostgreSQL), so no query
 * grows with the number of references, and bulk rows go through the
 * engine's fastest path (see bulk-writers.ts).
 */
export function createIngestionStore(handle: DatabaseHandle): IngestionStore {
  const db = handle.db as Executor;
  const dialect = handle.dialect;

  const list = (values: readonly string[]): RawBuilder<unknown> =>
    dialect === 'sqlite'
      ? sql`(select value from json_each(${JSON.stringify(values)}))`
      : sql`(select unnest(${values as string[]}::text[]))`;

  /**
   * Runs `work` in an ingestion transaction. `loadsEntities` is true for a
   * location refresh, which may load a whole catalog into empty tables.
   */
  const transaction = async <T>(
    work: (executor: Executor, bulk: BulkWriter) => Promise<T>,
    options: { loadsEntities: boolean },
  ) => {
    if (dialect === 'postgres') {
      return await db.transaction().execute(async (trx) => {
        // A refresh is a background job that may wait for another replica's
        // refresh and write a whole catalog, so the pool's statement timeout,
        // which is meant for API reads, does not apply to it.
        await sql`set local statement_timeout = 0`.execute(trx);
        await sql`select pg_advisory_xact_lock(${INGESTION_LOCK_KEY})`.execute(trx);
        const bulk = createPostgresBulkWriter(trx);
        const result = await work(trx, bulk);
        await bulk.endEntityInserts();
        return result;
      });
    }

    const sqlite = handle.sqlite;
    if (!sqlite) {
      throw new Error('the SQLite database handle has no raw connection');
    }
    // Holding Kysely's only SQLite connection keeps every Kysely reader out
    // until the commit. NOTE: code that reads through `handle.sqlite`
    // directly shares the connection and could see the open transaction.
    return await db.connection().execute(async (connection) => {
      const restoreJournal =
        options.loadsEntities && isCatalogEmpty(sqlite) ? useRollbackJournal(sqlite) : undefined;
      await sql`begin immediate`.execute(connection);
      try {
        const bulk = createSqliteBulkWriter(sqlite);
        const result = await work(connection, bulk);
        await bulk.endEntityInserts();
        await sql`commit`.execute(connection);
        return result;
      } catch (error) {
        await sql`rollback`.execute(connection);
        throw error;
      } finally {
        restoreJournal?.();
      }
    });
  };

  return {
    transaction: (work, options = { loadsEntities: true }) =>
      transaction((executor, bulk) => work(createTransaction(executor, bulk, list)), options),

    syncConfigLocations: (targets, now) =>
      transaction(
        async (executor) => {
          const unique = [...new Set(targets)];
          const rows = unique.map((target, position) => ({
            id: locationIdOf('file', target),
            type: 'file',
            target,
            parentId: null,
            parentEntityRef: null,
            position,
          }));
          await upsertLocations(executor, rows, now);
          // Roots of another type, such as SCIM's, belong to an entity provider, not to the config.
          await sql`delete from catalog_locations where parent_id is null and type = 'file' and id not in ${list(rows.map((row) => row.id))}`.execute(
            executor,
          );
          return rows;
        },
        { loadsEntities: false },
      ),

    loadLocation: async (id) => {
      const result =
        await sql<LocationRow>`select * from catalog_locations where id = ${id}`.execute(db);
      const row = result.rows[0];
      return row ? toLocation(row) : undefined;
    },

    listLocations: async () => {
      const result =
        await sql<LocationRow>`select * from catalog_locations order by position, target`.execute(
          db,
        );
      return result.rows.map(toLocation);
    },

    counts: async (): Promise<CatalogCounts> => {
      const result = await sql<{ what: string; n: number | string }>`
        select 'locations' as what, count(*) as n from catalog_locations
        union all select 'entities', count(*) from catalog_entities
        union all select 'errors', count(*) from catalog_errors where severity = 'error'
        union all select 'warnings', count(*) from catalog_errors where severity = 'warning'
      `.execute(db);
      const count = (what: string) => Number(result.rows.find((row) => row.what === what)?.n ?? 0);
      return {
        locations: count('locations'),
        entities: count('entities'),
        errors: count('errors'),
        warnings: count('warnings'),
      };
    },
  };
}

function createTransaction(
  executor: Executor,
  bulk: BulkWriter,
  list: (values: readonly string[]) => RawBuilder<unknown>,
): StoreTransaction {
  /** Runs a query once per chunk of `values` and concatenates the rows. */
  const perChunk = async <R>(
    values: readonly string[],
    query: (chunk: RawBuilder<unknown>) => RawBuilder<R>,
  ) => {
    const rows: R[] = [];
    for (const chunk of chunks(values, LIST_CHUNK)) {
      rows.push(...(await query(list(chunk)).execute(executor)).rows);
    }
    return rows;
  };

  return {
    async existingEntities(locationId) {
      const result = await sql<{
        id: number;
        entity_ref: string;
        uid: string;
        etag: string;
        file: string;
        doc_index: number;
        kind: string;
        created_at: string;
      }>`select id, entity_ref, uid, etag, file, doc_index, kind, created_at from catalog_entities where location_id = ${locationId}`.execute(
        executor,
      );
      const existing = new Map<string, ExistingEntity>();
      for (const row of result.rows) {
        existing.set(row.entity_ref, {
          id: Number(row.id),
          uid: row.uid,
          etag: row.etag,
          file: row.file,
          docIndex: Number(row.doc_index),
          kind: row.kind,
          createdAt: row.created_at,
        });
      }
      return existing;
    },

    async foreignOwners(refs, locationId) {
      const rows = await perChunk(
        refs,
        (chunk) => sql<{ entity_ref: string; location_id: string; file: string; target: string }>`
          select e.entity_ref, e.location_id, e.file, l.target
          from catalog_entities e join catalog_locations l on l.id = e.location_id
          where e.entity_ref in ${chunk} and e.location_id <> ${locationId}`,
      );
      const owners = new Map<string, ForeignOwner>();
      for (const row of rows) {
        owners.set(row.entity_ref, {
          locationId: row.location_id,
          locationTarget: row.target,
          file: row.file,
        });
      }
      return owners;
    },

    async deleteEntities(refs) {
      await perChunk(
        refs,
        (chunk) => sql`delete from catalog_entities where entity_ref in ${chunk}`,
      );
    },

    insertEntities: (entities: readonly PlannedEntity[]) => bulk.insertEntities(entities),

    endEntityInserts: () => bulk.endEntityInserts(),

    async existingRefs(refs) {
      const rows = await perChunk(
        refs,
        (chunk) =>
          sql<{
            entity_ref: string;
          }>`select entity_ref from catalog_entities where entity_ref in ${chunk}`,
      );
      return new Set(rows.map((row) => row.entity_ref));
    },

    async childLocations(locationId) {
      const result =
        await sql<LocationRow>`select * from catalog_locations where parent_id = ${locationId} order by position`.execute(
          executor,
        );
      return result.rows.map(toLocation);
    },

    async locationsByTarget(type, targets) {
      const rows = await perChunk(
        targets,
        (chunk) =>
          sql<LocationRow>`select * from catalog_locations where type = ${type} and target in ${chunk}`,
      );
      return rows.map(toLocation);
    },

    async ancestors(location) {
      const chain: LocationRecord[] = [];
      let parentId = location.parentId;
      while (parentId !== null && !chain.some((row) => row.id === parentId)) {
        const result =
          await sql<LocationRow>`select * from catalog_locations where id = ${parentId}`.execute(
            executor,
          );
        const row = result.rows[0];
        if (!row) {
          break;
        }
        const parent = toLocation(row);
        chain.push(parent);
        parentId = parent.parentId;
      }
      return chain;
    },

    async subtreeEntities(locationIds) {
      if (locationIds.length === 0) {
        return [];
      }
      const result = await sql<{ entity_ref: string }>`
        with recursive subtree(id) as (
          select id from catalog_locations where id in ${list(locationIds)}
          union
          select l.id from catalog_locations l join subtree s on l.parent_id = s.id
        )
        select entity_ref from catalog_entities where location_id in (select id from subtree)`.execute(
        executor,
      );
      return result.rows.map((row) => row.entity_ref);
    },

    async deleteLocations(ids) {
      await perChunk(ids, (chunk) => sql`delete from catalog_locations where id in ${chunk}`);
    },

    upsertLocations: (rows, now) => upsertLocations(executor, rows, now),

    async markRefreshed(locationId, now) {
      await sql`update catalog_locations set refreshed_at = ${now} where id = ${locationId}`.execute(
        executor,
      );
    },

    async replaceLocationErrors(locationId, rows) {
      await sql`delete from catalog_errors where location_id = ${locationId} and (code is null or code not in (${ISSUE_CODES.groupCycle}, ${ISSUE_CODES.danglingReference}))`.execute(
        executor,
      );
      await bulk.insertErrors(rows);
    },

    async externalReferrers(refs, excludedLocationIds) {
      // Most refreshes, and every first one, find no entity of another location to look through.
      const others = await sql`
        select 1 from catalog_entities where location_id not in ${list(excludedLocationIds)} limit 1`.execute(
        executor,
      );
      if (others.rows.length === 0) {
        return [];
      }
      const rows = await perChunk(
        refs,
        (chunk) => sql<{
          entity_ref: string;
          location_id: string;
          file: string;
          doc_index: number;
          body: string;
        }>`
          select distinct e.entity_ref, e.location_id, e.file, e.doc_index, e.body
          from catalog_relations r join catalog_entities e on e.id = r.originating_id
          where r.source_ref in ${chunk} and e.entity_ref <> r.source_ref and e.location_id not in ${list(excludedLocationIds)}`,
      );
      const unique = new Map<string, StoredEntityInfo>();
      for (const row of rows) {
        unique.set(row.entity_ref, {
          entityRef: row.entity_ref,
          locationId: row.location_id,
          file: row.file,
          docIndex: Number(row.doc_index),
          body: row.body,
        });
      }
      return [...unique.values()];
    },

    async outgoingRelations(refs) {
      const rows = await perChunk(
        refs,
        (chunk) => sql<{ entity_ref: string; target_ref: string }>`
          select e.entity_ref, r.target_ref
          from catalog_entities e join catalog_relations r on r.originating_id = e.id
          where e.entity_ref in ${chunk} and r.source_ref = e.entity_ref`,
      );
      return rows.map((row): [string, string] => [row.entity_ref, row.target_ref]);
    },

    async replaceLocationDanglingWarnings(locationIds, keptRefs, rows) {
      await perChunk(
        locationIds,
        (chunk) =>
          sql`delete from catalog_errors where code = ${ISSUE_CODES.danglingReference} and location_id in ${chunk} and (entity_ref is null or entity_ref not in ${list(keptRefs)})`,
      );
      await bulk.insertErrors(rows);
    },

    async replaceDanglingWarnings(entityRefs, rows) {
      await perChunk(
        entityRefs,
        (chunk) =>
          sql`delete from catalog_errors where code = ${ISSUE_CODES.danglingReference} and entity_ref in ${chunk}`,
      );
      await bulk.insertErrors(rows);
    },

    async childOfEdges() {
      const result = await sql<{ source_ref: string; target_ref: string }>`
        select distinct source_ref, target_ref from catalog_relations where type = 'childOf'`.execute(
        executor,
      );
      return result.rows.map((row): [string, string] => [row.source_ref, row.target_ref]);
    },

    async entityPlaces(refs) {
      const rows = await perChunk(
        refs,
        (chunk) => sql<{
          entity_ref: string;
          location_id: string;
          file: string;
          doc_index: number;
        }>`
          select entity_ref, location_id, file, doc_index from catalog_entities where entity_ref in ${chunk}`,
      );
      return new Map(
        rows.map((row) => [
          row.entity_ref,
          { locationId: row.location_id, file: row.file, docIndex: Number(row.doc_index) },
        ]),
      );
    },

    async replaceGroupCycleWarnings(rows) {
      await sql`delete from catalog_errors where code = ${ISSUE_CODES.groupCycle}`.execute(
        executor,
      );
      await bulk.insertErrors(rows);
    },

    async conflictedLocations(refs, locationId) {
      const rows = await perChunk(
        refs,
        (chunk) => sql<{ location_id: string }>`
          select distinct location_id from catalog_errors
          where code = ${ISSUE_CODES.entityConflict} and entity_ref in ${chunk} and location_id <> ${locationId}`,
      );
      return [...new Set(rows.map((row) => row.location_id))];
    },

    async locationConflictLocations() {
      const result = await sql<{ location_id: string }>`
        select distinct location_id from catalog_errors where code = ${ISSUE_CODES.locationConflict}`.execute(
        executor,
      );
      return result.rows.map((row) => row.location_id);
    },
  };
}

async function upsertLocations(
  executor: Executor,
  rows: readonly LocationRecord[],
  now: string,
): Promise<void> {
  for (const row of rows) {
    await sql`
      insert into catalog_locations (id, type, target, parent_id, parent_entity_ref, position, created_at)
      values (${row.id}, ${row.type}, ${row.target}, ${row.parentId}, ${row.parentEntityRef}, ${row.position}, ${now})
      on conflict (id) do update set
        parent_id = excluded.parent_id,
        parent_entity_ref = excluded.parent_entity_ref,
        position = excluded.position`.execute(executor);
  }
}

function toLocation(row: LocationRow): LocationRecord {
  return {
    id: row.id,
    type: row.type,
    target: row.target,
    parentId: row.parent_id,
    parentEntityRef: row.parent_entity_ref,
    position: Number(row.position),
  };
}
