import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { findUndeclaredRoutes } from '../src/http/index.js';
import { describeEachDialect } from './support/databases.js';
import { HttpClient } from './support/http-client.js';
import { EXAMPLE_CONFIG, startTestPortal, type TestPortal } from './support/portal.js';

/**
 * The whole portal as `npm start` runs it, with the second example config
 * that registers every file of the shared corpus, on both databases.
 */

const CORPUS_CONFIG = path.join(path.dirname(EXAMPLE_CONFIG), 'app-config.corpus.yaml');

/**
 * Stored entities: the example organisation's 110 plus the 22 that the corpus
 * files contribute. The corpus files' 154 User and Group entities are
 * rejected, because no corpus location is trusted with them.
 */
const EXPECTED_ENTITIES = 132;

/** Faults of a full refresh by code; a change here is a change in what the catalog accepts. */
const EXPECTED_FAULTS: Record<string, number> = {
  'error entity-conflict': 1,
  'error entity-invalid': 4,
  'error kind-not-allowed': 154,
  'error kind-unsupported': 1,
  'error location-not-found': 81,
  'error location-unsupported': 1,
  'error placeholder-failed': 2,
  'error yaml-invalid': 1,
  'warning dangling-reference': 22,
};

/** Routes anyone may call without signing in; every other route needs a session. */
const PUBLIC_ROUTES = [
  'GET /',
  'GET /*',
  'GET /api/auth/callback',
  'GET /api/auth/login',
  'GET /api/auth/logout',
  'POST /api/auth/logout',
  'GET /assets/luigi/*',
  'GET /assets/shell/*',
  'GET /dev-idp/*',
  'OPTIONS /dev-idp/*',
  'POST /dev-idp/*',
  'GET /dev-idp/interaction/:uid',
  'POST /dev-idp/interaction/:uid',
  'GET /micro-frontends/*',
  // The public keys that micro-frontend backends verify shell tokens with.
  'GET /.well-known/jwks.json',
];

describeEachDialect('portal with the example and corpus configs', (context) => {
  let portal: TestPortal;

  before(async () => {
    portal = await startTestPortal({
      dialect: context.dialect,
      configFiles: [EXAMPLE_CONFIG, CORPUS_CONFIG],
    });
  });

  after(async () => {
    await portal?.close();
  });

  test('stores every entity it can read', async () => {
    const row = await portal.portal.database.db
      .selectFrom('catalog_entities')
      .select((builder) => builder.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();

    assert.equal(Number(row.count), EXPECTED_ENTITIES);
  });

  test('records the expected faults', async () => {
    const rows = await portal.portal.database.db
      .selectFrom('catalog_errors')
      .select(['severity', 'code'])
      .select((builder) => builder.fn.countAll<number>().as('count'))
      .groupBy(['severity', 'code'])
      .execute();
    const faults = Object.fromEntries(
      rows.map((row) => [`${row.severity} ${row.code}`, Number(row.count)]),
    );

    assert.deepEqual(faults, EXPECTED_FAULTS);
  });

  test('serves the whole catalog to the platform admin', async () => {
    const client = new HttpClient(portal.url);
    await client.signInWithDevelopmentProvider('sofia', 'demo');

    const response = await client.request('/api/catalog/entities?fields=kind,metadata.name');

    assert.equal(response.status, 200);
    assert.equal((JSON.parse(response.body) as unknown[]).length, EXPECTED_ENTITIES);
  });

  test('serves any runbook to the platform admin', async () => {
    const client = new HttpClient(portal.url);
    await client.signInWithDevelopmentProvider('sofia', 'demo');

    // payment-gateway is owned by the payments team, not by sofia's.
    const response = await client.request(
      '/api/runbooks/by-entity/component/default/payment-gateway',
    );

    assert.equal(response.status, 200);
    assert.match(response.body, /payment-gateway\.md/);
  });

  test('serves a developer only part of it', async () => {
    const client = new HttpClient(portal.url);
    await client.signInWithDevelopmentProvider('amara', 'demo');

    const response = await client.request('/api/catalog/entities?fields=kind,metadata.name');
    const names = (JSON.parse(response.body) as Array<{ metadata: { name: string } }>).map(
      (entity) => entity.metadata.name,
    );

    assert.equal(response.status, 200);
    assert.ok(names.length > 0);
    assert.ok(names.length < EXPECTED_ENTITIES);
    assert.ok(names.includes('booking-web'));
    assert.ok(!names.includes('route-optimizer'));
  });

  test('lists the registered permissions', async () => {
    const client = new HttpClient(portal.url);
    await client.signInWithDevelopmentProvider('amara', 'demo');

    const response = await client.request('/api/permission/permissions');
    const names = (
      JSON.parse(response.body) as { permissions: Array<{ name: string }> }
    ).permissions.map((permission) => permission.name);

    assert.equal(response.status, 200);
    assert.deepEqual(names, [
      'audit.event.read',
      'aws-credentials.request.approve',
      'aws-credentials.request.create',
      'catalog.entity.read',
      'catalog.location.read',
      'deployment.request.approve',
      'deployment.request.create',
      'permission.policy.read',
      'request.read',
      'request.review',
      'role-elevation.request.approve',
      'role-elevation.request.create',
      'runbook.read',
    ]);
  });

  test('declares access on every route', () => {
    const undeclared = findUndeclaredRoutes(portal.portal.routes);
    const publicRoutes = [
      ...new Set(
        portal.portal.routes
          .filter((route) => route.access && 'public' in route.access && route.method !== 'HEAD')
          .map((route) => `${route.method} ${route.url}`),
      ),
    ].sort();

    assert.deepEqual(undeclared, []);
    assert.deepEqual(publicRoutes, [...PUBLIC_ROUTES].sort());
  });
});
