import { type Kysely, sql } from 'kysely';
import { pino } from 'pino';
import { GENESIS_HASH } from '../src/audit/canonical.js';
import { chainedRow } from '../src/audit/chain.js';
import { normalizeEvent } from '../src/audit/event.js';
import type { AuditEvent } from '../src/audit/index.js';
import { auditMigrations, createAuditTrail } from '../src/audit/index.js';
import type { AuditRecordRow, AuditTables } from '../src/audit/tables.js';
import { createTestKeys, testAuditConfig } from '../src/audit/test-helpers.js';
import {
  connectDatabase,
  type DatabaseHandle,
  type DialectName,
  migrateToLatest,
} from '../src/database/index.js';
import { createTestDatabase } from '../test/support/databases.js';

export interface AuditFigures {
  dialect: DialectName;
  appends: number;
  /** One record per transaction of its own. */
  appendsPerSecond: number;
  /** One record in a transaction that also inserts a row of another table. */
  appendsWithActionPerSecond: number;
  /** Wall time, and the CPU time of this process alone (PostgreSQL's own work is not in it). */
  verify?: { records: number; seconds: number; cpuSeconds: number; ok: boolean };
}

export interface AuditBenchmarkOptions {
  dialect: DialectName;
  /** Appends per measurement; 20,000 by default. */
  appends?: number;
  /** Records of the verification run; 0 skips it. 1,000,000 by default. */
  verifyRecords?: number;
}

/** Builds an event as a sign-in or a denied request writes it: every column filled, a few details. */
function sampleEvent(index: number): AuditEvent {
  return {
    actor: `user:default/user-${index % 10_000}`,
    action: index % 5 === 0 ? 'permission.denied' : 'auth.sign-in',
    target: `component:default/service-${index % 2_000}`,
    outcome: index % 5 === 0 ? 'denied' : 'succeeded',
    reason: index % 5 === 0 ? 'no role grants catalog.entity.read' : undefined,
    request: {
      ip: `10.0.${(index >> 8) & 255}.${index & 255}`,
      userAgent:
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
      requestId: `request-${index}`,
    },
    details: { groups: ['group:default/team-a', 'group:default/engineering'], index },
  };
}

/**
 * Measures appends per second on an empty database of the dialect (a
 * temporary SQLite file or a fresh PostgreSQL database), then the time of
 * verifying a chain of `verifyRecords` records loaded in bulk.
 */
export async function benchmarkAudit(options: AuditBenchmarkOptions): Promise<AuditFigures> {
  const appends = options.appends ?? 20_000;
  const verifyRecords = options.verifyRecords ?? 1_000_000;
  const database = await createTestDatabase(options.dialect);
  const handle = connectDatabase(database.config);
  try {
    await migrateToLatest(handle, [auditMigrations]);
    await sql`create table bench_actions (id integer primary key, name varchar(64) not null)`.execute(
      handle.db,
    );
    const keys = createTestKeys();
    const trail = createAuditTrail({
      database: handle,
      config: testAuditConfig(),
      logger: pino({ level: 'silent' }),
      keys,
    });

    const aloneSeconds = await time(async () => {
      for (let index = 0; index < appends; index += 1) {
        await trail.append(handle.db, sampleEvent(index));
      }
    });
    const withActionSeconds = await time(async () => {
      for (let index = 0; index < appends; index += 1) {
        await handle.db.transaction().execute(async (transaction) => {
          await sql`insert into bench_actions (id, name) values (${index}, ${'approve'})`.execute(
            transaction,
          );
          await trail.append(transaction, sampleEvent(index));
        });
      }
    });

    const figures: AuditFigures = {
      dialect: options.dialect,
      appends,
      appendsPerSecond: Math.round(appends / aloneSeconds),
      appendsWithActionPerSecond: Math.round(appends / withActionSeconds),
    };

    if (verifyRecords > 0) {
      await loadChain(handle, verifyRecords);
      await trail.checkpoint();
      let ok = false;
      const cpuBefore = process.cpuUsage();
      const seconds = await time(async () => {
        ok = (await trail.verify()).ok;
      });
      const cpu = process.cpuUsage(cpuBefore);
      figures.verify = {
        records: verifyRecords,
        seconds,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        ok,
      };
    }
    return figures;
  } finally {
    await handle.destroy();
    await database.cleanup();
  }
}

/** Replaces the records with a valid chain of `count` records, written in bulk rather than appended. */
async function loadChain(handle: DatabaseHandle, count: number): Promise<void> {
  const db = handle.db as Kysely<AuditTables>;
  await db.deleteFrom('audit_records').execute();
  await db.deleteFrom('audit_checkpoints').execute();

  // A few distinct events, normalised once; the chain makes every record distinct.
  const events = Array.from({ length: 50 }, (_, index) => normalizeEvent(sampleEvent(index)));
  const start = Date.parse('2025-01-01T00:00:00.000Z');
  let previousHash = GENESIS_HASH;
  const batch: AuditRecordRow[] = [];
  const flush = async () => {
    await insertRows(handle, batch);
    batch.length = 0;
  };

  for (let sequence = 1; sequence <= count; sequence += 1) {
    const event = events[sequence % events.length];
    if (!event) {
      throw new Error('no sample event');
    }
    const row = chainedRow(event, sequence, previousHash, () => new Date(start + sequence * 10));
    batch.push(row);
    previousHash = row.hash;
    if (batch.length === 10_000) {
      await flush();
    }
  }
  await flush();
  await db
    .updateTable('audit_head')
    .set({ sequence: count, hash: previousHash })
    .where('id', '=', 1)
    .execute();
  if (handle.dialect === 'postgres') {
    await sql`analyze audit_records`.execute(handle.db);
  }
}

const COLUMNS: ReadonlyArray<keyof AuditRecordRow> = [
  'sequence',
  'time',
  'actor',
  'action',
  'target',
  'outcome',
  'reason',
  'ip',
  'user_agent',
  'request_id',
  'details',
  'previous_hash',
  'hash',
];

async function insertRows(handle: DatabaseHandle, rows: readonly AuditRecordRow[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  if (handle.sqlite) {
    const sqlite = handle.sqlite;
    const insert = sqlite.prepare<AuditRecordRow>(
      `insert into audit_records (${COLUMNS.join(', ')}) values (${COLUMNS.map((column) => `@${column}`).join(', ')})`,
    );
    sqlite.transaction(() => {
      for (const row of rows) {
        insert.run(row);
      }
    })();
    return;
  }
  // One statement per batch: each column travels as one array parameter.
  const types = ['bigint', ...Array<string>(COLUMNS.length - 1).fill('text')];
  const arrays = COLUMNS.map(
    (column, index) => sql`${rows.map((row) => row[column])}::${sql.raw(types[index] ?? 'text')}[]`,
  );
  await sql`insert into audit_records (${sql.raw(COLUMNS.join(', '))}) select * from unnest(${sql.join(arrays)})`.execute(
    handle.db,
  );
}

async function time(body: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await body();
  return Number(process.hrtime.bigint() - started) / 1e9;
}
