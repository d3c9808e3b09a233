import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import pino from 'pino';
import { buildWebBundles } from '../../scripts/build-web.mjs';
import { appConfigSchema } from '../config/index.js';
import { createHttpServer } from '../http/index.js';
import { PermissionRegistry, PermissionService, type Principal } from '../permissions/index.js';
import { createShell } from './index.js';
import type { ShellConfigResponse } from './navigation.js';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const USERS: Record<string, Principal> = {
  alice: {
    userEntityRef: 'user:default/alice',
    ownershipEntityRefs: ['user:default/alice', 'group:default/team-a'],
    groupEntityRefs: ['group:default/team-a'],
  },
  bob: {
    userEntityRef: 'user:default/bob',
    ownershipEntityRefs: ['user:default/bob', 'group:default/team-b'],
    groupEntityRefs: ['group:default/team-b'],
  },
};

/** Test sign-in: the `x-test-user` header names the user, as a session cookie would. */
async function authenticate(request: FastifyRequest): Promise<Principal | undefined> {
  const name = request.headers['x-test-user'];
  return typeof name === 'string' ? USERS[name] : undefined;
}

const NODES = [
  {
    pathSegment: 'catalog',
    label: 'Catalog',
    viewUrl: '/micro-frontends/catalog/',
    permission: 'catalog.entity.read',
  },
  {
    pathSegment: 'admin',
    label: 'Admin',
    viewUrl: 'https://admin.example.com/portal/',
    permission: 'catalog.location.read',
  },
  { pathSegment: 'help', label: 'Help', viewUrl: '/micro-frontends/help/', public: true },
];

describe('shell routes', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'shell-routes-'));
  const webRoot = path.join(folder, 'web');
  let app: FastifyInstance;

  before(async () => {
    await buildWebBundles(PROJECT_ROOT, { outdir: webRoot });

    const rolesFile = path.join(folder, 'roles.yaml');
    writeFileSync(
      rolesFile,
      [
        'roles:',
        '  - name: readers',
        '    members: [group:default/team-a, group:default/team-b]',
        '    grants: [{ permission: catalog.entity.read }]',
        '  - name: platform',
        '    members: [group:default/team-a]',
        '    grants: [{ permission: catalog.location.read }]',
        '',
      ].join('\n'),
    );
    const registry = new PermissionRegistry();
    registry.registerPermissions(
      {
        name: 'catalog.entity.read',
        resourceType: 'catalog-entity',
        action: 'read',
        description: 'Read catalog entities',
      },
      { name: 'catalog.location.read', action: 'read', description: 'Read locations' },
    );
    const permissions = new PermissionService(registry, rolesFile);
    const config = appConfigSchema.parse({
      database: { client: 'better-sqlite3', connection: ':memory:' },
      permission: { rolesFile },
      shell: { title: 'Portal <Test>', nodes: NODES },
    });
    const logger = pino({ level: 'silent' });

    const shell = createShell({ config, logger, permissions, authenticate, webRoot });
    ({ app } = await createHttpServer({ logger, permissions, authenticate }));
    await shell.registerRoutes(app);
    await app.ready();
  });

  after(async () => {
    await app?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const html = { accept: 'text/html,application/xhtml+xml' };

  test('shell page redirects to sign-in without a session', async () => {
    const response = await app.inject({ method: 'GET', url: '/', headers: html });

    assert.equal(response.statusCode, 302);
    assert.equal(response.headers.location, '/api/auth/login?returnTo=%2F');
  });

  test('deep link redirects to sign-in with its path', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/catalog/component/default/shop?~kind=api',
      headers: html,
    });

    assert.equal(response.statusCode, 302);
    assert.equal(
      response.headers.location,
      `/api/auth/login?returnTo=${encodeURIComponent('/catalog/component/default/shop?~kind=api')}`,
    );
  });

  test('shell page loads Luigi with a strict policy', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/',
      headers: { ...html, 'x-test-user': 'alice' },
    });

    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.equal(response.headers['cache-control'], 'no-store');
    const policy = String(response.headers['content-security-policy']);
    assert.match(policy, /script-src 'self';/);
    assert.match(policy, /frame-src 'self' https:\/\/admin\.example\.com;/);
    assert.match(policy, /connect-src 'self';/);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.match(
      response.body,
      /<script defer src="\/assets\/luigi\/luigi\.js\?v=[\d.]+"><\/script>/,
    );
    assert.match(response.body, /<script defer src="\/assets\/shell\/shell\.js"><\/script>/);
    assert.match(response.body, /<title>Portal &lt;Test&gt;<\/title>/);
  });

  test('deep link serves the shell page', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/catalog/component/default/shop',
      headers: { ...html, 'x-test-user': 'bob' },
    });

    assert.equal(response.statusCode, 200);
    assert.match(response.body, /luigi\.js/);
  });

  test('unknown API path is a JSON 404, not the shell', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/nothing-here',
      headers: { ...html, 'x-test-user': 'alice' },
    });

    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error.code, 'NOT_FOUND');
    assert.equal(response.json().error.message, 'No route GET /api/nothing-here');
  });

  test('request that does not accept HTML gets a 404', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/catalog',
      headers: { accept: 'application/json', 'x-test-user': 'alice' },
    });

    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error.code, 'NOT_FOUND');
  });

  test('config requires a session', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/shell/config' });

    assert.equal(response.statusCode, 401);
    assert.equal(response.json().error.code, 'UNAUTHENTICATED');
  });

  test('config holds the navigation of each user', async () => {
    const forAlice = await app.inject({
      method: 'GET',
      url: '/api/shell/config',
      headers: { 'x-test-user': 'alice' },
    });
    const forBob = await app.inject({
      method: 'GET',
      url: '/api/shell/config',
      headers: { 'x-test-user': 'bob' },
    });

    assert.equal(forAlice.statusCode, 200);
    assert.equal(forBob.statusCode, 200);
    const alice = forAlice.json() as ShellConfigResponse;
    const bob = forBob.json() as ShellConfigResponse;
    assert.equal(alice.title, 'Portal <Test>');
    assert.deepEqual(
      alice.nodes.map((node) => node.pathSegment),
      ['catalog', 'admin', 'help'],
    );
    assert.deepEqual(
      bob.nodes.map((node) => node.pathSegment),
      ['catalog', 'help'],
    );
    assert.deepEqual(alice.profile, { name: 'alice', userEntityRef: 'user:default/alice' });
  });

  test('config holds the basic permissions of each user', async () => {
    const forAlice = await app.inject({
      method: 'GET',
      url: '/api/shell/config',
      headers: { 'x-test-user': 'alice' },
    });
    const forBob = await app.inject({
      method: 'GET',
      url: '/api/shell/config',
      headers: { 'x-test-user': 'bob' },
    });

    const alice = forAlice.json() as ShellConfigResponse;
    const bob = forBob.json() as ShellConfigResponse;
    assert.deepEqual(alice.globalContext, { permissions: ['catalog.location.read'] });
    assert.deepEqual(bob.globalContext, { permissions: [] });
  });

  test('Luigi core files are served', async () => {
    const script = await app.inject({ method: 'GET', url: '/assets/luigi/luigi.js' });
    const styles = await app.inject({ method: 'GET', url: '/assets/luigi/luigi.css' });

    assert.equal(script.statusCode, 200);
    assert.match(String(script.headers['content-type']), /^text\/javascript/);
    assert.equal(script.headers['x-content-type-options'], 'nosniff');
    assert.equal(styles.statusCode, 200);
    assert.match(String(styles.headers['content-type']), /^text\/css/);
  });

  test('static files outside the folder are not served', async () => {
    for (const url of [
      '/assets/luigi/../../package.json',
      '/assets/luigi/%2e%2e/%2e%2e/package.json',
      '/assets/luigi/..%2f..%2fpackage.json',
      '/assets/luigi/README.md',
      '/micro-frontends/.hidden',
    ]) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 404, `${url} answered ${response.statusCode}`);
    }
  });

  test('shell bundle is served', async () => {
    const response = await app.inject({ method: 'GET', url: '/assets/shell/shell.js' });

    assert.equal(response.statusCode, 200);
    assert.match(response.body, /setConfig/);
  });

  test('shell stylesheet is served after Luigi styles', async () => {
    const page = await app.inject({
      method: 'GET',
      url: '/',
      headers: { ...html, 'x-test-user': 'alice' },
    });
    const styles = await app.inject({ method: 'GET', url: '/assets/shell/shell.css' });

    assert.match(
      page.body,
      /luigi\.css\?v=[\d.]+">\n<link rel="stylesheet" href="\/assets\/shell\/shell\.css">/,
    );
    assert.equal(styles.statusCode, 200);
    assert.match(String(styles.headers['content-type']), /^text\/css/);
    assert.match(styles.body, /lui-profile-simple-menu/);
  });

  test('micro frontend folder redirects to its trailing slash', async () => {
    const response = await app.inject({ method: 'GET', url: '/micro-frontends/catalog' });

    assert.equal(response.statusCode, 301);
    assert.equal(response.headers.location, '/micro-frontends/catalog/');
  });

  test('micro frontend page is public and may be framed by the portal only', async () => {
    const page = await app.inject({ method: 'GET', url: '/micro-frontends/entity/' });
    const script = await app.inject({ method: 'GET', url: '/micro-frontends/entity/main.js' });
    const styles = await app.inject({ method: 'GET', url: '/micro-frontends/common/styles.css' });

    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<main id="entity"/);
    const policy = String(page.headers['content-security-policy']);
    assert.match(policy, /frame-ancestors 'self'/);
    assert.match(policy, /script-src 'self'/);
    assert.equal(script.statusCode, 200);
    assert.equal(script.headers['content-security-policy'], undefined);
    assert.equal(styles.statusCode, 200);
  });
});
