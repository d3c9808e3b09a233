import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  CATALOG_API_BROKEN_FILE,
  CATALOG_API_CATALOG_FILE,
  ERIN_REFS,
  type ListeningCatalogApi,
  listenCatalogApi,
} from '../../../test/fixtures/catalog-api/fixture.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import type { LocationIngestionReport } from './locations-routes.js';

function refOf(entity: Entity): string {
  return stringifyEntityRef(entity).toLocaleLowerCase('en-US');
}

/**
 * What a reader with a conditional grant learns about entities outside it.
 * erin reads what team-b owns, the Groups and every location. Every request
 * here goes through a listening loopback server.
 */
describeEachDialect('catalog API hides unreadable entities', (context) => {
  let api: ListeningCatalogApi;

  before(async () => {
    api = await listenCatalogApi(context.handle(), [
      CATALOG_API_CATALOG_FILE,
      CATALOG_API_BROKEN_FILE,
    ]);
  });
  after(async () => {
    await api?.app.close();
  });

  async function getJson<T>(user: string, url: string): Promise<T> {
    const response = await api.request(user, url);
    assert.equal(response.status, 200, `${url}: ${response.status}`);
    return (await response.json()) as T;
  }

  async function facetValues(user: string, url: string): Promise<Record<string, unknown>> {
    return (await getJson<{ facets: Record<string, unknown> }>(user, url)).facets;
  }

  test('lists and totals hold readable entities only', async () => {
    const listed = await getJson<Entity[]>('erin', '/entities');
    const queried = await getJson<{ items: Entity[]; totalItems: number }>(
      'erin',
      '/entities/by-query?limit=100',
    );

    assert.deepEqual(listed.map(refOf), ERIN_REFS);
    assert.deepEqual(queried.items.map(refOf).sort(), ERIN_REFS);
    assert.equal(queried.totalItems, ERIN_REFS.length);
  });

  test('filters cannot probe hidden entities', async () => {
    for (const url of [
      '/entities?filter=metadata.name=orders',
      '/entities?filter=kind=resource',
      '/entities?filter=relations.ownedBy=group:default/team-a',
      '/entities?filter=spec.lifecycle=experimental',
      '/entities?filter=metadata.name=fine-widget',
    ]) {
      assert.deepEqual(await getJson<Entity[]>('erin', url), [], url);
    }

    const search = await getJson<{ totalItems: number }>(
      'erin',
      '/entities/by-query?fullTextFilterTerm=order&fullTextFilterFields=metadata.name',
    );
    assert.equal(search.totalItems, 0);
  });

  test('hidden entity is not found like a missing one', async () => {
    const uid = (await getJson<Entity>('admin', '/entities/by-name/component/default/orders'))
      .metadata.uid!;

    const hidden = await api.request('erin', '/entities/by-name/component/default/orders');
    const missing = await api.request('erin', '/entities/by-name/component/default/nothing');
    const hiddenByUid = await api.request('erin', `/entities/by-uid/${uid}`);

    assert.equal(hidden.status, 404);
    assert.equal(missing.status, 404);
    assert.equal(hiddenByUid.status, 404);
    assert.equal(
      ((await hidden.json()) as { error: { message: string } }).error.message,
      'Entity component:default/orders was not found',
    );
    assert.equal(
      ((await missing.json()) as { error: { message: string } }).error.message,
      'Entity component:default/nothing was not found',
    );
    await hiddenByUid.arrayBuffer();
  });

  test('by-refs answers null for hidden entities', async () => {
    const response = await api.request('erin', '/entities/by-refs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        entityRefs: ['component:default/orders', 'component:default/payments'],
        fields: ['metadata.name'],
      }),
    });

    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { items: [null, { metadata: { name: 'payments' } }] });
  });

  test('facets count readable entities only', async () => {
    const facets = await facetValues(
      'erin',
      '/entity-facets?facet=kind&facet=metadata.name&facet=metadata.tags&facet=spec.lifecycle',
    );

    assert.deepEqual(facets.kind, [
      { value: 'Component', count: 3 },
      { value: 'Group', count: 4 },
    ]);
    assert.deepEqual(facets['metadata.name'], [
      { value: 'Legacy-Billing', count: 1 },
      { value: 'ledger', count: 1 },
      { value: 'org', count: 1 },
      { value: 'payments', count: 1 },
      { value: 'team-a', count: 1 },
      { value: 'team-b', count: 1 },
      { value: 'team-c', count: 1 },
    ]);
    assert.deepEqual(facets['metadata.tags'], [
      { value: 'backend', count: 1 },
      { value: 'go', count: 1 },
      { value: 'java', count: 1 },
    ]);
    assert.deepEqual(facets['spec.lifecycle'], [
      { value: 'deprecated', count: 1 },
      { value: 'production', count: 2 },
    ]);
  });

  test('relation facets count readable sources only', async () => {
    const facets = await facetValues(
      'erin',
      '/entity-facets?facet=relations.ownedBy&facet=relations.partOf',
    );

    assert.deepEqual(facets['relations.ownedBy'], [{ value: 'group:default/team-b', count: 3 }]);
    // payments is readable and part of the hidden system: the target stays, as in Backstage.
    assert.deepEqual(facets['relations.partOf'], [{ value: 'system:default/shop', count: 1 }]);
  });

  test('readable entity keeps relations to hidden targets', async () => {
    const payments = await getJson<Entity>('erin', '/entities/by-name/component/default/payments');
    const shop = await api.request('erin', '/entities/by-name/system/default/shop');

    assert.deepEqual(payments.relations, [
      { type: 'consumesApi', targetRef: 'api:default/orders-api' },
      { type: 'dependsOn', targetRef: 'component:default/orders' },
      { type: 'ownedBy', targetRef: 'group:default/team-b' },
      { type: 'partOf', targetRef: 'system:default/shop' },
    ]);
    assert.equal(shop.status, 404);
    await shop.arrayBuffer();
  });

  test('relation filter matches hidden targets', async () => {
    const listed = await getJson<Entity[]>(
      'erin',
      '/entities?filter=relations.dependsOn=component:default/orders',
    );

    assert.deepEqual(listed.map(refOf), ['component:default/payments']);
  });

  test('location of a hidden entity is not found', async () => {
    const hidden = await api.request('erin', '/locations/by-entity/component/default/orders');
    const readable = await api.request('erin', '/locations/by-entity/component/default/payments');

    assert.equal(hidden.status, 404);
    assert.equal(
      ((await hidden.json()) as { error: { message: string } }).error.message,
      'Entity component:default/orders was not found',
    );
    assert.equal(readable.status, 200);
    assert.equal(((await readable.json()) as { target: string }).target, CATALOG_API_CATALOG_FILE);
  });

  test('ingestion errors leave out hidden entities', async () => {
    const all = await getJson<{ items: LocationIngestionReport[] }>('admin', '/ingestion-errors');
    const erin = await getJson<{ items: LocationIngestionReport[] }>('erin', '/ingestion-errors');
    const adminRefs = all.items.flatMap((item) => item.errors.map((error) => error.entityRef));
    const erinRefs = erin.items.flatMap((item) => item.errors.map((error) => error.entityRef));

    assert.ok(adminRefs.includes('component:default/half-done'), JSON.stringify(adminRefs));
    assert.ok(!erinRefs.includes('component:default/half-done'), JSON.stringify(erinRefs));
    assert.deepEqual(
      erin.items.map((item) => item.target),
      [CATALOG_API_CATALOG_FILE, CATALOG_API_BROKEN_FILE],
    );
    assert.ok(
      erin.items.every((item) => item.errors.every((error) => error.entityRef === undefined)),
      JSON.stringify(erin.items),
    );
  });

  test('ingestion errors by hidden entity are empty', async () => {
    for (const ref of ['component:default/half-done', 'component:default/fine-widget']) {
      const admin = await getJson<{ items: LocationIngestionReport[] }>(
        'admin',
        `/ingestion-errors?entityRef=${ref}`,
      );
      const erin = await getJson<{ items: LocationIngestionReport[] }>(
        'erin',
        `/ingestion-errors?entityRef=${ref}`,
      );

      assert.equal(admin.items.length, 1, ref);
      assert.deepEqual(erin.items, [], ref);
    }
    const readable = await getJson<{ items: LocationIngestionReport[] }>(
      'erin',
      '/ingestion-errors?entityRef=component:default/payments',
    );
    assert.deepEqual(
      readable.items.map((item) => item.target),
      [CATALOG_API_CATALOG_FILE],
    );
  });
});
