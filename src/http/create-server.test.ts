import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { InputError } from '../errors/index.js';
import { createLogger } from '../logging.js';
import { PermissionRegistry, PermissionService, type Principal } from '../permissions/index.js';
import { createHttpServer, findUndeclaredRoutes, redactUrl } from './index.js';

const ada: Principal = {
  userEntityRef: 'user:default/ada',
  ownershipEntityRefs: ['user:default/ada'],
  groupEntityRefs: [],
};

async function createTestServer() {
  return await createTestServerWith({});
}

async function createTestServerWith(extra: { canonicalOrigin?: string }) {
  const folder = mkdtempSync(path.join(tmpdir(), 'portal-http-'));
  const rolesFile = path.join(folder, 'roles.yaml');
  writeFileSync(
    rolesFile,
    'roles:\n  - name: r\n    members: [user:ada]\n    grants: [{ permission: report.use }]\n',
  );
  const registry = new PermissionRegistry();
  registry.registerPermissions(
    { name: 'report.use', action: 'use', description: 'Run reports' },
    { name: 'report.delete', action: 'delete', description: 'Delete reports' },
  );
  const permissions = new PermissionService(registry, rolesFile);
  return await createHttpServer({
    logger: createLogger({ level: 'silent' }),
    permissions,
    authenticate: async (request) => (request.headers['x-test-user'] === 'ada' ? ada : undefined),
    ...extra,
  });
}

test('route without an access declaration is rejected', async () => {
  const { app } = await createTestServer();
  app.get('/api/undeclared', async () => 'hidden');

  await assert.rejects(
    async () => await app.ready(),
    /Routes declare no access: GET \/api\/undeclared, HEAD/,
  );
});

test('route inventory check finds an undeclared route', async () => {
  const { app, routes } = await createTestServer();
  app.get('/api/open', { config: { access: { public: true } } }, async () => 'open');
  app.get('/api/undeclared', async () => 'hidden');
  app.post('/api/half', { config: { access: { public: false } as never } }, async () => 'x');
  app.post('/api/empty', { config: { access: {} as never } }, async () => 'x');

  const undeclared = findUndeclaredRoutes(routes).map((route) => `${route.method} ${route.url}`);

  assert.deepEqual(undeclared, [
    'GET /api/undeclared',
    'HEAD /api/undeclared',
    'POST /api/half',
    'POST /api/empty',
  ]);
  await assert.rejects(async () => await app.ready(), /POST \/api\/half, POST \/api\/empty/);
});

test('route inventory check passes declared routes', async () => {
  const { app, routes } = await createTestServer();
  app.get('/api/open', { config: { access: { public: true } } }, async () => 'open');
  app.get('/api/me', { config: { access: { signedIn: true } } }, async () => 'me');
  app.post('/api/report', { config: { access: { permission: 'report.use' } } }, async () => 'ran');

  assert.deepEqual(findUndeclaredRoutes(routes), []);
  await app.ready();
});

test('route naming an unregistered permission is rejected', async () => {
  const { app } = await createTestServer();

  assert.throws(
    () =>
      app.get(
        '/api/unknown',
        { config: { access: { permission: 'nothing.read' } } },
        async () => 'x',
      ),
    /unregistered permission nothing\.read/,
  );
});

test('route inventory records every method with its access', async () => {
  const { app, routes } = await createTestServer();
  app.get('/api/open', { config: { access: { public: true } } }, async () => 'open');
  app.post('/api/report', { config: { access: { permission: 'report.use' } } }, async () => 'ran');

  assert.deepEqual(
    routes.filter((route) => route.url.startsWith('/api/')),
    [
      { method: 'GET', url: '/api/open', access: { public: true } },
      { method: 'HEAD', url: '/api/open', access: { public: true } },
      { method: 'POST', url: '/api/report', access: { permission: 'report.use' } },
    ],
  );
});

test('protected route returns 401 without a principal', async () => {
  const { app } = await createTestServer();
  app.get(
    '/api/me',
    { config: { access: { signedIn: true } } },
    async (request) => request.principal,
  );

  const response = await app.inject({ method: 'GET', url: '/api/me' });

  assert.equal(response.statusCode, 401);
  assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(response.json().error.code, 'UNAUTHENTICATED');
});

test('signed-in route receives the principal', async () => {
  const { app } = await createTestServer();
  app.get(
    '/api/me',
    { config: { access: { signedIn: true } } },
    async (request) => request.principal,
  );

  const response = await app.inject({
    method: 'GET',
    url: '/api/me',
    headers: { 'x-test-user': 'ada' },
  });

  assert.equal(response.statusCode, 200);
  assert.equal(response.json().userEntityRef, 'user:default/ada');
});

test('denied permission returns 403 before the handler runs', async () => {
  const { app } = await createTestServer();
  let ran = false;
  app.delete('/api/report', { config: { access: { permission: 'report.delete' } } }, async () => {
    ran = true;
    return 'deleted';
  });

  const response = await app.inject({
    method: 'DELETE',
    url: '/api/report',
    headers: { 'x-test-user': 'ada' },
  });

  assert.equal(response.statusCode, 403);
  assert.equal(response.json().error.code, 'NOT_ALLOWED');
  assert.match(response.json().error.message, /report\.delete is not granted to user:default\/ada/);
  assert.equal(ran, false);
});

test('granted permission reaches the handler with its decision', async () => {
  const { app } = await createTestServer();
  app.post(
    '/api/report',
    { config: { access: { permission: 'report.use' } } },
    async (request) => request.decision,
  );

  const response = await app.inject({
    method: 'POST',
    url: '/api/report',
    headers: { 'x-test-user': 'ada' },
  });

  assert.equal(response.statusCode, 200);
  assert.equal(response.json().result, 'ALLOW');
});

test('domain errors map to status and JSON body', async () => {
  const { app } = await createTestServer();
  app.get('/api/fail', { config: { access: { public: true } } }, async () => {
    throw new InputError("limit 'x' is invalid: use a positive integer", {
      details: [{ path: 'limit', message: 'use a positive integer' }],
    });
  });

  const response = await app.inject({ method: 'GET', url: '/api/fail' });

  assert.equal(response.statusCode, 400);
  assert.deepEqual(response.json(), {
    error: {
      code: 'INPUT_INVALID',
      message: "limit 'x' is invalid: use a positive integer",
      details: [{ path: 'limit', message: 'use a positive integer' }],
    },
  });
});

test('unexpected errors return 500 without internals', async () => {
  const { app } = await createTestServer();
  app.get('/api/crash', { config: { access: { public: true } } }, async () => {
    throw new Error('database password is hunter2');
  });

  const response = await app.inject({ method: 'GET', url: '/api/crash' });

  assert.equal(response.statusCode, 500);
  assert.equal(response.json().error.code, 'INTERNAL');
  assert.doesNotMatch(response.body, /hunter2/);
});

test('unknown route returns 404 JSON', async () => {
  const { app } = await createTestServer();

  const response = await app.inject({ method: 'GET', url: '/api/nothing?x=1' });

  assert.equal(response.statusCode, 404);
  assert.equal(response.json().error.message, 'No route GET /api/nothing');
});

test('undecodable path returns 400 in the error shape', async () => {
  const { app } = await createTestServer();
  app.get('/api/items/:id', { config: { access: { public: true } } }, async () => 'item');

  for (const url of ['/api/items/%E0%A4%A', '/api/%']) {
    const response = await app.inject({ method: 'GET', url });

    assert.equal(response.statusCode, 400, url);
    assert.equal(response.json().error.code, 'URL_INVALID', url);
    assert.match(response.json().error.message, /encode a literal % as %25/, url);
    assert.ok(response.headers['x-request-id'], url);
  }
});

test('overlong path parameter returns 414 in the error shape', async () => {
  const { app } = await createTestServer();
  app.get('/api/items/:id', { config: { access: { public: true } } }, async () => 'item');

  const accepted = await app.inject({ method: 'GET', url: `/api/items/${'a'.repeat(300)}` });
  const response = await app.inject({ method: 'GET', url: `/api/items/${'a'.repeat(5000)}` });

  assert.equal(accepted.statusCode, 200);
  assert.equal(response.statusCode, 414);
  assert.equal(response.json().error.code, 'URL_TOO_LONG');
  assert.ok(response.json().error.message.length < 400, 'the message quotes a shortened path');
});

test('malformed JSON body returns 400', async () => {
  const { app } = await createTestServer();
  app.post('/api/echo', { config: { access: { public: true } } }, async (request) => request.body);

  const response = await app.inject({
    method: 'POST',
    url: '/api/echo',
    headers: { 'content-type': 'application/json' },
    payload: '{"broken": ',
  });

  assert.equal(response.statusCode, 400);
  assert.ok(response.json().error.message.length > 0);
});

test('rejected bodies say how to fix them', async () => {
  const { app } = await createTestServer();
  app.post('/api/echo', { config: { access: { public: true } } }, async (request) => request.body);
  const cases = [
    {
      contentType: 'application/json',
      payload: '{"__proto__": {"admin": true}}',
      status: 400,
      message: /__proto__ or constructor\.prototype key/,
    },
    {
      contentType: 'application/json',
      payload: '',
      status: 400,
      message: /empty although content-type is application\/json/,
    },
    {
      contentType: 'application/json',
      payload: `"${'x'.repeat(1024 * 1024)}"`,
      status: 413,
      message: /larger than 1,048,576 bytes: send a smaller body/,
    },
    {
      contentType: 'application/xml',
      payload: '<a/>',
      status: 415,
      message: /Content-type "application\/xml" is not supported/,
    },
  ];

  for (const item of cases) {
    const response = await app.inject({
      method: 'POST',
      url: '/api/echo',
      headers: { 'content-type': item.contentType },
      payload: item.payload,
    });
    assert.equal(response.statusCode, item.status, item.contentType);
    assert.match(response.json().error.message, item.message);
  }
});

test('request log redacts codes and tokens', () => {
  assert.equal(
    redactUrl('/api/auth/callback?code=abc123&state=xyz&iss=http%3A%2F%2Fidp'),
    '/api/auth/callback?code=[redacted]&state=[redacted]&iss=http%3A%2F%2Fidp',
  );
  assert.equal(
    redactUrl('/api/catalog/entities?filter=kind=component'),
    '/api/catalog/entities?filter=kind=component',
  );
  assert.equal(redactUrl('/plain'), '/plain');
});

test('page request under another host is redirected', async () => {
  const { app } = await createTestServerWith({ canonicalOrigin: 'http://localhost:7007' });
  app.get('/catalog', { config: { access: { public: true } } }, async () => 'page');

  const page = await app.inject({
    method: 'GET',
    url: '/catalog?kind=api',
    headers: { host: '127.0.0.1:7007', accept: 'text/html' },
  });
  const api = await app.inject({
    method: 'GET',
    url: '/catalog',
    headers: { host: '127.0.0.1:7007', accept: 'application/json' },
  });
  const canonical = await app.inject({
    method: 'GET',
    url: '/catalog',
    headers: { host: 'localhost:7007', accept: 'text/html' },
  });

  assert.equal(page.statusCode, 302);
  assert.equal(page.headers.location, 'http://localhost:7007/catalog?kind=api');
  assert.equal(api.statusCode, 200);
  assert.equal(canonical.statusCode, 200);
});
