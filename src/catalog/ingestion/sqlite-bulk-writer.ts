import type SqliteDatabase from 'better-sqlite3';
import type { BulkWriter } from './bulk-writers.js';
import { kindOfRef, type PlannedEntity } from './location-plan.js';
import { createIndexes, dropEntityIndexes, isCatalogEmpty } from './sqlite-bulk-load.js';

/**
 * Rows bound to one INSERT statement. Fewer calls into SQLite per row pay
 * until a statement carries about a hundred rows; SQLite allows up to 32,766
 * parameters per statement.
 */
const ROWS_PER_STATEMENT = 100;

const ENTITY_COLUMNS = [
  'id',
  'entity_ref',
  'uid',
  'kind',
  'namespace',
  'name',
  'location_id',
  'file',
  'doc_index',
  'body',
  'etag',
  'created_at',
  'updated_at',
];
const RELATION_COLUMNS = ['originating_id', 'source_ref', 'type', 'target_ref'];
const SEARCH_COLUMNS = ['entity_id', 'entity_kind', 'key', 'ordinal', 'value'];
const ERROR_COLUMNS = [
  'location_id',
  'severity',
  'code',
  'file',
  'doc_index',
  'line',
  'entity_ref',
  'field',
  'message',
  'created_at',
];

/**
 * Writes on the raw better-sqlite3 connection with multi-row INSERT
 * statements. When the catalog has no entity yet, as on the first refresh, it
 * drops the secondary indexes of the entity tables, loads the rows and
 * creates the indexes again from their stored definitions (see
 * sqlite-bulk-load.ts). All of it runs in the caller's transaction, so a
 * failure rolls the dropped indexes back too.
 */
export function createSqliteBulkWriter(sqlite: SqliteDatabase.Database): BulkWriter {
  let droppedIndexes: string[] = [];
  return {
    async insertEntities(entities) {
      if (entities.length === 0) {
        return;
      }
      if (droppedIndexes.length === 0 && isCatalogEmpty(sqlite)) {
        droppedIndexes = dropEntityIndexes(sqlite);
      }

      const ids = entityIds(sqlite, entities);
      const entityRows = new MultiRowInsert(sqlite, 'catalog_entities', ENTITY_COLUMNS);
      for (const [index, { row }] of entities.entries()) {
        entityRows.add(ids[index]);
        entityRows.add(row.entity_ref);
        entityRows.add(row.uid);
        entityRows.add(row.kind);
        entityRows.add(row.namespace);
        entityRows.add(row.name);
        entityRows.add(row.location_id);
        entityRows.add(row.file);
        entityRows.add(row.doc_index);
        entityRows.add(row.body);
        entityRows.add(row.etag);
        entityRows.add(row.created_at);
        entityRows.add(row.updated_at);
      }
      entityRows.flush();

      // Relation and search rows follow their entities, whose ids they reference.
      const relationRows = new MultiRowInsert(sqlite, 'catalog_relations', RELATION_COLUMNS);
      for (const [entityIndex, { relations }] of entities.entries()) {
        const id = ids[entityIndex];
        for (let index = 0; index < relations.length; index += 3) {
          relationRows.add(id);
          relationRows.add(relations[index]);
          relationRows.add(relations[index + 1]);
          relationRows.add(relations[index + 2]);
        }
      }
      relationRows.flush();

      const searchRows = new MultiRowInsert(sqlite, 'catalog_search', SEARCH_COLUMNS);
      for (const [entityIndex, { row, search }] of entities.entries()) {
        const id = ids[entityIndex];
        const kind = kindOfRef(row.entity_ref);
        for (let index = 0; index < search.length; index += 2) {
          searchRows.add(id);
          searchRows.add(kind);
          searchRows.add(search[index]);
          searchRows.add(index / 2);
          searchRows.add(search[index + 1]);
        }
      }
      searchRows.flush();
    },

    async endEntityInserts() {
      createIndexes(sqlite, droppedIndexes);
      droppedIndexes = [];
    },

    async insertErrors(rows) {
      const errorRows = new MultiRowInsert(sqlite, 'catalog_errors', ERROR_COLUMNS);
      for (const row of rows) {
        errorRows.add(row.location_id);
        errorRows.add(row.severity);
        errorRows.add(row.code);
        errorRows.add(row.file);
        errorRows.add(row.doc_index);
        errorRows.add(row.line);
        errorRows.add(row.entity_ref);
        errorRows.add(row.field);
        errorRows.add(row.message);
        errorRows.add(row.created_at);
      }
      errorRows.flush();
    },
  };
}

/**
 * Returns the id of each entity: the id it was stored under before, or for a
 * new entity the next one above every id in use. A changed entity's old row
 * is deleted just before, so its id counts as in use through `storedId`.
 */
function entityIds(sqlite: SqliteDatabase.Database, entities: readonly PlannedEntity[]): number[] {
  const highest = sqlite.prepare('select coalesce(max(id), 0) from catalog_entities').pluck().get();
  let next = Number(highest);
  for (const entity of entities) {
    next = Math.max(next, entity.storedId ?? 0);
  }
  const ids: number[] = [];
  for (const entity of entities) {
    if (entity.storedId === undefined) {
      next += 1;
      ids.push(next);
    } else {
      ids.push(entity.storedId);
    }
  }
  return ids;
}

const statementsByDatabase = new WeakMap<
  SqliteDatabase.Database,
  Map<string, SqliteDatabase.Statement>
>();

/**
 * Collects the values of rows column by column and inserts them
 * ROWS_PER_STATEMENT rows at a time. `flush` inserts the rest one row at a
 * time, so only two statements per table are prepared and kept.
 */
class MultiRowInsert {
  readonly #sqlite: SqliteDatabase.Database;
  readonly #table: string;
  readonly #columns: readonly string[];
  readonly #values: unknown[];
  #filled = 0;

  constructor(sqlite: SqliteDatabase.Database, table: string, columns: readonly string[]) {
    this.#sqlite = sqlite;
    this.#table = table;
    this.#columns = columns;
    this.#values = new Array(columns.length * ROWS_PER_STATEMENT);
  }

  add(value: unknown): void {
    this.#values[this.#filled] = value;
    this.#filled += 1;
    if (this.#filled === this.#values.length) {
      this.#statement(ROWS_PER_STATEMENT).run(this.#values);
      this.#filled = 0;
    }
  }

  flush(): void {
    if (this.#filled === 0) {
      return;
    }
    const single = this.#statement(1);
    const width = this.#columns.length;
    for (let start = 0; start < this.#filled; start += width) {
      single.run(this.#values.slice(start, start + width));
    }
    this.#filled = 0;
  }

  #statement(rows: number): SqliteDatabase.Statement {
    let statements = statementsByDatabase.get(this.#sqlite);
    if (!statements) {
      statements = new Map();
      statementsByDatabase.set(this.#sqlite, statements);
    }
    const key = `${this.#table}:${rows}`;
    let statement = statements.get(key);
    if (!statement) {
      const row = `(${this.#columns.map(() => '?').join(', ')})`;
      statement = this.#sqlite.prepare(
        `insert into ${this.#table} (${this.#columns.join(', ')}) values ${Array(rows).fill(row).join(', ')}`,
      );
      statements.set(key, statement);
    }
    return statement;
  }
}
