import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Kysely } from 'kysely';
import { seedIdentityCatalog } from '../../test/fixtures/identity/seed-catalog.js';
import { describeEachDialect } from '../../test/support/databases.js';
import { createCatalogDirectory } from '../catalog/directory.js';
import { migrateToLatest } from '../database/index.js';
import { createLogger } from '../logging.js';
import type { Principal } from '../permissions/index.js';
import { identityMigrations } from './migrations.js';
import { createSessions, hashSessionId, PRINCIPAL_REFRESH_MS, type Sessions } from './sessions.js';
import type { IdentityClaims } from './sign-in-resolution.js';
import type { IdentityTables } from './tables.js';

const START = new Date('2030-01-01T08:00:00.000Z');

const adaClaims: IdentityClaims = {
  sub: 'ada',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  preferredUsername: 'ada',
  groups: [],
};

/** A principal that differs from what the catalog resolves, to see re-resolution replace it. */
const staleAda: Principal = {
  userEntityRef: 'user:default/ada',
  groupEntityRefs: ['group:default/stale'],
  ownershipEntityRefs: ['user:default/ada', 'group:default/stale'],
};

describeEachDialect('sessions', (context) => {
  let now = START;
  let sessions: Sessions;
  let db: Kysely<IdentityTables>;

  before(async () => {
    await seedIdentityCatalog(context.handle());
    await migrateToLatest(context.handle(), [identityMigrations]);
    db = context.handle().db as Kysely<IdentityTables>;
    sessions = createSessions({
      database: context.handle(),
      directory: createCatalogDirectory(context.handle()),
      logger: createLogger({ level: 'silent' }),
      maxAgeHours: 12,
      transitiveGroupOwnership: true,
      clock: () => now,
    });
  });

  test('finds a created session', async () => {
    now = START;
    const { sessionId, expiresAt } = await sessions.create(staleAda, adaClaims);

    const view = await sessions.find(sessionId);

    assert.deepEqual(view?.principal, staleAda);
    assert.equal(view?.displayName, 'Ada Lovelace');
    assert.equal(view?.email, 'ada@example.com');
    assert.equal(expiresAt.toISOString(), '2030-01-01T20:00:00.000Z');
  });

  test('stores only the hash of the id', async () => {
    now = START;
    const { sessionId } = await sessions.create(staleAda, adaClaims);

    const rows = await db.selectFrom('identity_sessions').selectAll().execute();

    assert.ok(rows.some((row) => row.id_hash === hashSessionId(sessionId)));
    assert.ok(rows.every((row) => !JSON.stringify(row).includes(sessionId)));
  });

  test('gives each session a new random id', async () => {
    now = START;
    const first = await sessions.create(staleAda, adaClaims);
    const second = await sessions.create(staleAda, adaClaims);

    assert.notEqual(first.sessionId, second.sessionId);
    assert.match(first.sessionId, /^[A-Za-z0-9_-]{43}$/);
  });

  test('returns undefined for malformed or unknown ids', async () => {
    const values = [undefined, '', 'abc', 'a'.repeat(44), `${'a'.repeat(42)}.`, 'a'.repeat(43)];
    for (const value of values) {
      assert.equal(await sessions.find(value), undefined, `value ${JSON.stringify(value)}`);
    }
  });

  test('expires after the absolute lifetime', async () => {
    now = START;
    const { sessionId } = await sessions.create(staleAda, adaClaims);

    now = new Date(START.getTime() + 12 * 3_600_000 - 1);
    assert.notEqual(await sessions.find(sessionId), undefined);
    now = new Date(START.getTime() + 12 * 3_600_000);
    assert.equal(await sessions.find(sessionId), undefined);
    const row = await db
      .selectFrom('identity_sessions')
      .select('id_hash')
      .where('id_hash', '=', hashSessionId(sessionId))
      .executeTakeFirst();
    assert.equal(row, undefined);
  });

  test('keeps the stored principal within a minute', async () => {
    now = START;
    const { sessionId } = await sessions.create(staleAda, adaClaims);

    now = new Date(START.getTime() + PRINCIPAL_REFRESH_MS - 1);
    const view = await sessions.find(sessionId);

    assert.deepEqual(view?.principal.groupEntityRefs, ['group:default/stale']);
  });

  test('re-resolves the principal after a minute', async () => {
    now = START;
    const { sessionId } = await sessions.create(staleAda, adaClaims);

    now = new Date(START.getTime() + PRINCIPAL_REFRESH_MS);
    const view = await sessions.find(sessionId);

    assert.deepEqual(view?.principal.groupEntityRefs, [
      'group:default/company',
      'group:default/engineering',
      'group:default/team-a',
    ]);
    const row = await db
      .selectFrom('identity_sessions')
      .select(['principal', 'principal_resolved_at'])
      .where('id_hash', '=', hashSessionId(sessionId))
      .executeTakeFirstOrThrow();
    assert.equal(row.principal_resolved_at, now.toISOString());
    assert.deepEqual(JSON.parse(row.principal), view?.principal);
  });

  test('ends a session whose user left the catalog', async () => {
    now = START;
    const ghost: Principal = {
      userEntityRef: 'user:default/ghost',
      groupEntityRefs: [],
      ownershipEntityRefs: ['user:default/ghost'],
    };
    const { sessionId } = await sessions.create(ghost, { sub: 'ghost', groups: [] });

    now = new Date(START.getTime() + PRINCIPAL_REFRESH_MS);

    assert.equal(await sessions.find(sessionId), undefined);
    assert.equal(await sessions.find(sessionId), undefined);
  });

  test('delete ends the session', async () => {
    now = START;
    const { sessionId } = await sessions.create(staleAda, adaClaims);

    await sessions.delete(sessionId);

    assert.equal(await sessions.find(sessionId), undefined);
  });

  test('deleteExpired removes only expired sessions', async () => {
    await db.deleteFrom('identity_sessions').execute();
    now = START;
    await sessions.create(staleAda, adaClaims);
    now = new Date(START.getTime() + 6 * 3_600_000);
    const { sessionId: younger } = await sessions.create(staleAda, adaClaims);

    now = new Date(START.getTime() + 13 * 3_600_000);
    const removed = await sessions.deleteExpired();

    assert.equal(removed, 1);
    assert.notEqual(await sessions.find(younger), undefined);
  });
});

describeEachDialect('sessions with idle timeout and catalog version', (context) => {
  let now = START;
  let catalogVersion = 'v1';
  let sessions: Sessions;
  let db: Kysely<IdentityTables>;

  before(async () => {
    await seedIdentityCatalog(context.handle());
    await migrateToLatest(context.handle(), [identityMigrations]);
    db = context.handle().db as Kysely<IdentityTables>;
    sessions = createSessions({
      database: context.handle(),
      directory: createCatalogDirectory(context.handle()),
      logger: createLogger({ level: 'silent' }),
      maxAgeHours: 12,
      idleTimeoutMinutes: 30,
      transitiveGroupOwnership: true,
      readCatalogVersion: async () => catalogVersion,
      clock: () => now,
    });
  });

  test('ends a session idle for the timeout', async () => {
    now = START;
    const { sessionId } = await sessions.create(staleAda, adaClaims, undefined, catalogVersion);

    now = new Date(START.getTime() + 30 * 60_000);

    assert.equal(await sessions.find(sessionId), undefined);
  });

  test('requests keep a session alive past the timeout', async () => {
    now = START;
    const { sessionId } = await sessions.create(staleAda, adaClaims, undefined, catalogVersion);

    for (let minute = 20; minute <= 120; minute += 20) {
      now = new Date(START.getTime() + minute * 60_000);
      assert.notEqual(await sessions.find(sessionId), undefined, `minute ${minute}`);
    }
  });

  test('re-resolves when the catalog version changes', async () => {
    now = START;
    catalogVersion = 'v1';
    const { sessionId } = await sessions.create(staleAda, adaClaims, undefined, catalogVersion);
    assert.deepEqual((await sessions.find(sessionId))?.principal, staleAda);

    catalogVersion = 'v2';
    now = new Date(START.getTime() + 1000);
    const view = await sessions.find(sessionId);

    assert.deepEqual(view?.principal.groupEntityRefs, [
      'group:default/company',
      'group:default/engineering',
      'group:default/team-a',
    ]);
    const row = await db
      .selectFrom('identity_sessions')
      .select('catalog_version')
      .where('id_hash', '=', hashSessionId(sessionId))
      .executeTakeFirstOrThrow();
    assert.equal(row.catalog_version, 'v2');
  });

  test('deleteExpired removes idle sessions', async () => {
    await db.deleteFrom('identity_sessions').execute();
    now = START;
    await sessions.create(staleAda, adaClaims, undefined, catalogVersion);
    now = new Date(START.getTime() + 20 * 60_000);
    const { sessionId: recent } = await sessions.create(
      staleAda,
      adaClaims,
      undefined,
      catalogVersion,
    );

    now = new Date(START.getTime() + 31 * 60_000);
    const removed = await sessions.deleteExpired();

    assert.equal(removed, 1);
    assert.notEqual(await sessions.find(recent), undefined);
  });
});
