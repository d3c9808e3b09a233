import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, SignJWT } from 'jose';
import type { Kysely } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { HttpClient, type HttpResponse } from '../../test/support/http-client.js';
import { type ProviderPortal, startProviderPortal } from '../../test/support/oidc-portal.js';
import type { TestProvider } from '../../test/support/oidc-test-provider.js';
import { hashSessionId } from './sessions.js';
import type { IdentityTables } from './tables.js';

const COOKIE = 'portal_session';
const ACCOUNT = 'ada-okta-id';
const ACCOUNTS = {
  [ACCOUNT]: { email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace', groups: [] },
};

/** Follows the sign-in up to the redirect to the portal's callback and returns that URL. */
async function authorizationResponse(started: ProviderPortal, client: HttpClient): Promise<URL> {
  started.provider.signInAs(ACCOUNT);
  const callback = `${started.portal.url}/api/auth/callback`;
  const { final } = await client.follow(
    '/api/auth/login',
    {},
    {
      stopBefore: (location) => location.startsWith(callback),
    },
  );
  const location = final.location ?? '';
  assert.ok(location.startsWith(callback), `no redirect to the callback: ${final.status}`);
  return new URL(location);
}

/** Runs the whole sign-in and returns the callback's response. */
async function signIn(started: ProviderPortal, client: HttpClient): Promise<HttpResponse> {
  const callback = await authorizationResponse(started, client);
  return await client.request(callback.href);
}

function table(started: ProviderPortal): Kysely<IdentityTables> {
  return started.portal.portal.database.db as Kysely<IdentityTables>;
}

type Signing = 'provider' | 'none' | 'hs256-public-key' | 'other-key';

/**
 * Rewrites the ID token of each token response: the real claims with
 * `change` applied, signed as `signing` names. Everything else of the
 * response, such as the nonce inside the token, stays real.
 */
function forgeIdTokens(
  provider: TestProvider,
  signing: Signing,
  change: (claims: Record<string, unknown>) => Record<string, unknown> = (claims) => claims,
): void {
  const otherKey: KeyObject = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  provider.setTokenHook(async (body) => {
    const claims = change({ ...decodeJwt(String(body.id_token)) });
    const { kid, privateKey, publicKey } = provider.signingKey();
    let idToken: string;
    switch (signing) {
      case 'none': {
        const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        idToken = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
        break;
      }
      case 'hs256-public-key': {
        const secret = Buffer.from(publicKey.export({ type: 'spki', format: 'pem' }));
        idToken = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid }).sign(secret);
        break;
      }
      case 'other-key':
        idToken = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', kid })
          .sign(otherKey);
        break;
      default:
        idToken = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', kid })
          .sign(privateKey);
    }
    return { ...body, id_token: idToken };
  });
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describeEachDialect('sign-in flow security', (context) => {
  let started: ProviderPortal;

  before(async () => {
    started = await startProviderPortal({
      dialect: context.dialect,
      provider: { accounts: ACCOUNTS },
      oidc: { clockToleranceSeconds: 30 },
      overrides: { auth: { session: { idleTimeoutMinutes: 30, maxAgeHours: 8 } } },
    });
  });
  after(async () => {
    await started?.close();
  });

  describe('iss in the authorization response', () => {
    test('accepts the provider issuer', async () => {
      const client = new HttpClient(started.portal.url);
      const callback = await authorizationResponse(started, client);

      assert.equal(callback.searchParams.get('iss'), started.provider.issuer);
      assert.equal((await client.request(callback.href)).status, 303);
    });

    test('rejects another issuer', async () => {
      const client = new HttpClient(started.portal.url);
      const callback = await authorizationResponse(started, client);
      callback.searchParams.set('iss', 'https://attacker.example');

      const response = await client.request(callback.href);

      assert.equal(response.status, 400);
      assert.match(response.body, /unexpected &quot;iss&quot;|unexpected "iss"/);
      assert.equal(client.cookie(COOKIE), undefined);
    });

    test('rejects a missing iss', async () => {
      const client = new HttpClient(started.portal.url);
      const callback = await authorizationResponse(started, client);
      callback.searchParams.delete('iss');

      const response = await client.request(callback.href);

      assert.equal(response.status, 400);
      assert.match(response.body, /&quot;iss&quot; \(issuer\) missing|"iss" \(issuer\) missing/);
      assert.equal(client.cookie(COOKIE), undefined);
    });
  });

  describe('forged ID tokens', () => {
    after(() => {
      started.provider.setTokenHook(undefined);
    });

    const attacks: Array<{
      name: string;
      signing: Signing;
      change?: (claims: Record<string, unknown>) => Record<string, unknown>;
      reason: RegExp;
    }> = [
      { name: 'alg none', signing: 'none', reason: /ID token .*alg/i },
      {
        name: 'HS256 under the public key',
        signing: 'hs256-public-key',
        reason: /ID token .*alg/i,
      },
      { name: 'another signing key', signing: 'other-key', reason: /ID token .*signature/i },
      {
        name: 'another audience',
        signing: 'provider',
        change: (claims) => ({ ...claims, aud: 'another-client' }),
        reason: /ID token .*aud/i,
      },
      {
        name: 'another issuer',
        signing: 'provider',
        change: (claims) => ({ ...claims, iss: 'https://attacker.example' }),
        reason: /ID token .*iss/i,
      },
      {
        name: 'expired beyond the clock tolerance',
        signing: 'provider',
        change: (claims) => ({ ...claims, iat: nowSeconds() - 600, exp: nowSeconds() - 60 }),
        reason: /ID token .*exp/i,
      },
    ];

    for (const attack of attacks) {
      test(`rejects ${attack.name}`, async () => {
        forgeIdTokens(started.provider, attack.signing, attack.change);
        const client = new HttpClient(started.portal.url);

        const response = await signIn(started, client);

        assert.equal(response.status, 400, response.body.slice(0, 500));
        assert.match(response.body, attack.reason);
        assert.equal(client.cookie(COOKIE), undefined);
      });
    }

    test('accepts a re-signed valid token', async () => {
      forgeIdTokens(started.provider, 'provider');
      const client = new HttpClient(started.portal.url);

      assert.equal((await signIn(started, client)).status, 303);
    });

    test('accepts expiry within the clock tolerance', async () => {
      forgeIdTokens(started.provider, 'provider', (claims) => ({
        ...claims,
        iat: nowSeconds() - 300,
        exp: nowSeconds() - 10,
      }));
      const client = new HttpClient(started.portal.url);

      assert.equal((await signIn(started, client)).status, 303);
    });
  });

  describe('signing key rotation', () => {
    test('sign-in works right after rotation', async () => {
      const first = new HttpClient(started.portal.url);
      assert.equal((await signIn(started, first)).status, 303);
      const oldKid = started.provider.signingKey().kid;

      await started.provider.rotateKeys();
      const second = new HttpClient(started.portal.url);
      const response = await signIn(started, second);

      assert.notEqual(started.provider.signingKey().kid, oldKid);
      assert.equal(response.status, 303, response.body.slice(0, 500));
      assert.equal((await second.request('/api/auth/me')).status, 200);
      assert.equal((await first.request('/api/auth/me')).status, 200);
    });

    test('sign-in works with the old key still published', async () => {
      await started.provider.rotateKeys({ keepPrevious: true });
      const client = new HttpClient(started.portal.url);

      assert.equal((await signIn(started, client)).status, 303);
    });
  });

  describe('session fixation', () => {
    test('a planted cookie is not the session', async () => {
      const client = new HttpClient(started.portal.url);
      const planted = 'A'.repeat(43);
      client.setCookie(COOKIE, planted);

      assert.equal((await signIn(started, client)).status, 303);

      const session = client.cookie(COOKIE);
      assert.ok(session);
      assert.notEqual(session, planted);
      const attacker = new HttpClient(started.portal.url);
      attacker.setCookie(COOKIE, planted);
      assert.equal((await attacker.request('/api/auth/me')).status, 401);
      assert.equal((await client.request('/api/auth/me')).status, 200);
    });

    test('sign-in replaces a valid earlier session', async () => {
      const client = new HttpClient(started.portal.url);
      await signIn(started, client);
      const earlier = client.cookie(COOKIE);
      assert.ok(earlier);

      await signIn(started, client);

      assert.notEqual(client.cookie(COOKIE), earlier);
      const rows = await table(started)
        .selectFrom('identity_sessions')
        .select('id_hash')
        .where('id_hash', '=', hashSessionId(earlier))
        .execute();
      assert.deepEqual(rows, []);
    });
  });

  describe('CSRF', () => {
    const authorize = {
      items: [
        { id: '1', permission: { type: 'basic', name: 'catalog.location.read', attributes: {} } },
      ],
    };

    test('accepts a same-origin request', async () => {
      const client = new HttpClient(started.portal.url);
      await signIn(started, client);

      const response = await client.request('/api/permission/authorize', { json: authorize });

      assert.equal(response.status, 200, response.body);
    });

    test('rejects another origin', async () => {
      const client = new HttpClient(started.portal.url);
      await signIn(started, client);

      const response = await client.request('/api/permission/authorize', {
        json: authorize,
        headers: { origin: 'https://attacker.example' },
      });

      assert.equal(response.status, 403);
      const body = JSON.parse(response.body);
      assert.equal(body.error.code, 'NOT_ALLOWED');
      assert.match(
        body.error.message,
        /must come from http:\/\/127\.0\.0\.1:\d+, but its origin is https:\/\/attacker\.example/,
      );
    });

    const foreign: Array<{ name: string; headers: Record<string, string>; message: RegExp }> = [
      {
        name: 'Origin null',
        headers: { origin: 'null' },
        message: /but its origin is null/,
      },
      {
        name: 'a cross-site Sec-Fetch-Site',
        headers: { 'sec-fetch-site': 'cross-site' },
        message: /but Sec-Fetch-Site is cross-site/,
      },
      {
        name: 'a same-site Sec-Fetch-Site',
        headers: { 'sec-fetch-site': 'same-site' },
        message: /but Sec-Fetch-Site is same-site/,
      },
      {
        name: 'a foreign Referer',
        headers: { referer: 'https://attacker.example/page' },
        message: /but its Referer is https:\/\/attacker\.example\/page/,
      },
    ];
    for (const { name, headers, message } of foreign) {
      test(`rejects ${name}`, async () => {
        const client = new HttpClient(started.portal.url);
        await signIn(started, client);

        const response = await client.request('/api/permission/authorize', {
          json: authorize,
          omitOrigin: true,
          headers,
        });

        assert.equal(response.status, 403);
        assert.match(JSON.parse(response.body).error.message, message);
      });
    }

    test('accepts a client without browser headers', async () => {
      const client = new HttpClient(started.portal.url);
      await signIn(started, client);

      // No browser sends a POST without Origin or Sec-Fetch-Site, so this is
      // a program that holds the cookie itself, such as a server-side client.
      const response = await client.request('/api/permission/authorize', {
        json: authorize,
        omitOrigin: true,
      });

      assert.equal(response.status, 200);
    });

    test('accepts a same-origin Sec-Fetch-Site', async () => {
      const client = new HttpClient(started.portal.url);
      await signIn(started, client);

      const response = await client.request('/api/permission/authorize', {
        json: authorize,
        omitOrigin: true,
        headers: { 'sec-fetch-site': 'same-origin' },
      });

      assert.equal(response.status, 200);
    });

    test('accepts a same-origin Referer', async () => {
      const client = new HttpClient(started.portal.url);
      await signIn(started, client);

      const response = await client.request('/api/permission/authorize', {
        json: authorize,
        omitOrigin: true,
        headers: { referer: `${started.portal.url}/catalog` },
      });

      assert.equal(response.status, 200);
    });

    test('reading needs no Origin', async () => {
      const client = new HttpClient(started.portal.url);
      await signIn(started, client);

      const response = await client.request('/api/auth/me', {
        headers: { origin: 'https://attacker.example' },
      });

      assert.equal(response.status, 200);
    });
  });

  describe('session lifetime', () => {
    async function sessionRow(client: HttpClient) {
      const id = client.cookie(COOKIE);
      assert.ok(id, 'signed in');
      return { id, hash: hashSessionId(id) };
    }

    test('absolute lifetime comes from maxAgeHours', async () => {
      const client = new HttpClient(started.portal.url);
      await signIn(started, client);
      const { hash } = await sessionRow(client);

      const row = await table(started)
        .selectFrom('identity_sessions')
        .select(['created_at', 'expires_at'])
        .where('id_hash', '=', hash)
        .executeTakeFirstOrThrow();

      const lifetime = Date.parse(row.expires_at) - Date.parse(row.created_at);
      assert.equal(lifetime, 8 * 3_600_000);
      const cookie = client.findCookie(COOKIE);
      assert.ok(cookie?.expiresAt);
      assert.ok(Math.abs(cookie.expiresAt - Date.now() - 8 * 3_600_000) < 60_000);
    });

    test('absolute lifetime ends an active session', async () => {
      const client = new HttpClient(started.portal.url);
      await signIn(started, client);
      const { hash } = await sessionRow(client);

      await table(started)
        .updateTable('identity_sessions')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('id_hash', '=', hash)
        .execute();

      assert.equal((await client.request('/api/auth/me')).status, 401);
    });

    test('idle timeout ends an unused session', async () => {
      const client = new HttpClient(started.portal.url);
      await signIn(started, client);
      const { hash } = await sessionRow(client);

      await table(started)
        .updateTable('identity_sessions')
        .set({ last_seen_at: new Date(Date.now() - 30 * 60_000 - 1000).toISOString() })
        .where('id_hash', '=', hash)
        .execute();

      assert.equal((await client.request('/api/auth/me')).status, 401);
      const rows = await table(started)
        .selectFrom('identity_sessions')
        .select('id_hash')
        .where('id_hash', '=', hash)
        .execute();
      assert.deepEqual(rows, []);
    });

    test('activity within the idle timeout keeps it', async () => {
      const client = new HttpClient(started.portal.url);
      await signIn(started, client);
      const { hash } = await sessionRow(client);

      await table(started)
        .updateTable('identity_sessions')
        .set({ last_seen_at: new Date(Date.now() - 29 * 60_000).toISOString() })
        .where('id_hash', '=', hash)
        .execute();
      assert.equal((await client.request('/api/auth/me')).status, 200);

      const row = await table(started)
        .selectFrom('identity_sessions')
        .select('last_seen_at')
        .where('id_hash', '=', hash)
        .executeTakeFirstOrThrow();
      assert.ok(
        Date.now() - Date.parse(row.last_seen_at) < 60_000,
        'the request renewed last_seen_at',
      );
    });
  });
});

describeEachDialect('provider with other discovery metadata', (context) => {
  let started: ProviderPortal;

  before(async () => {
    started = await startProviderPortal({
      dialect: context.dialect,
      provider: { accounts: ACCOUNTS },
    });
    // No RFC 9207, and symmetric and unsigned ID tokens advertised as supported.
    started.provider.setDiscoveryHook((metadata) => {
      const { authorization_response_iss_parameter_supported: _supported, ...rest } = metadata;
      const algorithms = rest.id_token_signing_alg_values_supported as string[];
      return { ...rest, id_token_signing_alg_values_supported: [...algorithms, 'HS256', 'none'] };
    });
  });
  after(async () => {
    await started?.close();
  });

  test('accepts a response without iss', async () => {
    const client = new HttpClient(started.portal.url);
    const callback = await authorizationResponse(started, client);
    callback.searchParams.delete('iss');

    assert.equal((await client.request(callback.href)).status, 303);
  });

  test('still rejects another issuer', async () => {
    const client = new HttpClient(started.portal.url);
    const callback = await authorizationResponse(started, client);
    callback.searchParams.set('iss', 'https://attacker.example');

    assert.equal((await client.request(callback.href)).status, 400);
  });

  for (const signing of ['hs256-public-key', 'none'] as const) {
    test(`rejects ${signing} although advertised`, async () => {
      forgeIdTokens(started.provider, signing);
      try {
        const client = new HttpClient(started.portal.url);

        const response = await signIn(started, client);

        assert.equal(response.status, 400, response.body.slice(0, 500));
        assert.match(response.body, /ID token from the identity provider was rejected/);
        assert.equal(client.cookie(COOKIE), undefined);
      } finally {
        started.provider.setTokenHook(undefined);
      }
    });
  }
});
