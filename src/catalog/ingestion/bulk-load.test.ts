import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { pino } from 'pino';
import { generateOrganisation } from '../../../bench/generate-organisation.js';
import { type DialectContext, describeEachDialect } from '../../../test/support/databases.js';
import { CORPUS_ROOT } from '../../../test/support/portal.js';
import type { CatalogConfig } from '../../config/index.js';
import { type DatabaseHandle, migrateToLatest } from '../../database/index.js';
import { catalogMigrations } from '../migrations.js';
import { IngestionRunner } from './runner.js';
import { createIngestionStore } from './sql-store.js';

// biome-ignore lint/suspicious/noExplicitAny: the test reads the catalog tables and the schema catalogs raw.
type AnyKysely = Kysely<any>;

const folders: string[] = [];
after(() => {
  for (const folder of folders) {
    rmSync(folder, { recursive: true, force: true });
  }
});

function temporaryFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'bulk-load-test-'));
  folders.push(folder);
  return folder;
}

/** Builds a config that trusts the locations with the User and Group entities of the generated organisation and the corpus. */
function config(targets: readonly string[]): CatalogConfig {
  return {
    locations: targets.map((target) => ({
      type: 'file' as const,
      target,
      rules: [{ allow: ['User', 'Group'] }],
    })),
    refresh: { intervalSeconds: 0, watch: false },
  };
}

/** A logger that keeps the messages it was given. */
function recordingLogger(): { logger: pino.Logger; messages: string[] } {
  const messages: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      messages.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), messages };
}

async function refreshOnce(
  handle: DatabaseHandle,
  catalogConfig: CatalogConfig,
  options: { workerMinChangedChars?: number } = {},
): Promise<string[]> {
  const { logger, messages } = recordingLogger();
  const runner = new IngestionRunner(createIngestionStore(handle), catalogConfig, logger, options);
  try {
    await runner.refreshAll();
  } finally {
    await runner.stop();
  }
  return messages;
}

/** Every index and foreign key of the catalog tables, as definitions. */
async function catalogSchema(context: DialectContext): Promise<string[]> {
  const db = context.handle().db as AnyKysely;
  if (context.dialect === 'sqlite') {
    const indexes = await sql<{ name: string; sql: string | null }>`
      select name, sql from sqlite_schema
      where type = 'index' and tbl_name like 'catalog\\_%' escape '\\' order by name`.execute(db);
    const keys = await sql<{ table: string; from: string; to: string }>`
      select t.name as "table", k."from" as "from", k."table" || '.' || k."to" as "to"
      from sqlite_schema t, pragma_foreign_key_list(t.name) k
      where t.type = 'table' and t.name like 'catalog\\_%' escape '\\'
      order by t.name, k."from"`.execute(db);
    return [
      ...indexes.rows.map((row) => `index ${row.name} ${row.sql ?? '(automatic)'}`),
      ...keys.rows.map((row) => `foreign key ${row.table}.${row.from} -> ${row.to}`),
    ];
  }
  const indexes = await sql<{ indexname: string; indexdef: string }>`
    select indexname, indexdef from pg_indexes
    where schemaname = current_schema() and tablename like 'catalog\\_%' order by indexname`.execute(
    db,
  );
  const keys = await sql<{ name: string; definition: string }>`
    select conname as name, pg_get_constraintdef(oid) as definition from pg_constraint
    where contype = 'f' and conrelid::regclass::text like 'catalog\\_%' order by conname`.execute(
    db,
  );
  return [
    ...indexes.rows.map((row) => `index ${row.indexname} ${row.indexdef}`),
    ...keys.rows.map((row) => `foreign key ${row.name} ${row.definition}`),
  ];
}

/** The stored catalog without what differs between two ingests of the same files: uids and times. */
async function catalogContent(db: AnyKysely): Promise<Record<string, string[]>> {
  const rows = async (query: ReturnType<typeof sql>) =>
    (await query.execute(db)).rows.map((row) => JSON.stringify(row)).sort();
  const entities = (
    await sql<{ body: string; [column: string]: unknown }>`
      select entity_ref, kind, namespace, name, location_id, file, doc_index, etag, body
      from catalog_entities`.execute(db)
  ).rows.map((row) => {
    const body = JSON.parse(row.body) as { metadata: { uid?: string } };
    delete body.metadata.uid;
    return JSON.stringify({ ...row, body });
  });
  return {
    entities: entities.sort(),
    locations: await rows(
      sql`select id, type, target, parent_id, parent_entity_ref, position from catalog_locations`,
    ),
    relations: await rows(
      sql`select e.entity_ref, r.source_ref, r.type, r.target_ref
        from catalog_relations r join catalog_entities e on e.id = r.originating_id`,
    ),
    search: await rows(
      sql`select e.entity_ref, s.key, s.ordinal, s.value
        from catalog_search s join catalog_entities e on e.id = s.entity_id
        where s.key <> 'metadata.uid'`,
    ),
    errors: await rows(
      sql`select location_id, severity, code, file, doc_index, line, entity_ref, field, message from catalog_errors`,
    ),
  };
}

async function clearCatalog(db: AnyKysely): Promise<void> {
  // Deleting the locations deletes everything else of the catalog with them.
  await sql`delete from catalog_locations`.execute(db);
}

describeEachDialect('catalog bulk load', (context: DialectContext) => {
  const db = () => context.handle().db as AnyKysely;
  let migrated = false;
  const migrate = async () => {
    if (!migrated) {
      await migrateToLatest(context.handle(), [catalogMigrations]);
      migrated = true;
    }
  };

  test('first refresh builds every index and foreign key again', async () => {
    await migrate();
    const before = await catalogSchema(context);
    const folder = temporaryFolder();
    generateOrganisation(folder, {
      domains: 2,
      systems: 4,
      groups: 10,
      groupDepth: 3,
      users: 20,
      apis: 20,
      resources: 20,
      components: 50,
      entitiesPerFile: 40,
    });

    await refreshOnce(context.handle(), config([path.join(folder, '*.yaml')]));

    const stored = await sql<{
      n: number | string;
    }>`select count(*) as n from catalog_entities`.execute(db());
    assert.equal(Number(stored.rows[0]?.n), 126);
    assert.deepEqual(await catalogSchema(context), before);
    if (context.dialect === 'sqlite') {
      const sqlite = context.handle().sqlite;
      assert.equal(sqlite?.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(sqlite?.pragma('synchronous', { simple: true }), 1);
    }
    await clearCatalog(db());
  });

  test('failed first refresh keeps the schema and stores nothing', async () => {
    await migrate();
    const before = await catalogSchema(context);
    const folder = temporaryFolder();
    const component = (name: string) =>
      `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n`;
    writeFileSync(path.join(folder, 'a.yaml'), `${component('svc-a')}---\n${component('boom')}`);

    // A trigger makes the search insert of one entity fail in the middle of the load.
    if (context.dialect === 'sqlite') {
      await sql`create trigger fail_boom before insert on catalog_search
        when (select entity_ref from catalog_entities where id = new.entity_id) = 'component:default/boom'
        begin select raise(abort, 'injected failure'); end`.execute(db());
    } else {
      await sql`create function fail_boom() returns trigger language plpgsql as $$
        begin
          if (select entity_ref from catalog_entities where id = new.entity_id) = 'component:default/boom' then
            raise exception 'injected failure';
          end if;
          return new;
        end $$`.execute(db());
      await sql`create trigger fail_boom before insert on catalog_search
        for each row execute function fail_boom()`.execute(db());
    }
    try {
      await refreshOnce(context.handle(), config([path.join(folder, 'a.yaml')]));
    } finally {
      await sql`drop trigger fail_boom${context.dialect === 'postgres' ? sql` on catalog_search` : sql``}`.execute(
        db(),
      );
      if (context.dialect === 'postgres') {
        await sql`drop function fail_boom()`.execute(db());
      }
    }

    const stored = await sql<{
      n: number | string;
    }>`select count(*) as n from catalog_entities`.execute(db());
    assert.equal(Number(stored.rows[0]?.n), 0);
    assert.deepEqual(await catalogSchema(context), before);
    if (context.dialect === 'sqlite') {
      assert.equal(context.handle().sqlite?.pragma('journal_mode', { simple: true }), 'wal');
    }
    await clearCatalog(db());
  });

  test('worker threads store what the main thread stores', async () => {
    await migrate();
    const folder = temporaryFolder();
    generateOrganisation(folder, {
      domains: 2,
      systems: 6,
      groups: 12,
      groupDepth: 3,
      users: 60,
      apis: 40,
      resources: 40,
      components: 120,
      entitiesPerFile: 50,
    });
    // The corpus brings faults of every kind, which the workers must report alike.
    const catalogConfig = config([
      path.join(CORPUS_ROOT, 'catalog', '*.yaml'),
      path.join(CORPUS_ROOT, 'catalog', '*.yml'),
      path.join(folder, '*.yaml'),
    ]);

    const inlineMessages = await refreshOnce(context.handle(), catalogConfig);
    const inline = await catalogContent(db());
    await clearCatalog(db());
    const workerMessages = await refreshOnce(context.handle(), catalogConfig, {
      workerMinChangedChars: 0,
    });
    const workers = await catalogContent(db());
    await clearCatalog(db());

    assert.ok(!inlineMessages.includes('catalog files prepared on worker threads'));
    assert.ok(workerMessages.includes('catalog files prepared on worker threads'));
    assert.ok(inline.entities && inline.entities.length > 300);
    for (const table of Object.keys(inline)) {
      assert.deepEqual(workers[table], inline[table], `${table} differ`);
    }
  });
});
