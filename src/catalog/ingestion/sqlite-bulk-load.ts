import type SqliteDatabase from 'better-sqlite3';

/**
 * SQLite settings for loading a whole catalog into empty tables, as on the
 * first refresh. On the 100,000 generated entities of bench/ingest.ts (2
 * cores), building the secondary indexes after the load instead of updating
 * them per row, with one sorter helper thread, saved about half of the write
 * time. Writing through a rollback journal instead of the write-ahead log
 * saved the checkpoint that copies every new page a second time, about 2 s.
 */

/** The tables an entity's rows go to, whose secondary indexes a bulk load builds afterwards. */
const ENTITY_TABLES = ['catalog_entities', 'catalog_relations', 'catalog_search'] as const;

/** Returns whether no location stores an entity yet; relation and search rows need an entity. */
export function isCatalogEmpty(sqlite: SqliteDatabase.Database): boolean {
  return sqlite.prepare('select 1 from catalog_entities limit 1').get() === undefined;
}

/** Drops the secondary indexes of the entity tables and returns their definitions. */
export function dropEntityIndexes(sqlite: SqliteDatabase.Database): string[] {
  // Indexes that SQLite creates for primary keys and unique constraints have no SQL and stay.
  const indexes = sqlite
    .prepare(
      `select name, sql from sqlite_schema
       where type = 'index' and sql is not null and tbl_name in (select value from json_each(?))`,
    )
    .all(JSON.stringify(ENTITY_TABLES)) as Array<{ name: string; sql: string }>;
  for (const index of indexes) {
    sqlite.exec(`drop index "${index.name.replaceAll('"', '""')}"`);
  }
  return indexes.map((index) => index.sql);
}

/**
 * Creates indexes from their definitions, letting SQLite sort on a helper
 * thread meanwhile, and writes the search table's statistics again, which
 * dropping its index deleted.
 */
export function createIndexes(
  sqlite: SqliteDatabase.Database,
  definitions: readonly string[],
): void {
  if (definitions.length === 0) {
    return;
  }
  const threads = sqlite.pragma('threads', { simple: true }) as number;
  sqlite.pragma('threads = 1');
  try {
    for (const definition of definitions) {
      sqlite.exec(definition);
    }
  } finally {
    sqlite.pragma(`threads = ${threads}`);
  }
  for (const statement of SEARCH_STATISTICS) {
    sqlite.exec(statement);
  }
}

/**
 * Statements that give SQLite's query planner the shape of `catalog_search`
 * in sqlite_stat1: about 20 rows per entity and one or two per entity and
 * key, but about 1,000 per key. Without statistics, SQLite 3.53 took the
 * index that starts with the key for a lookup of one entity's key with a
 * range on the value, and read every row with that key, once per entity.
 * The row counts describe proportions only; an ANALYZE replaces them with
 * measured ones. The last statement loads them into the connection.
 */
export const SEARCH_STATISTICS = [
  'analyze sqlite_schema',
  "delete from sqlite_stat1 where tbl = 'catalog_search'",
  `insert into sqlite_stat1 (tbl, idx, stat) values
    ('catalog_search', 'catalog_search', '1000000 20 2 1'),
    ('catalog_search', 'catalog_search_key_value', '1000000 1000 10 1 1')`,
  'analyze sqlite_schema',
];

/** Connections whose switch back to WAL mode failed, with the synchronous setting to restore. */
const pendingRestores = new WeakMap<SqliteDatabase.Database, number>();

/**
 * Switches a database in write-ahead-log mode to a rollback journal until the
 * returned function switches it back, or returns undefined when it is not in
 * WAL mode or another connection has it open. Pages that a transaction adds
 * to the end of the file need no journal entry, so a load into empty tables
 * writes each page once, where the write-ahead log writes it twice. Synchronous
 * is FULL meanwhile, which a rollback journal needs to survive a power loss.
 * Should the switch back fail, it is tried again on the next call.
 */
export function useRollbackJournal(sqlite: SqliteDatabase.Database): (() => void) | undefined {
  restoreWriteAheadLog(sqlite);
  if (pendingRestores.has(sqlite) || journalMode(sqlite) !== 'wal') {
    return undefined;
  }
  const synchronous = sqlite.pragma('synchronous', { simple: true }) as number;
  if (!switchJournal(sqlite, 'delete', 0)) {
    return undefined;
  }

  sqlite.pragma('synchronous = FULL');
  pendingRestores.set(sqlite, synchronous);
  return () => restoreWriteAheadLog(sqlite);
}

function restoreWriteAheadLog(sqlite: SqliteDatabase.Database): void {
  const synchronous = pendingRestores.get(sqlite);
  if (synchronous === undefined) {
    return;
  }
  if (switchJournal(sqlite, 'wal', sqlite.pragma('busy_timeout', { simple: true }) as number)) {
    sqlite.pragma(`synchronous = ${synchronous}`);
    pendingRestores.delete(sqlite);
  }
}

function journalMode(sqlite: SqliteDatabase.Database): string {
  return String(sqlite.pragma('journal_mode', { simple: true })).toLowerCase();
}

/** Sets the journal mode, waiting at most `busyTimeout` ms for other connections; true when it took. */
function switchJournal(
  sqlite: SqliteDatabase.Database,
  mode: string,
  busyTimeout: number,
): boolean {
  const previousTimeout = sqlite.pragma('busy_timeout', { simple: true }) as number;
  sqlite.pragma(`busy_timeout = ${busyTimeout}`);
  try {
    sqlite.pragma(`journal_mode = ${mode}`);
  } catch {
    // SQLITE_BUSY: another connection has the database open.
  } finally {
    sqlite.pragma(`busy_timeout = ${previousTimeout}`);
  }
  return journalMode(sqlite) === mode;
}
