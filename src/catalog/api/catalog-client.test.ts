import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CATALOG_FILTER_EXISTS, CatalogClient } from '@backstage/catalog-client';
import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type { FastifyInstance } from 'fastify';
import {
  ADA_REFS,
  ALL_REFS,
  CATALOG_API_CATALOG_FILE,
  createCatalogApiServer,
  TEST_USER_HEADER,
} from '../../../test/fixtures/catalog-api/fixture.js';
import { describeEachDialect } from '../../../test/support/databases.js';

function refOf(entity: Entity): string {
  return stringifyEntityRef(entity).toLocaleLowerCase('en-US');
}

/**
 * The real `@backstage/catalog-client` against the catalog routes on a
 * listening loopback server, signed in through the test header.
 */
describeEachDialect('catalog API through @backstage/catalog-client', (context) => {
  let app: FastifyInstance;
  let baseUrl: string;

  function clientFor(user: string): CatalogClient {
    return new CatalogClient({
      discoveryApi: { getBaseUrl: async () => `${baseUrl}/api/catalog` },
      fetchApi: {
        fetch: (input, init) =>
          fetch(input, {
            ...init,
            headers: { ...(init?.headers as Record<string, string>), [TEST_USER_HEADER]: user },
          }),
      },
    });
  }

  before(async () => {
    ({ app } = await createCatalogApiServer(context.handle()));
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app?.close();
  });

  test('getEntities filters and prunes fields', async () => {
    const { items } = await clientFor('ada').getEntities({
      filter: { kind: 'Component' },
      fields: ['kind', 'metadata.name'],
    });

    assert.deepEqual(items, [
      { kind: 'Component', metadata: { name: 'orders' } },
      { kind: 'Component', metadata: { name: 'website' } },
    ]);
  });

  test('getEntities with alternatives and existence', async () => {
    const { items } = await clientFor('admin').getEntities({
      filter: [{ kind: ['API', 'Resource'] }, { 'metadata.labels.tier': CATALOG_FILTER_EXISTS }],
      fields: ['kind', 'metadata.name', 'metadata.namespace'],
    });

    assert.deepEqual(items.map(refOf), [
      'api:default/orders-api',
      'component:default/legacy-billing',
      'component:default/orders',
      'resource:default/orders-db',
    ]);
  });

  test('getEntities orders and pages with offset', async () => {
    const client = clientFor('admin');
    const order = { field: 'metadata.name', order: 'asc' } as const;
    const first = await client.getEntities({ filter: { kind: 'group' }, order, limit: 2 });
    const second = await client.getEntities({
      filter: { kind: 'group' },
      order,
      limit: 2,
      offset: 2,
    });

    assert.deepEqual(
      [...first.items, ...second.items].map((entity) => entity.metadata.name),
      ['org', 'team-a', 'team-b', 'team-c'],
    );
  });

  test('queryEntities pages with cursors', async () => {
    const client = clientFor('ada');
    const names: string[] = [];
    let response = await client.queryEntities({
      limit: 4,
      orderFields: { field: 'metadata.name', order: 'desc' },
      fields: ['kind', 'metadata.name', 'metadata.namespace'],
    });
    const totals = [response.totalItems];
    names.push(...response.items.map((entity) => entity.metadata.name));
    while (response.pageInfo.nextCursor) {
      response = await client.queryEntities({ cursor: response.pageInfo.nextCursor, limit: 4 });
      totals.push(response.totalItems);
      names.push(...response.items.map((entity) => entity.metadata.name));
    }

    assert.equal(names.length, ADA_REFS.length);
    assert.deepEqual(names, [...names].sort().reverse());
    assert.deepEqual(totals, [ADA_REFS.length, ADA_REFS.length, ADA_REFS.length]);
  });

  test('queryEntities full-text filter', async () => {
    const response = await clientFor('admin').queryEntities({
      fullTextFilter: { term: 'Team', fields: ['metadata.name'] },
      orderFields: { field: 'metadata.name', order: 'asc' },
    });

    assert.deepEqual(
      response.items.map((entity) => entity.metadata.name),
      ['team-a', 'team-b', 'team-c'],
    );
    assert.equal(response.totalItems, 3);
  });

  test('streamEntities yields every readable entity', async () => {
    const refs: string[] = [];
    for await (const page of clientFor('ada').streamEntities({ pageSize: 3 })) {
      refs.push(...page.map(refOf));
    }

    assert.deepEqual(refs.sort(), ADA_REFS);
  });

  test('getEntitiesByRefs keeps order and leaves gaps', async () => {
    const { items } = await clientFor('ada').getEntitiesByRefs({
      entityRefs: ['system:default/shop', 'component:default/payments', 'component:default/orders'],
      fields: ['metadata.name'],
    });

    assert.deepEqual(items, [
      { metadata: { name: 'shop' } },
      undefined,
      { metadata: { name: 'orders' } },
    ]);
  });

  test('getEntityFacets counts readable entities', async () => {
    const { facets } = await clientFor('ada').getEntityFacets({
      facets: ['spec.type'],
      filter: { kind: 'component' },
    });

    assert.deepEqual(facets, {
      'spec.type': [
        { value: 'service', count: 1 },
        { value: 'website', count: 1 },
      ],
    });
  });

  test('getEntityByRef returns relations or undefined', async () => {
    const client = clientFor('bob');
    const orders = await client.getEntityByRef('component:default/orders');
    const hidden = await client.getEntityByRef('component:default/website');
    const missing = await client.getEntityByRef('component:default/no-such-thing');

    assert.equal(orders?.metadata.name, 'orders');
    // bob reads components and APIs only, but relations to the group, system and resource stay, as in Backstage.
    assert.deepEqual(orders?.relations, [
      { type: 'dependencyOf', targetRef: 'component:default/payments' },
      { type: 'dependsOn', targetRef: 'resource:default/orders-db' },
      { type: 'ownedBy', targetRef: 'group:default/team-a' },
      { type: 'partOf', targetRef: 'system:default/shop' },
      { type: 'providesApi', targetRef: 'api:default/orders-api' },
    ]);
    assert.equal(hidden, undefined);
    assert.equal(missing, undefined);
  });

  test('locations through the client', async () => {
    const client = clientFor('admin');
    const { items } = await client.getLocations();
    const byId = await client.getLocationById(items[0]!.id);

    assert.deepEqual(
      items.map((item) => [item.type, item.target]),
      [['file', CATALOG_API_CATALOG_FILE]],
    );
    assert.deepEqual(byId, items[0]);
  });

  test('denied requests raise the status', async () => {
    await assert.rejects(
      clientFor('dave').getEntities(),
      (error: Error & { statusCode?: number }) => {
        assert.equal(error.name, 'ResponseError');
        assert.equal(error.statusCode, 403);
        return true;
      },
    );
  });

  test('admin sees the whole catalog through the client', async () => {
    const { items } = await clientFor('admin').getEntities();

    assert.deepEqual(items.map(refOf).sort(), ALL_REFS);
  });
});
