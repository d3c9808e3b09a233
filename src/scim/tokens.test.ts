import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Kysely } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { migrateToLatest } from '../database/index.js';
import { ConflictError, InputError, NotFoundError } from '../errors/index.js';
import { scimMigrations } from './migrations.js';
import type { ScimTables } from './tables.js';
import { ScimTokens } from './tokens.js';

describeEachDialect('SCIM tokens', (context) => {
  let tokens: ScimTokens;
  let now = new Date('2026-03-01T10:00:00.000Z');

  before(async () => {
    await migrateToLatest(context.handle(), [scimMigrations]);
    tokens = new ScimTokens(context.handle(), () => now);
  });

  test('token verifies and stores only a hash', async () => {
    const { token, info } = await tokens.create('okta');
    assert.match(token, /^luigi_scim_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);

    const db = context.handle().db as Kysely<ScimTables>;
    const row = await db
      .selectFrom('scim_tokens')
      .selectAll()
      .where('id', '=', info.id)
      .executeTakeFirstOrThrow();
    assert.match(row.secret_hash, /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(row).includes(token.slice(-43)));

    assert.deepEqual(await tokens.verify(token), { tokenId: info.id, name: 'okta' });
    const used = await db
      .selectFrom('scim_tokens')
      .select('last_used_at')
      .where('id', '=', info.id)
      .executeTakeFirstOrThrow();
    assert.equal(used.last_used_at, now.toISOString());
  });

  test('altered tokens do not verify', async () => {
    const { token } = await tokens.create('entra');
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    assert.equal(await tokens.verify(`${token.slice(0, -1)}${last}`), undefined);
    assert.equal(
      await tokens.verify(token.replace(/_[0-9a-f]{16}_/, '_0000000000000000_')),
      undefined,
    );
    assert.equal(await tokens.verify('not-a-token'), undefined);
    assert.equal(await tokens.verify(''), undefined);
  });

  test('names are checked and unique among live tokens', async () => {
    await assert.rejects(tokens.create('Okta Prod'), InputError);
    await assert.rejects(tokens.create('okta'), ConflictError);
    await assert.rejects(tokens.revoke('nobody'), NotFoundError);
  });

  test('revoked token stops verifying and frees its name', async () => {
    now = new Date('2026-03-02T10:00:00.000Z');
    const { token } = await tokens.create('jumpcloud');
    const revoked = await tokens.revoke('jumpcloud');
    assert.equal(revoked.revokedAt, now.toISOString());
    assert.equal(await tokens.verify(token), undefined);

    const replacement = await tokens.create('jumpcloud');
    assert.ok(await tokens.verify(replacement.token));

    const listed = await tokens.list();
    assert.deepEqual(
      listed.map((item) => `${item.name} ${item.revokedAt === null ? 'live' : 'revoked'}`).sort(),
      ['entra live', 'jumpcloud live', 'jumpcloud revoked', 'okta live'],
    );
  });
});
