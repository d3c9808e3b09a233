import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { describeEachDialect } from '../../test/support/databases.js';
import { HttpClient, type HttpResponse } from '../../test/support/http-client.js';
import { type ProviderPortal, startProviderPortal } from '../../test/support/oidc-portal.js';
import { API_CLIENT_ID } from '../../test/support/oidc-test-provider.js';
import { UNKNOWN_KEY_REFETCH_MS } from './jwks-store.js';

const API_AUDIENCE = 'https://portal.example/api';
const OTHER_AUDIENCE = 'https://other.example/api';
const SHORT_LIVED_AUDIENCE = 'https://portal.example/short';

const ACCOUNTS = {
  'ada-id': {
    email: 'ada@example.com',
    email_verified: true,
    name: 'Ada Lovelace',
    groups: ['platform'],
  },
  'mallory-id': { email: 'mallory@example.com', name: 'Mallory Nobody', groups: [] },
};

const AUTHORIZE_BODY = {
  items: [
    { id: 'a', permission: { type: 'basic', name: 'catalog.location.read', attributes: {} } },
    {
      id: 'b',
      permission: {
        type: 'resource',
        name: 'catalog.entity.read',
        resourceType: 'catalog-entity',
        attributes: { action: 'read' },
      },
      resourceRef: 'component:default/platform-portal',
    },
  ],
};

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

function entityNames(response: HttpResponse): string[] {
  assert.equal(response.status, 200, response.body.slice(0, 300));
  const entities = JSON.parse(response.body) as Array<{ metadata: { name: string } }>;
  return entities.map((entity) => entity.metadata.name).sort();
}

function errorOf(response: HttpResponse): { code: string; message: string } {
  return (JSON.parse(response.body) as { error: { code: string; message: string } }).error;
}

async function signInBrowser(started: ProviderPortal, account: string): Promise<HttpClient> {
  const client = new HttpClient(started.portal.url);
  started.provider.signInAs(account);
  await client.follow('/api/auth/login');
  assert.equal((await client.request('/api/auth/me')).status, 200, 'browser sign-in');
  return client;
}

describeEachDialect('bearer tokens', (context) => {
  let started: ProviderPortal;
  /** A client without cookies, as an API client is. */
  let api: HttpClient;

  before(async () => {
    started = await startProviderPortal({
      dialect: context.dialect,
      provider: {
        accounts: ACCOUNTS,
        resources: [
          { audience: API_AUDIENCE },
          { audience: OTHER_AUDIENCE },
          { audience: SHORT_LIVED_AUDIENCE, accessTokenSeconds: 1 },
        ],
      },
      oidc: {
        clockToleranceSeconds: 1,
        // The API client's id is an accepted audience too, as when an Entra ID
        // app registration serves both the portal and its API, so that an ID
        // token would pass the audience check and must fail on its type.
        bearer: { audiences: [API_AUDIENCE, SHORT_LIVED_AUDIENCE, API_CLIENT_ID] },
      },
    });
    api = new HttpClient(started.portal.url);
  });
  after(async () => {
    await started?.close();
  });

  test('lists the same entities as the browser', async () => {
    const { accessToken } = await started.provider.fetchTokens('ada-id', API_AUDIENCE);
    const browser = await signInBrowser(started, 'ada-id');

    const viaToken = entityNames(
      await api.request('/api/catalog/entities?filter=kind=component', {
        headers: bearer(accessToken),
      }),
    );
    const viaSession = entityNames(
      await browser.request('/api/catalog/entities?filter=kind=component'),
    );

    assert.deepEqual(viaToken, viaSession);
    // Ownership goes up the hierarchy: a member of platform owns nothing of platform-sre.
    assert.deepEqual(viaToken, ['platform-portal', 'team-a-service']);
  });

  test('resolves the same principal as sign-in', async () => {
    const { accessToken } = await started.provider.fetchTokens('ada-id', API_AUDIENCE);
    const browser = await signInBrowser(started, 'ada-id');

    const viaToken = await api.request('/api/auth/me', { headers: bearer(accessToken) });
    const viaSession = await browser.request('/api/auth/me');

    const tokenProfile = JSON.parse(viaToken.body);
    const sessionProfile = JSON.parse(viaSession.body);
    assert.equal(tokenProfile.userEntityRef, 'user:default/ada');
    assert.deepEqual(tokenProfile.groupEntityRefs, sessionProfile.groupEntityRefs);
    assert.deepEqual(tokenProfile.ownershipEntityRefs, sessionProfile.ownershipEntityRefs);
  });

  test('authorize accepts a bearer caller', async () => {
    const { accessToken } = await started.provider.fetchTokens('ada-id', API_AUDIENCE);
    const browser = await signInBrowser(started, 'ada-id');

    // An API client sends no Origin, and needs none.
    const viaToken = await api.request('/api/permission/authorize', {
      json: AUTHORIZE_BODY,
      omitOrigin: true,
      headers: bearer(accessToken),
    });
    const viaSession = await browser.request('/api/permission/authorize', { json: AUTHORIZE_BODY });

    assert.equal(viaToken.status, 200, viaToken.body);
    assert.deepEqual(JSON.parse(viaToken.body), JSON.parse(viaSession.body));
    const results = JSON.parse(viaToken.body).items.map((item: { result: string }) => item.result);
    assert.deepEqual(results, ['DENY', 'ALLOW']);
  });

  test('rejects another audience', async () => {
    const { accessToken } = await started.provider.fetchTokens('ada-id', OTHER_AUDIENCE);

    const response = await api.request('/api/auth/me', { headers: bearer(accessToken) });

    assert.equal(response.status, 401);
    const error = errorOf(response);
    assert.equal(error.code, 'BEARER_TOKEN_WRONG_AUDIENCE');
    assert.match(
      error.message,
      /audience "https:\/\/other\.example\/api" is not accepted: request a token for https:\/\/portal\.example\/api/,
    );
    assert.match(
      response.headers.get('www-authenticate') ?? '',
      /^Bearer error="invalid_token", error_description="/,
    );
  });

  test('rejects an expired token', async () => {
    const { accessToken } = await started.provider.fetchTokens('ada-id', SHORT_LIVED_AUDIENCE);
    const first = await api.request('/api/auth/me', { headers: bearer(accessToken) });
    assert.equal(first.status, 200, 'valid before it expires');

    // One second of lifetime and one second of clock tolerance.
    await sleep(2_500);
    const response = await api.request('/api/auth/me', { headers: bearer(accessToken) });

    assert.equal(response.status, 401);
    assert.equal(errorOf(response).code, 'BEARER_TOKEN_EXPIRED');
    assert.match(
      errorOf(response).message,
      /expired at \d{4}-\d\d-\d\dT.*: request a new access token/,
    );
  });

  test('rejects an expired token never seen', async () => {
    const { accessToken } = await started.provider.fetchTokens('ada-id', API_AUDIENCE);
    const { privateKey } = started.provider.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ ...decodeJwt(accessToken), iat: now - 600, exp: now - 60 })
      .setProtectedHeader(decodeProtectedHeader(accessToken) as { alg: string })
      .sign(privateKey);

    const response = await api.request('/api/auth/me', { headers: bearer(expired) });

    assert.equal(response.status, 401);
    assert.equal(errorOf(response).code, 'BEARER_TOKEN_EXPIRED');
  });

  test('rejects a token signed by another key', async () => {
    const { accessToken } = await started.provider.fetchTokens('ada-id', API_AUDIENCE);
    const header = decodeProtectedHeader(accessToken);
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const sameKeyId = await new SignJWT(decodeJwt(accessToken))
      .setProtectedHeader({ ...header, alg: 'RS256' })
      .sign(otherKey);
    const unknownKeyId = await new SignJWT(decodeJwt(accessToken))
      .setProtectedHeader({ ...header, alg: 'RS256', kid: 'not-a-provider-key' })
      .sign(otherKey);

    const forged = await api.request('/api/auth/me', { headers: bearer(sameKeyId) });
    const unknown = await api.request('/api/auth/me', { headers: bearer(unknownKeyId) });

    assert.equal(forged.status, 401);
    assert.equal(errorOf(forged).code, 'BEARER_TOKEN_BAD_SIGNATURE');
    assert.equal(unknown.status, 401);
    assert.equal(errorOf(unknown).code, 'BEARER_TOKEN_UNKNOWN_KEY');
  });

  test('rejects a token with alg none', async () => {
    const { accessToken } = await started.provider.fetchTokens('ada-id', API_AUDIENCE);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode(decodeJwt(accessToken))}.`;

    const response = await api.request('/api/auth/me', { headers: bearer(unsigned) });

    assert.equal(response.status, 401);
    assert.match(errorOf(response).message, /signature algorithm is not accepted|not a valid JWT/);
  });

  test('rejects an ID token', async () => {
    const { idToken } = await started.provider.fetchTokens('ada-id', API_AUDIENCE);
    assert.equal(decodeJwt(idToken).aud, API_CLIENT_ID);

    const response = await api.request('/api/auth/me', { headers: bearer(idToken) });

    assert.equal(response.status, 401);
    assert.equal(errorOf(response).code, 'BEARER_TOKEN_NOT_ACCESS_TOKEN');
  });

  test('rejects a user without a User entity', async () => {
    const { accessToken } = await started.provider.fetchTokens('mallory-id', API_AUDIENCE);

    const response = await api.request('/api/auth/me', { headers: bearer(accessToken) });

    assert.equal(response.status, 401);
    assert.equal(errorOf(response).code, 'BEARER_TOKEN_USER_NOT_FOUND');
    assert.match(
      errorOf(response).message,
      /no User entity in the catalog matches email 'mallory@example\.com'/,
    );
  });

  test('rejects malformed headers', async () => {
    const cases: Array<{ header: string; message: RegExp }> = [
      { header: 'Bearer not-a-jwt', message: /not a JWT/ },
      { header: 'Bearer', message: /carries no valid bearer token/ },
      { header: 'Basic YWRhOnBhc3N3b3Jk', message: /scheme 'Basic' is not supported/ },
    ];
    for (const { header, message } of cases) {
      const response = await api.request('/api/auth/me', { headers: { authorization: header } });

      assert.equal(response.status, 401, header);
      assert.match(errorOf(response).message, message, header);
    }
  });

  test('a session cookie does not replace a bad token', async () => {
    const browser = await signInBrowser(started, 'ada-id');

    const response = await browser.request('/api/auth/me', { headers: bearer('not-a-jwt') });

    assert.equal(response.status, 401);
  });

  test('accepts tokens after a key rotation', async () => {
    await started.provider.rotateKeys();
    const { accessToken } = await started.provider.fetchTokens('ada-id', API_AUDIENCE);
    // A key id that the portal has not seen is fetched at most this often.
    await sleep(UNKNOWN_KEY_REFETCH_MS + 100);

    const response = await api.request('/api/auth/me', { headers: bearer(accessToken) });

    assert.equal(response.status, 200, response.body);
  });
});

describeEachDialect('bearer tokens without auth.oidc.bearer', (context) => {
  let started: ProviderPortal;

  before(async () => {
    started = await startProviderPortal({
      dialect: context.dialect,
      provider: { accounts: ACCOUNTS },
    });
  });
  after(async () => {
    await started?.close();
  });

  test('rejects any bearer token', async () => {
    const client = new HttpClient(started.portal.url);

    const response = await client.request('/api/auth/me', { headers: bearer('eyJhbGciOi.x.y') });

    assert.equal(response.status, 401);
    assert.equal(errorOf(response).code, 'BEARER_TOKENS_DISABLED');
    assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_request"/);
  });
});
