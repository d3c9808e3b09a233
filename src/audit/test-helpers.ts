import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { sql } from 'kysely';
import { pino } from 'pino';
import type { AppConfig } from '../config/index.js';
import { type DatabaseHandle, migrateToLatest } from '../database/index.js';
import { GENESIS_HASH } from './canonical.js';
import { auditMigrations } from './migrations.js';
import { type AuditKeys, keyIdOf } from './signing.js';
import { type AuditTrail, createAuditTrail } from './trail.js';

/** Helpers shared by the audit tests; nothing outside tests imports this file. */

/** Generates a fresh Ed25519 key pair as the trail's keys. */
export function createTestKeys(): AuditKeys {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = createPublicKey(privateKey);
  const keyId = keyIdOf(publicKey);
  return {
    signer: { keyId, privateKey, source: 'test key' },
    publicKeys: new Map([[keyId, publicKey]]),
  };
}

/** Builds the audit part of a config: defaults, and an in-memory database that no key file is placed beside. */
export function testAuditConfig(
  audit: Partial<AppConfig['audit']> = {},
): Pick<AppConfig, 'audit' | 'database'> {
  return {
    audit: { checkpoint: { intervalSeconds: 300 }, signing: { publicKeys: [] }, ...audit },
    database: { client: 'better-sqlite3', connection: ':memory:' },
  };
}

/** A clock that the test moves forward by hand; starts at 2025-01-01T00:00:00Z. */
export class TestClock {
  private time = Date.parse('2025-01-01T00:00:00.000Z');

  readonly now = (): Date => new Date(this.time);

  advance(milliseconds: number): void {
    this.time += milliseconds;
  }
}

export interface TestTrail {
  trail: AuditTrail;
  keys: AuditKeys;
  clock: TestClock;
}

/**
 * Migrates the database, empties the audit tables and creates a trail with
 * fresh keys and a test clock. Suites that share one database call it in
 * each test, so every test starts from an empty chain.
 */
export async function openTestTrail(
  handle: DatabaseHandle,
  audit: Partial<AppConfig['audit']> = {},
): Promise<TestTrail> {
  await migrateToLatest(handle, [auditMigrations]);
  await sql`delete from audit_records`.execute(handle.db);
  await sql`delete from audit_checkpoints`.execute(handle.db);
  await sql`update audit_head set sequence = 0, hash = ${GENESIS_HASH} where id = 1`.execute(
    handle.db,
  );

  const keys = createTestKeys();
  const clock = new TestClock();
  const trail = createAuditTrail({
    database: handle,
    config: testAuditConfig(audit),
    logger: pino({ level: 'silent' }),
    keys,
    now: clock.now,
  });
  return { trail, keys, clock };
}

/** Appends `count` records of action `test.action`, one per transaction, a second apart. */
export async function appendTestRecords(
  handle: DatabaseHandle,
  { trail, clock }: TestTrail,
  count: number,
): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    await trail.append(handle.db, {
      actor: `user:default/user-${index % 3}`,
      action: 'test.action',
      target: `component:default/service-${index}`,
      outcome: index % 4 === 0 ? 'denied' : 'succeeded',
      details: { index },
    });
    clock.advance(1000);
  }
}
