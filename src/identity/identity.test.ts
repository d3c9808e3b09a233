import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import {
  ensureIdentityCatalog,
  IDENTITY_CONFIG_FILE,
  type SeedMethod,
} from '../../test/fixtures/identity/seed-catalog.js';
import { describeEachDialect } from '../../test/support/databases.js';
import { HttpClient, type HttpResponse } from '../../test/support/http-client.js';
import { startTestPortal, type TestPortal } from '../../test/support/portal.js';
import { createCatalogDirectory } from '../catalog/directory.js';
import { loadConfig } from '../config/index.js';
import { connectDatabase } from '../database/index.js';
import { ConfigError } from '../errors/index.js';
import { createLogger } from '../logging.js';
import { createIdentity } from './index.js';
import type { IdentityTables } from './tables.js';

const COOKIE = 'portal_session';

interface Started {
  portal: TestPortal;
  seedMethod: SeedMethod;
  /** Every token response body of the development provider, as issued. */
  issuedTokens: Array<Record<string, unknown>>;
  /** Every log line the portal wrote. */
  logLines: string[];
}

async function startIdentityPortal(
  dialect: 'sqlite' | 'postgres',
  overrides: Record<string, unknown> = {},
): Promise<Started> {
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const portal = await startTestPortal({
    dialect,
    configFiles: [IDENTITY_CONFIG_FILE],
    overrides,
    logger: createLogger({ level: 'debug', destination }),
  });
  // A setup that fails must still close the portal, or its open server keeps
  // the test process alive and the run hangs instead of failing.
  try {
    const seedMethod = await ensureIdentityCatalog(portal.portal.database);

    const issuedTokens: Array<Record<string, unknown>> = [];
    const provider = portal.portal.identity.developmentProvider?.provider;
    assert.ok(provider, 'the development provider is enabled in the fixture config');
    provider.on('grant.success', (ctx: { body: Record<string, unknown> }) => {
      issuedTokens.push({ ...ctx.body });
    });
    return { portal, seedMethod, issuedTokens, logLines };
  } catch (error) {
    await portal.close();
    throw error;
  }
}

/** Runs the sign-in up to the redirect to the portal's callback and returns that URL. */
async function signInUntilCallback(
  client: HttpClient,
  username: string,
  password: string,
): Promise<string> {
  const callback = `${client.baseUrl}/api/auth/callback`;
  const { submitted } = await client.signInWithDevelopmentProvider(username, password, undefined, {
    stopBefore: (location) => location.startsWith(callback),
  });
  const location = submitted.final.location ?? '(none)';
  assert.ok(location.startsWith(callback), `expected a redirect to the callback, got ${location}`);
  return location;
}

async function me(client: HttpClient): Promise<HttpResponse> {
  return await client.request('/api/auth/me');
}

function sessionsTable(started: Started): Kysely<IdentityTables> {
  return started.portal.portal.database.db as Kysely<IdentityTables>;
}

describeEachDialect('identity over HTTP', (context) => {
  let started: Started;
  let url: string;

  before(async () => {
    started = await startIdentityPortal(context.dialect);
    url = started.portal.url;
  });
  after(async () => {
    await started?.portal.close();
  });

  test('login redirects with PKCE, state and nonce', async (t) => {
    t.diagnostic(`fixture organisation stored by ${started.seedMethod}`);
    const client = new HttpClient(url);

    const response = await client.request('/api/auth/login?returnTo=%2Fcatalog%3Fkind%3Dcomponent');

    assert.equal(response.status, 302);
    const location = new URL(response.location ?? '');
    assert.equal(`${location.origin}${location.pathname}`, `${url}/dev-idp/auth`);
    assert.equal(location.searchParams.get('response_type'), 'code');
    assert.equal(location.searchParams.get('client_id'), 'backstage-luigi-portal');
    assert.equal(location.searchParams.get('redirect_uri'), `${url}/api/auth/callback`);
    assert.equal(location.searchParams.get('scope'), 'openid profile email');
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(location.searchParams.get('prompt'), 'login');
    assert.match(location.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(location.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{20,}$/);
    assert.match(location.searchParams.get('nonce') ?? '', /^[A-Za-z0-9_-]{20,}$/);

    const transaction = client.findCookie(`${COOKIE}_login`);
    assert.ok(transaction, 'the login transaction cookie is set');
    assert.equal(transaction.httpOnly, true);
    assert.equal(transaction.sameSite, 'lax');
    assert.equal(transaction.path, '/api/auth/callback');
    assert.ok(!transaction.value.includes(location.searchParams.get('state') ?? '-'));
  });

  test('login rejects a returnTo off this site', async () => {
    const client = new HttpClient(url);
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'x']) {
      const response = await client.request(
        `/api/auth/login?returnTo=${encodeURIComponent(returnTo)}`,
      );

      assert.equal(response.status, 400, returnTo);
      assert.match(response.body, /returnTo must be a path on this site/);
    }
  });

  test('login form lists the demo users', async () => {
    const client = new HttpClient(url);

    const { final } = await client.follow('/api/auth/login');

    assert.equal(final.status, 200);
    assert.match(final.headers.get('content-type') ?? '', /text\/html/);
    for (const username of ['ada', 'bob', 'user-a', 'mallory']) {
      assert.ok(final.body.includes(`<code>${username}</code>`), username);
    }
  });

  test('wrong password shows the form again', async () => {
    const client = new HttpClient(url);
    const { final: form } = await client.follow('/api/auth/login');

    const { final } = await client.submitForm(form, { username: 'ada', password: 'wrong' });

    assert.equal(final.status, 401);
    assert.match(final.body, /Wrong username or password/);
    assert.match(final.body, /<form method="post" action="\/dev-idp\/interaction\//);
    assert.equal(client.cookie(COOKIE), undefined);
  });

  test('signs in by email and shows the profile', async () => {
    const client = new HttpClient(url);

    const { submitted } = await client.signInWithDevelopmentProvider(
      'ada',
      'ada-password',
      '/catalog?kind=component',
    );

    const callback = submitted.chain.find((hop) => hop.url.startsWith(`${url}/api/auth/callback`));
    assert.equal(callback?.status, 303);
    assert.equal(callback?.location, `${url}/catalog?kind=component`);
    const session = client.findCookie(COOKIE);
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'lax');
    assert.equal(session.secure, false);
    assert.equal(session.path, '/');
    assert.equal(client.findCookie(`${COOKIE}_login`), undefined);

    const profile = await me(client);
    assert.equal(profile.status, 200);
    assert.deepEqual(JSON.parse(profile.body), {
      userEntityRef: 'user:default/ada',
      displayName: 'Ada Lovelace',
      email: 'ada@example.com',
      groupEntityRefs: [
        'group:default/admins',
        'group:default/company',
        'group:default/engineering',
        'group:default/platform',
        'group:default/team-a',
      ],
      ownershipEntityRefs: [
        'user:default/ada',
        'group:default/admins',
        'group:default/company',
        'group:default/engineering',
        'group:default/platform',
        'group:default/team-a',
      ],
    });
  });

  test('browser never sees a provider token', async () => {
    const client = new HttpClient(url);
    const before = started.issuedTokens.length;

    await client.signInWithDevelopmentProvider('ada', 'ada-password');
    await me(client);

    const issued = started.issuedTokens.slice(before);
    assert.equal(issued.length, 1);
    const secrets = ['access_token', 'id_token']
      .map((name) => issued[0]?.[name])
      .filter((value): value is string => typeof value === 'string');
    assert.equal(secrets.length, 2);
    const visible = client.history
      .flatMap((hop) => [hop.body, hop.location ?? '', ...hop.setCookies, ...hop.headers.values()])
      .join('\n');
    for (const secret of secrets) {
      assert.ok(!visible.includes(secret), 'a token reached the browser');
      assert.ok(!started.logLines.join('').includes(secret), 'a token reached the log');
    }
    assert.doesNotMatch(visible, /eyJ[\w-]+\.eyJ[\w-]+\./);
  });

  test('signs in by name when no email matches', async () => {
    const client = new HttpClient(url);

    await client.signInWithDevelopmentProvider('bob', 'bob-password');

    const profile = JSON.parse((await me(client)).body);
    assert.equal(profile.userEntityRef, 'user:default/bob');
    assert.deepEqual(profile.groupEntityRefs, []);
  });

  test('group cycle does not stop sign-in', async () => {
    const client = new HttpClient(url);

    await client.signInWithDevelopmentProvider('cyclist', 'cyclist-password');

    const profile = JSON.parse((await me(client)).body);
    assert.deepEqual(profile.groupEntityRefs, ['group:default/loop-a', 'group:default/loop-b']);
    assert.ok(started.logLines.some((line) => line.includes('group parent cycle')));
  });

  test('rejects a user without a User entity', async () => {
    const client = new HttpClient(url);

    const { submitted } = await client.signInWithDevelopmentProvider('mallory', 'mallory-password');

    assert.equal(submitted.final.status, 403);
    assert.match(
      submitted.final.body,
      /no User entity in the catalog matches email &#39;mallory@example.com&#39; or name &#39;mallory&#39;/,
    );
    assert.match(submitted.final.body, /href="\/api\/auth\/login"/);
    assert.equal(client.cookie(COOKIE), undefined);
  });

  test('rejects a callback with a wrong state', async () => {
    const client = new HttpClient(url);
    const callback = new URL(await signInUntilCallback(client, 'ada', 'ada-password'));
    callback.searchParams.set('state', 'forged-state-value');

    const response = await client.request(callback.href);

    assert.equal(response.status, 400);
    assert.match(response.body, /does not match the sign-in request/);
    assert.match(response.body, /state/);
    assert.equal(client.cookie(COOKIE), undefined);
  });

  test('rejects a callback without the transaction cookie', async () => {
    const client = new HttpClient(url);
    const callback = await signInUntilCallback(client, 'ada', 'ada-password');
    client.deleteCookie(`${COOKIE}_login`);

    const response = await client.request(callback);

    assert.equal(response.status, 400);
    assert.match(response.body, /No sign-in was started from this browser/);
    assert.equal(client.cookie(COOKIE), undefined);
  });

  test('rejects a replayed authorization code', async () => {
    const client = new HttpClient(url);
    const callback = await signInUntilCallback(client, 'ada', 'ada-password');
    const transaction = client.cookie(`${COOKIE}_login`);
    assert.ok(transaction);

    const first = await client.request(callback);
    assert.equal(first.status, 303);
    const attacker = new HttpClient(url);
    attacker.setCookie(`${COOKIE}_login`, transaction, '/api/auth/callback');
    const replay = await attacker.request(callback);

    assert.equal(replay.status, 401);
    assert.match(replay.body, /rejected the authorization code \(invalid_grant/);
    assert.equal(attacker.cookie(COOKIE), undefined);
  });

  test('returns 401 without a session', async () => {
    const response = await me(new HttpClient(url));

    assert.equal(response.status, 401);
    assert.equal(JSON.parse(response.body).error.code, 'UNAUTHENTICATED');
  });

  test('returns 401 for a malformed cookie', async () => {
    const client = new HttpClient(url);
    client.setCookie(COOKIE, 'not-a-session');

    assert.equal((await me(client)).status, 401);
  });

  test('logout ends the session', async () => {
    const client = new HttpClient(url);
    await client.signInWithDevelopmentProvider('ada', 'ada-password');
    const sessionId = client.cookie(COOKIE);
    assert.ok(sessionId);

    const response = await client.request('/api/auth/logout', { method: 'POST' });

    assert.equal(response.status, 204);
    assert.equal(client.cookie(COOKIE), undefined);
    const old = new HttpClient(url);
    old.setCookie(COOKIE, sessionId);
    assert.equal((await me(old)).status, 401);
  });

  test('logout form post redirects home', async () => {
    const client = new HttpClient(url);
    await client.signInWithDevelopmentProvider('ada', 'ada-password');
    const page = await client.request('/api/auth/logout');
    assert.equal(page.status, 200);

    const { chain } = await client.submitForm(page, {}, { stopBefore: () => true });

    assert.equal(chain[0]?.status, 303);
    assert.equal(chain[0]?.location, `${url}/`);
    assert.equal((await me(client)).status, 401);
  });

  test('logout from another origin is rejected', async () => {
    const client = new HttpClient(url);
    await client.signInWithDevelopmentProvider('ada', 'ada-password');

    const crossSite = await client.request('/api/auth/logout', {
      method: 'POST',
      headers: { origin: 'http://evil.example' },
    });
    const noOrigin = await client.request('/api/auth/logout', { method: 'POST', omitOrigin: true });

    assert.equal(crossSite.status, 403);
    assert.equal(JSON.parse(crossSite.body).error.code, 'NOT_ALLOWED');
    assert.equal(noOrigin.status, 403);
    assert.equal((await me(client)).status, 200);
  });

  test('logout accepts a same-origin Referer', async () => {
    const client = new HttpClient(url);
    await client.signInWithDevelopmentProvider('ada', 'ada-password');

    const response = await client.request('/api/auth/logout', {
      method: 'POST',
      omitOrigin: true,
      headers: { referer: `${url}/catalog` },
    });

    assert.equal(response.status, 204);
    assert.equal((await me(client)).status, 401);
  });

  test('expired session gets 401', async () => {
    const client = new HttpClient(url);
    await client.signInWithDevelopmentProvider('ada', 'ada-password');
    assert.equal((await me(client)).status, 200);

    await sessionsTable(started)
      .updateTable('identity_sessions')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .execute();

    assert.equal((await me(client)).status, 401);
  });

  test('new sign-in replaces the session id', async () => {
    const client = new HttpClient(url);
    await client.signInWithDevelopmentProvider('ada', 'ada-password');
    const first = client.cookie(COOKIE);
    assert.ok(first);

    await client.signInWithDevelopmentProvider('ada', 'ada-password');
    const second = client.cookie(COOKIE);

    assert.ok(second);
    assert.notEqual(second, first);
    const old = new HttpClient(url);
    old.setCookie(COOKIE, first);
    assert.equal((await me(old)).status, 401);
    assert.equal((await me(client)).status, 200);
  });

  test('case C6: user-a owns through group-a', async () => {
    const client = new HttpClient(url);

    await client.signInWithDevelopmentProvider('user-a', 'user-a-password');

    const profile = JSON.parse((await me(client)).body);
    assert.deepEqual(profile.ownershipEntityRefs, [
      'user:default/user-a',
      'group:default/group-1',
      'group:default/group-a',
    ]);
  });

  describe('under an https base URL', () => {
    let secure: TestPortal;

    before(async () => {
      // Only the login redirect runs here, so the issuer may be the first portal's provider.
      secure = await startTestPortal({
        dialect: context.dialect,
        configFiles: [IDENTITY_CONFIG_FILE],
        overrides: {
          app: { baseUrl: 'https://127.0.0.1:8443' },
          auth: {
            development: { enabled: false },
            oidc: { issuer: `${url}/dev-idp`, clientId: 'secure-portal', clientSecret: 'unused' },
          },
        },
      });
    });
    after(async () => {
      await secure?.close();
    });

    test('cookies are Secure', async () => {
      const client = new HttpClient(secure.url);

      const response = await client.request('/api/auth/login');

      assert.equal(response.status, 302);
      assert.equal(client.findCookie(`${COOKIE}_login`)?.secure, true);
      const location = new URL(response.location ?? '');
      assert.equal(
        location.searchParams.get('redirect_uri'),
        'https://127.0.0.1:8443/api/auth/callback',
      );
    });
  });

  describe('without transitive ownership', () => {
    let direct: Started;

    before(async () => {
      direct = await startIdentityPortal(context.dialect, {
        permission: { transitiveGroupOwnership: false },
      });
    });
    after(async () => {
      await direct?.portal.close();
    });

    test('case C6: user-a does not own through group-a', async () => {
      const client = new HttpClient(direct.portal.url);

      await client.signInWithDevelopmentProvider('user-a', 'user-a-password');

      const profile = JSON.parse((await me(client)).body);
      assert.deepEqual(profile.ownershipEntityRefs, [
        'user:default/user-a',
        'group:default/group-1',
      ]);
      assert.deepEqual(profile.groupEntityRefs, ['group:default/group-1', 'group:default/group-a']);
    });
  });
});

describe('development provider under NODE_ENV=production', () => {
  test('refuses to start', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await assert.rejects(
        startTestPortal({ configFiles: [IDENTITY_CONFIG_FILE] }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, /cannot run with NODE_ENV=production/);
          assert.equal(error.details[0]?.path, 'auth.development.enabled');
          assert.match(error.details[0]?.message ?? '', /set auth\.development\.enabled to false/);
          return true;
        },
      );
    } finally {
      if (previous === undefined) {
        delete process.env.NODE_ENV;
      } else {
        process.env.NODE_ENV = previous;
      }
    }
  });
});

describe('createIdentity', () => {
  test('rejects a plain http issuer off this machine', async () => {
    const { config } = loadConfig([IDENTITY_CONFIG_FILE], {
      overrides: { auth: { oidc: { issuer: 'http://idp.example.com', clientId: 'portal' } } },
    });
    const database = connectDatabase({ client: 'better-sqlite3', connection: ':memory:' });
    try {
      await assert.rejects(
        createIdentity({
          config,
          database,
          logger: createLogger({ level: 'silent' }),
          directory: createCatalogDirectory(database),
        }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.details[0]?.path, 'auth.oidc.issuer');
          assert.match(error.details[0]?.message ?? '', /use the https address/);
          return true;
        },
      );
    } finally {
      await database.destroy();
    }
  });
});
