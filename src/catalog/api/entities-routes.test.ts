import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import {
  ADA_REFS,
  ALL_REFS,
  BOB_REFS,
  createCatalogApiServer,
  TEST_USER_HEADER,
} from '../../../test/fixtures/catalog-api/fixture.js';
import { describeEachDialect } from '../../../test/support/databases.js';

interface QueryResponse {
  items: Entity[];
  totalItems: number;
  pageInfo: { nextCursor?: string; prevCursor?: string };
}

function refOf(entity: Entity): string {
  return stringifyEntityRef(entity).toLocaleLowerCase('en-US');
}

function sorted(refs: readonly string[]): string[] {
  return [...refs].sort();
}

describeEachDialect('catalog entity routes', (context) => {
  let app: FastifyInstance;

  before(async () => {
    ({ app } = await createCatalogApiServer(context.handle()));
  });
  after(async () => {
    await app?.close();
  });

  const get = (user: string | undefined, url: string) =>
    app.inject({
      method: 'GET',
      url: `/api/catalog${url}`,
      headers: user ? { [TEST_USER_HEADER]: user } : {},
    });

  async function listRefs(user: string, url: string): Promise<string[]> {
    const response = await get(user, url);
    assert.equal(response.statusCode, 200, response.body);
    return (response.json() as Entity[]).map(refOf);
  }

  async function queryAll(user: string, url: string): Promise<QueryResponse[]> {
    const pages: QueryResponse[] = [];
    let response = await get(user, url);
    for (;;) {
      assert.equal(response.statusCode, 200, response.body);
      const page = response.json() as QueryResponse;
      pages.push(page);
      if (!page.pageInfo.nextCursor) {
        return pages;
      }
      response = await get(
        user,
        `/entities/by-query?limit=${new URL(url, 'http://x').searchParams.get('limit')}&cursor=${encodeURIComponent(page.pageInfo.nextCursor)}`,
      );
    }
  }

  test('list without a principal is 401', async () => {
    const response = await get(undefined, '/entities');

    assert.equal(response.statusCode, 401);
    assert.equal(response.json().error.code, 'UNAUTHENTICATED');
  });

  test('list without a grant is 403', async () => {
    for (const url of ['/entities', '/entities/by-query', '/entity-facets?facet=kind']) {
      const response = await get('dave', url);

      assert.equal(response.statusCode, 403, url);
      assert.equal(response.json().error.code, 'NOT_ALLOWED', url);
    }
  });

  test('list under an explicit deny is 403', async () => {
    const response = await get('carol', '/entities/by-name/component/default/orders');

    assert.equal(response.statusCode, 403);
    assert.match(response.json().error.message, /catalog\.entity\.read/);
  });

  test('unconditional grant lists every entity in reference order', async () => {
    assert.deepEqual(await listRefs('admin', '/entities'), ALL_REFS);
  });

  test('conditional grants list what each principal may read', async () => {
    assert.deepEqual(await listRefs('ada', '/entities'), ADA_REFS);
    assert.deepEqual(await listRefs('bob', '/entities'), BOB_REFS);
  });

  test('list response is a JSON array with relations', async () => {
    const response = await get('admin', '/entities?filter=metadata.name=orders');

    assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
    const [orders] = response.json() as Entity[];
    assert.deepEqual(orders?.relations, [
      { type: 'dependencyOf', targetRef: 'component:default/payments' },
      { type: 'dependsOn', targetRef: 'resource:default/orders-db' },
      { type: 'ownedBy', targetRef: 'group:default/team-a' },
      { type: 'partOf', targetRef: 'system:default/shop' },
      { type: 'providesApi', targetRef: 'api:default/orders-api' },
    ]);
  });

  test('conditions in a filter set must all match', async () => {
    assert.deepEqual(
      await listRefs('admin', '/entities?filter=kind=component,spec.lifecycle=production'),
      [
        'component:default/legacy-billing',
        'component:default/orders',
        'component:default/payments',
        'component:ops/monitor',
      ],
    );
  });

  test('filter sets are alternatives', async () => {
    assert.deepEqual(await listRefs('admin', '/entities?filter=kind=api&filter=kind=resource'), [
      'api:default/orders-api',
      'resource:default/orders-db',
    ]);
  });

  test('values of one key in a set are alternatives', async () => {
    assert.deepEqual(
      await listRefs('admin', '/entities?filter=spec.type=website,spec.type=library'),
      ['component:default/ledger', 'component:default/website'],
    );
  });

  test('filter key alone matches its existence', async () => {
    assert.deepEqual(await listRefs('admin', '/entities?filter=metadata.labels.tier'), [
      'component:default/legacy-billing',
      'component:default/orders',
    ]);
  });

  test('filter matches array items both ways', async () => {
    const expected = ['component:default/ledger', 'component:default/orders'];

    assert.deepEqual(await listRefs('admin', '/entities?filter=metadata.tags=java'), expected);
    assert.deepEqual(await listRefs('admin', '/entities?filter=metadata.tags.java'), expected);
  });

  test('filter compares keys and values without case', async () => {
    assert.deepEqual(
      await listRefs('admin', '/entities?filter=KIND=Component,Spec.Lifecycle=PRODUCTION'),
      await listRefs('admin', '/entities?filter=kind=component,spec.lifecycle=production'),
    );
  });

  test('filter on relations reads relation rows', async () => {
    const expected = [
      'component:default/ledger',
      'component:default/legacy-billing',
      'component:default/payments',
    ];

    assert.deepEqual(
      await listRefs('admin', '/entities?filter=relations.ownedBy=group:default/team-b'),
      expected,
    );
    assert.deepEqual(
      await listRefs('admin', '/entities?filter=relations.OWNEDBY=Group:Default/Team-B'),
      expected,
    );
  });

  test('filter applies within the readable entities', async () => {
    assert.deepEqual(await listRefs('ada', '/entities?filter=kind=component'), [
      'component:default/orders',
      'component:default/website',
    ]);
    assert.deepEqual(await listRefs('bob', '/entities?filter=kind=group'), []);
  });

  test('fields prune each entity', async () => {
    const response = await get('admin', '/entities?filter=kind=api&fields=kind,metadata.name');

    assert.deepEqual(response.json(), [{ kind: 'API', metadata: { name: 'orders-api' } }]);
  });

  test('fields reach keys that contain dots', async () => {
    const response = await get(
      'admin',
      '/entities?filter=metadata.name=orders&fields=metadata.annotations.backstage.io/techdocs-ref',
    );

    assert.deepEqual(response.json(), [
      { metadata: { annotations: { 'backstage.io/techdocs-ref': 'dir:.' } } },
    ]);
  });

  test('order sorts by a field in both directions', async () => {
    const names = (items: Entity[]) => items.map((entity) => entity.metadata.name);
    const response = await get('admin', '/entities?filter=kind=component&order=desc:metadata.name');

    assert.deepEqual(names(response.json()), [
      'website',
      'search',
      'payments',
      'orders',
      'monitor',
      'Legacy-Billing',
      'ledger',
    ]);
  });

  test('order puts entities without the field last', async () => {
    const ascending = await listRefs(
      'admin',
      '/entities?filter=kind=component&order=asc:metadata.title',
    );
    const descending = await listRefs(
      'admin',
      '/entities?filter=kind=component&order=desc:metadata.title',
    );
    const untitled = [
      'component:default/ledger',
      'component:default/legacy-billing',
      'component:default/payments',
      'component:default/search',
      'component:ops/monitor',
    ];

    assert.deepEqual(ascending, [
      'component:default/orders',
      'component:default/website',
      ...untitled,
    ]);
    assert.deepEqual(descending, [
      'component:default/website',
      'component:default/orders',
      ...untitled,
    ]);
  });

  test('limit and offset page the list', async () => {
    assert.deepEqual(await listRefs('admin', '/entities?limit=3&offset=2'), ALL_REFS.slice(2, 5));
  });

  test('Link header leads through every page', async () => {
    const seen: string[] = [];
    let url: string | undefined = '/api/catalog/entities?limit=6';
    let pages = 0;
    while (url) {
      const response: LightMyRequestResponse = await app.inject({
        method: 'GET',
        url,
        headers: { [TEST_USER_HEADER]: 'admin' },
      });
      assert.equal(response.statusCode, 200);
      seen.push(...(response.json() as Entity[]).map(refOf));
      const link = response.headers.link as string | undefined;
      url = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      pages += 1;
    }

    assert.equal(pages, 3);
    assert.deepEqual(seen, ALL_REFS);
  });

  test('entity by name answers with relations', async () => {
    const response = await get('ada', '/entities/by-name/Component/default/orders');

    assert.equal(response.statusCode, 200);
    const entity = response.json() as Entity;
    assert.equal(entity.metadata.name, 'orders');
    // dependencyOf points at payments, which ada may not read, and stays as in Backstage.
    assert.deepEqual(
      entity.relations?.map((relation) => relation.type),
      ['dependencyOf', 'dependsOn', 'ownedBy', 'partOf', 'providesApi'],
    );
  });

  test('entity by name ignores case', async () => {
    const response = await get('admin', '/entities/by-name/component/DEFAULT/legacy-billing');

    assert.equal(response.statusCode, 200);
    assert.equal(response.json().metadata.name, 'Legacy-Billing');
  });

  test('entity the user may not read is not found', async () => {
    const hidden = await get('bob', '/entities/by-name/component/default/website');
    const missing = await get('bob', '/entities/by-name/component/default/no-such-thing');

    assert.equal(hidden.statusCode, 404);
    assert.equal(hidden.json().error.code, 'NOT_FOUND');
    assert.equal(missing.statusCode, 404);
    assert.equal((await get('ada', '/entities/by-name/component/default/website')).statusCode, 200);
  });

  test('entity by uid honours the same grants', async () => {
    const website = (await get('admin', '/entities/by-name/component/default/website')).json();
    const uid = website.metadata.uid as string;

    const allowed = await get('ada', `/entities/by-uid/${uid}`);
    const hidden = await get('bob', `/entities/by-uid/${uid}`);

    assert.equal(allowed.statusCode, 200);
    assert.equal(allowed.json().metadata.name, 'website');
    assert.equal(hidden.statusCode, 404);
  });

  test('by-refs answers in request order with null gaps', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/catalog/entities/by-refs',
      headers: { [TEST_USER_HEADER]: 'ada' },
      payload: {
        entityRefs: [
          'component:default/website',
          'component:default/payments',
          'Component:Default/Orders',
          'component:default/no-such-thing',
          'no-kind-here',
          'component:default/website',
        ],
      },
    });

    assert.equal(response.statusCode, 200);
    const items = response.json().items as Array<Entity | null>;
    assert.deepEqual(
      items.map((item) => item?.metadata.name ?? null),
      ['website', null, 'orders', null, null, 'website'],
    );
    assert.ok(Array.isArray(items[0]?.relations));
  });

  test('by-refs applies fields and the filter parameter', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/catalog/entities/by-refs?filter=spec.type=website',
      headers: { [TEST_USER_HEADER]: 'admin' },
      payload: {
        entityRefs: ['component:default/website', 'component:default/orders'],
        fields: ['metadata.name'],
      },
    });

    assert.deepEqual(response.json(), { items: [{ metadata: { name: 'website' } }, null] });
  });

  test('facets count only readable entities', async () => {
    const ada = await get('ada', '/entity-facets?facet=kind');
    const bob = await get('bob', '/entity-facets?facet=kind');

    assert.deepEqual(ada.json(), {
      facets: {
        kind: [
          { value: 'API', count: 1 },
          { value: 'Component', count: 2 },
          { value: 'Group', count: 4 },
          { value: 'Resource', count: 1 },
          { value: 'System', count: 1 },
          { value: 'User', count: 2 },
        ],
      },
    });
    assert.deepEqual(bob.json(), {
      facets: {
        kind: [
          { value: 'API', count: 1 },
          { value: 'Component', count: 5 },
        ],
      },
    });
  });

  test('facets apply the filter and read array items', async () => {
    const lifecycles = await get(
      'admin',
      '/entity-facets?facet=spec.lifecycle&filter=kind=component',
    );
    const tags = await get('ada', '/entity-facets?facet=metadata.tags');

    assert.deepEqual(lifecycles.json().facets['spec.lifecycle'], [
      { value: 'deprecated', count: 1 },
      { value: 'experimental', count: 2 },
      { value: 'production', count: 4 },
    ]);
    assert.deepEqual(tags.json().facets['metadata.tags'], [
      { value: 'backend', count: 1 },
      { value: 'frontend', count: 1 },
      { value: 'java', count: 1 },
      { value: 'react', count: 1 },
    ]);
  });

  test('facets over relations count targets', async () => {
    const response = await get(
      'admin',
      '/entity-facets?facet=relations.ownedBy&filter=kind=api,kind=component',
    );

    assert.deepEqual(response.json().facets['relations.ownedBy'], [
      { value: 'group:default/team-a', count: 3 },
      { value: 'group:default/team-b', count: 3 },
      { value: 'group:default/team-c', count: 2 },
    ]);
  });

  test('query totals follow each principal', async () => {
    const ada = (await get('ada', '/entities/by-query?limit=2')).json() as QueryResponse;
    const bob = (await get('bob', '/entities/by-query?limit=2')).json() as QueryResponse;
    const admin = (await get('admin', '/entities/by-query?limit=2')).json() as QueryResponse;

    assert.equal(ada.totalItems, ADA_REFS.length);
    assert.equal(bob.totalItems, BOB_REFS.length);
    assert.equal(admin.totalItems, ALL_REFS.length);
    assert.equal(ada.items.length, 2);
  });

  test('query cursor pages through every entity once', async () => {
    const pages = await queryAll('ada', '/entities/by-query?limit=4&orderField=metadata.name,asc');
    const names = pages.flatMap((page) => page.items.map((entity) => entity.metadata.name));

    assert.equal(pages.length, 3);
    assert.deepEqual(names, [
      'ada',
      'bob',
      'orders',
      'orders-api',
      'orders-db',
      'org',
      'shop',
      'team-a',
      'team-b',
      'team-c',
      'website',
    ]);
    assert.deepEqual(sorted(pages.flatMap((page) => page.items.map(refOf))), ADA_REFS);
    assert.ok(pages.every((page) => page.totalItems === ADA_REFS.length));
  });

  test('query previous cursor returns the earlier page', async () => {
    const first = (
      await get('bob', '/entities/by-query?limit=2&orderField=metadata.name,desc')
    ).json() as QueryResponse;
    const second = (
      await get(
        'bob',
        `/entities/by-query?limit=2&cursor=${encodeURIComponent(first.pageInfo.nextCursor!)}`,
      )
    ).json() as QueryResponse;
    const back = (
      await get(
        'bob',
        `/entities/by-query?limit=2&cursor=${encodeURIComponent(second.pageInfo.prevCursor!)}`,
      )
    ).json() as QueryResponse;

    assert.equal(first.pageInfo.prevCursor, undefined);
    assert.deepEqual(first.items.map(refOf), [
      'component:default/payments',
      'api:default/orders-api',
    ]);
    assert.deepEqual(second.items.map(refOf), [
      'component:default/orders',
      'component:ops/monitor',
    ]);
    assert.deepEqual(back.items.map(refOf), first.items.map(refOf));
    assert.equal(back.pageInfo.prevCursor, undefined);
    assert.ok(back.pageInfo.nextCursor);
  });

  test('query sorts entities without the field last', async () => {
    const pages = await queryAll(
      'admin',
      '/entities/by-query?limit=3&filter=kind=component&orderField=metadata.title,desc',
    );

    // Without a title, entities follow in reference order, descending like the sort.
    assert.deepEqual(
      pages.flatMap((page) => page.items.map(refOf)),
      [
        'component:default/website',
        'component:default/orders',
        'component:ops/monitor',
        'component:default/search',
        'component:default/payments',
        'component:default/legacy-billing',
        'component:default/ledger',
      ],
    );
  });

  test('query cursor keeps the query of the first page', async () => {
    const first = (
      await get('admin', '/entities/by-query?limit=1&filter=kind=api,kind=resource')
    ).json() as QueryResponse;
    const next = await get(
      'admin',
      `/entities/by-query?limit=5&filter=kind=group&cursor=${encodeURIComponent(first.pageInfo.nextCursor!)}`,
    );

    assert.deepEqual((next.json() as QueryResponse).items.map(refOf), [
      'resource:default/orders-db',
    ]);
  });

  test('query offset skips rows of the first page', async () => {
    const response = await get(
      'bob',
      '/entities/by-query?offset=1&limit=2&orderField=metadata.name,asc',
    );

    assert.deepEqual(
      (response.json() as QueryResponse).items.map((entity) => entity.metadata.name),
      ['Legacy-Billing', 'monitor'],
    );
  });

  test('query full-text search matches parts of values', async () => {
    const url =
      '/entities/by-query?fullTextFilterTerm=ORDER&fullTextFilterFields=metadata.name,metadata.title';

    assert.deepEqual(sorted(((await get('admin', url)).json() as QueryResponse).items.map(refOf)), [
      'api:default/orders-api',
      'component:default/orders',
      'resource:default/orders-db',
    ]);
    assert.deepEqual(sorted(((await get('bob', url)).json() as QueryResponse).items.map(refOf)), [
      'api:default/orders-api',
      'component:default/orders',
    ]);
  });

  test('query full-text term is not a pattern', async () => {
    const response = await get(
      'admin',
      '/entities/by-query?fullTextFilterTerm=%25&fullTextFilterFields=metadata.name',
    );

    assert.equal((response.json() as QueryResponse).totalItems, 0);
  });

  test('query without totals or rows', async () => {
    const excluded = (await get('admin', '/entities/by-query?limit=2&totalItems=exclude')).json();
    const countOnly = (await get('admin', '/entities/by-query?limit=0')).json();

    assert.equal(excluded.totalItems, 0);
    assert.equal(excluded.items.length, 2);
    assert.deepEqual(countOnly, { items: [], totalItems: ALL_REFS.length, pageInfo: {} });
  });
});
