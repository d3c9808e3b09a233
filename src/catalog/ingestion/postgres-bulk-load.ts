import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: the ingestion writes raw SQL over its own tables only.
type Executor = Kysely<any>;

/**
 * Loading a whole catalog into empty PostgreSQL tables, as on the first
 * refresh. The secondary indexes of the entity tables are dropped and built
 * again after the load. So are the foreign keys of the relation and search
 * rows, which PostgreSQL would otherwise check row by row with a trigger.
 * Everything happens inside the refresh's transaction, so a failure rolls it
 * all back. The tables stay locked until the commit, which only delays
 * readers of a catalog that is still empty.
 */

/** The tables an entity's rows go to, whose secondary indexes a bulk load builds afterwards. */
const ENTITY_TABLES = ['catalog_entities', 'catalog_relations', 'catalog_search'];

/** The tables whose rows reference an entity, whose foreign keys a bulk load adds afterwards. */
const ENTITY_ROW_TABLES = ['catalog_relations', 'catalog_search'];

/** Memory for sorting while an index is built; the default, 64 MB, spills to disk for a large catalog. */
const INDEX_BUILD_MEMORY = '256MB';

/** Indexes and foreign keys that a bulk load dropped, to create again once the rows are in. */
export interface DroppedSchema {
  indexes: string[];
  foreignKeys: Array<{ table: string; name: string; definition: string }>;
}

/** Returns whether no location stores an entity yet; relation and search rows need an entity. */
export async function isCatalogEmpty(executor: Executor): Promise<boolean> {
  const result = await sql`select 1 from catalog_entities limit 1`.execute(executor);
  return result.rows.length === 0;
}

/** Drops the secondary indexes of the entity tables and the foreign keys of their rows. */
export async function dropForBulkLoad(executor: Executor): Promise<DroppedSchema> {
  const indexes = await sql<{ name: string; definition: string }>`
    select i.relname as name, pg_get_indexdef(x.indexrelid) as definition
    from pg_index x
      join pg_class i on i.oid = x.indexrelid
      join pg_class t on t.oid = x.indrelid
      join pg_namespace n on n.oid = t.relnamespace
    where n.nspname = current_schema()
      and t.relname = any(${ENTITY_TABLES}::text[])
      and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)
    order by i.relname`.execute(executor);
  const foreignKeys = await sql<{ table: string; name: string; definition: string }>`
    select t.relname as table, c.conname as name, pg_get_constraintdef(c.oid) as definition
    from pg_constraint c
      join pg_class t on t.oid = c.conrelid
      join pg_namespace n on n.oid = t.relnamespace
    where c.contype = 'f'
      and n.nspname = current_schema()
      and t.relname = any(${ENTITY_ROW_TABLES}::text[])
    order by t.relname, c.conname`.execute(executor);

  for (const index of indexes.rows) {
    await sql`drop index ${sql.id(index.name)}`.execute(executor);
  }
  for (const key of foreignKeys.rows) {
    await sql`alter table ${sql.id(key.table)} drop constraint ${sql.id(key.name)}`.execute(
      executor,
    );
  }
  return {
    indexes: indexes.rows.map((index) => index.definition),
    foreignKeys: foreignKeys.rows,
  };
}

/** Creates what dropForBulkLoad dropped; adding a foreign key checks every row once. */
export async function restoreAfterBulkLoad(
  executor: Executor,
  dropped: DroppedSchema,
): Promise<void> {
  if (dropped.indexes.length === 0 && dropped.foreignKeys.length === 0) {
    return;
  }
  await sql`set local maintenance_work_mem = ${sql.lit(INDEX_BUILD_MEMORY)}`.execute(executor);
  for (const definition of dropped.indexes) {
    await sql.raw(definition).execute(executor);
  }
  for (const key of dropped.foreignKeys) {
    await sql`alter table ${sql.id(key.table)} add constraint ${sql.id(key.name)} ${sql.raw(key.definition)}`.execute(
      executor,
    );
  }
  // The planner's statistics still describe the empty tables, and autovacuum
  // may be off or late: without them one catalog list query took 1.5 s
  // instead of 22 ms on the 100,000 generated entities of bench/ingest.ts.
  await sql`analyze catalog_entities, catalog_relations, catalog_search`.execute(executor);
}
