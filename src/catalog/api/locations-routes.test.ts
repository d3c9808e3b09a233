import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  CATALOG_API_BROKEN_FILE,
  CATALOG_API_CATALOG_FILE,
  createCatalogApiServer,
  TEST_USER_HEADER,
} from '../../../test/fixtures/catalog-api/fixture.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import type { LocationIngestionReport } from './locations-routes.js';

describeEachDialect('catalog location routes', (context) => {
  let app: FastifyInstance;
  let catalogId: string;
  let brokenId: string;

  const get = (user: string | undefined, url: string) =>
    app.inject({
      method: 'GET',
      url: `/api/catalog${url}`,
      headers: user ? { [TEST_USER_HEADER]: user } : {},
    });

  async function reports(url: string): Promise<LocationIngestionReport[]> {
    const response = await get('admin', url);
    assert.equal(response.statusCode, 200, response.body);
    return (response.json() as { items: LocationIngestionReport[] }).items;
  }

  before(async () => {
    ({ app } = await createCatalogApiServer(context.handle(), [
      CATALOG_API_CATALOG_FILE,
      CATALOG_API_BROKEN_FILE,
    ]));
    const locations = (await get('admin', '/locations')).json() as Array<{
      data: { id: string; target: string };
    }>;
    catalogId = locations.find((item) => item.data.target === CATALOG_API_CATALOG_FILE)!.data.id;
    brokenId = locations.find((item) => item.data.target === CATALOG_API_BROKEN_FILE)!.data.id;
  });
  after(async () => {
    await app?.close();
  });

  test('locations list every registered location', async () => {
    const response = await get('admin', '/locations');

    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), [
      { data: { id: catalogId, type: 'file', target: CATALOG_API_CATALOG_FILE } },
      { data: { id: brokenId, type: 'file', target: CATALOG_API_BROKEN_FILE } },
    ]);
  });

  test('location by id, and 404 for an unknown id', async () => {
    const found = await get('admin', `/locations/${brokenId}`);
    const missing = await get('admin', '/locations/no-such-location');

    assert.deepEqual(found.json(), { id: brokenId, type: 'file', target: CATALOG_API_BROKEN_FILE });
    assert.equal(missing.statusCode, 404);
  });

  test('location of an entity', async () => {
    const found = await get('admin', '/locations/by-entity/Component/default/fine-widget');
    const missing = await get('admin', '/locations/by-entity/component/default/half-done');

    assert.equal(found.json().id, brokenId);
    assert.equal(missing.statusCode, 404);
  });

  test('locations need catalog.location.read', async () => {
    for (const user of ['bob', 'carol']) {
      for (const url of ['/locations', `/locations/${catalogId}`, '/ingestion-errors']) {
        const response = await get(user, url);

        assert.equal(response.statusCode, 403, `${user} ${url}`);
      }
    }
    assert.equal((await get(undefined, '/ingestion-errors')).statusCode, 401);
  });

  test('ingestion errors list each location with its faults', async () => {
    const items = await reports('/ingestion-errors');

    assert.deepEqual(
      items.map((item) => [item.id, item.errors.length]),
      [
        [catalogId, 0],
        [brokenId, 2],
      ],
    );
    assert.ok(items.every((item) => typeof item.refreshedAt === 'string'));
  });

  test('ingestion error carries file, document, line and field', async () => {
    const [broken] = await reports(`/ingestion-errors?location=${brokenId}`);
    const missingLifecycle = broken?.errors.find(
      (error) => error.entityRef === 'component:default/half-done',
    );

    assert.equal(missingLifecycle?.severity, 'error');
    assert.equal(missingLifecycle?.file, CATALOG_API_BROKEN_FILE);
    assert.equal(missingLifecycle?.docIndex, 1);
    assert.equal(typeof missingLifecycle?.line, 'number');
    assert.equal(missingLifecycle?.field, 'spec.lifecycle');
    assert.match(missingLifecycle?.message ?? '', /spec\.lifecycle/);
  });

  test('ingestion errors by entity find its location', async () => {
    const rejected = await reports('/ingestion-errors?entityRef=Component:default/HALF-DONE');
    const stored = await reports('/ingestion-errors?entityRef=component:default/fine-widget');
    const clean = await reports('/ingestion-errors?entityRef=component:default/orders');
    const unknown = await reports('/ingestion-errors?entityRef=component:default/no-such-thing');

    assert.deepEqual(
      rejected.map((item) => item.id),
      [brokenId],
    );
    assert.deepEqual(
      stored.map((item) => item.id),
      [brokenId],
    );
    assert.deepEqual(
      clean.map((item) => [item.id, item.errors]),
      [[catalogId, []]],
    );
    assert.deepEqual(unknown, []);
  });

  test('ingestion errors by location id or target', async () => {
    const byTarget = await reports(
      `/ingestion-errors?location=${encodeURIComponent(CATALOG_API_BROKEN_FILE)}`,
    );

    assert.deepEqual(
      byTarget.map((item) => item.id),
      [brokenId],
    );
    assert.deepEqual(await reports('/ingestion-errors?location=nowhere'), []);
  });
});
