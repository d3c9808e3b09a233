import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Kysely } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { HttpClient } from '../../test/support/http-client.js';
import { type ProviderPortal, startProviderPortal } from '../../test/support/oidc-portal.js';
import { hashSessionId, PRINCIPAL_REFRESH_MS } from './sessions.js';
import type { IdentityTables } from './tables.js';

const API_AUDIENCE = 'https://portal.example/api';
const ADA_MEMBERSHIP = 'memberOf: [team-a]';

describeEachDialect('membership changes in live sessions', (context) => {
  let started: ProviderPortal;
  let catalogFile: string;
  let browser: HttpClient;
  let accessToken: string;
  let signedInAt: number;

  async function groupsOf(
    headers: Record<string, string> = {},
    client = browser,
  ): Promise<string[]> {
    const response = await client.request('/api/auth/me', { headers });
    assert.equal(response.status, 200, response.body);
    return (JSON.parse(response.body) as { groupEntityRefs: string[] }).groupEntityRefs;
  }

  async function changeCatalog(from: string, to: string): Promise<void> {
    const text = readFileSync(catalogFile, 'utf8');
    assert.ok(text.includes(from), `the fixture contains ${from}`);
    writeFileSync(catalogFile, text.replace(from, to));
    const summary = await started.portal.portal.catalog.refreshAll();
    assert.equal(summary.errors, 0);
  }

  function resolvedAt(): Promise<string> {
    const sessionId = browser.cookie('portal_session');
    assert.ok(sessionId);
    return (started.portal.portal.database.db as Kysely<IdentityTables>)
      .selectFrom('identity_sessions')
      .select('principal_resolved_at')
      .where('id_hash', '=', hashSessionId(sessionId))
      .executeTakeFirstOrThrow()
      .then((row) => row.principal_resolved_at);
  }

  before(async () => {
    started = await startProviderPortal({
      dialect: context.dialect,
      copyFixtures: true,
      provider: {
        accounts: { 'ada-id': { email: 'ada@example.com', name: 'Ada Lovelace', groups: [] } },
        resources: [{ audience: API_AUDIENCE }],
      },
      oidc: { bearer: { audiences: [API_AUDIENCE] } },
    });
    catalogFile = path.join(started.fixtureFolder, 'catalog.yaml');

    browser = new HttpClient(started.portal.url);
    started.provider.signInAs('ada-id');
    signedInAt = Date.now();
    await browser.follow('/api/auth/login');
    ({ accessToken } = await started.provider.fetchTokens('ada-id', API_AUDIENCE));
  });
  after(async () => {
    await started?.close();
  });

  test('unchanged catalog keeps the stored principal', async () => {
    const before = await resolvedAt();

    await groupsOf();
    await groupsOf();

    assert.equal(await resolvedAt(), before);
  });

  test('a new membership applies at the next request', async () => {
    assert.deepEqual(await groupsOf(), ['group:default/everyone', 'group:default/team-a']);
    await groupsOf({ authorization: `Bearer ${accessToken}` });

    await changeCatalog(ADA_MEMBERSHIP, 'memberOf: [team-a, admins]');

    const expected = ['group:default/admins', 'group:default/everyone', 'group:default/team-a'];
    assert.deepEqual(await groupsOf(), expected);
    assert.deepEqual(
      await groupsOf(
        { authorization: `Bearer ${accessToken}` },
        new HttpClient(started.portal.url),
      ),
      expected,
    );
    assert.ok(
      Date.now() - signedInAt < PRINCIPAL_REFRESH_MS,
      'the change applied before the time-based refresh could have',
    );
  });

  test('a removed membership applies at the next request', async () => {
    await changeCatalog('memberOf: [team-a, admins]', 'memberOf: []');

    assert.deepEqual(await groupsOf(), []);
    assert.deepEqual(
      await groupsOf(
        { authorization: `Bearer ${accessToken}` },
        new HttpClient(started.portal.url),
      ),
      [],
    );
  });

  test('an unmatched user loses session and token', async () => {
    // Sign-in found ada by email; with another email no User entity matches her claims.
    await changeCatalog('email: ada@example.com', 'email: ada@moved.example');

    const session = await browser.request('/api/auth/me');
    const token = await new HttpClient(started.portal.url).request('/api/auth/me', {
      headers: { authorization: `Bearer ${accessToken}` },
    });

    assert.equal(session.status, 401);
    assert.equal(token.status, 401);
    assert.equal(JSON.parse(token.body).error.code, 'BEARER_TOKEN_USER_NOT_FOUND');
  });
});
