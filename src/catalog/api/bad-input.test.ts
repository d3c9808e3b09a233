import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  createCatalogApiServer,
  TEST_USER_HEADER,
} from '../../../test/fixtures/catalog-api/fixture.js';
import { describeEachDialect } from '../../../test/support/databases.js';

interface BadInputCase {
  name: string;
  method?: 'GET' | 'POST';
  url: string;
  payload?: unknown;
  /** The parameter the error message must name. */
  parameter: string;
}

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

const CASES: BadInputCase[] = [
  { name: 'limit not a number', url: '/entities?limit=abc', parameter: 'limit' },
  { name: 'limit zero on a list', url: '/entities?limit=0', parameter: 'limit' },
  { name: 'limit above the maximum', url: '/entities?limit=5000', parameter: 'limit' },
  { name: 'limit given twice', url: '/entities?limit=1&limit=2', parameter: 'limit' },
  { name: 'limit negative on a query', url: '/entities/by-query?limit=-5', parameter: 'limit' },
  { name: 'offset negative', url: '/entities?offset=-1', parameter: 'offset' },
  { name: 'offset a fraction', url: '/entities/by-query?offset=1.5', parameter: 'offset' },
  { name: 'order without direction', url: '/entities?order=metadata.name', parameter: 'order' },
  {
    name: 'order with a bad direction',
    url: '/entities?order=up:metadata.name',
    parameter: 'order',
  },
  { name: 'after not a token', url: '/entities?after=not-a-token', parameter: 'after' },
  {
    name: 'after with a bad limit',
    url: `/entities?after=${cursorOf({ limit: 'ten' })}`,
    parameter: 'after',
  },
  { name: 'filter without a key', url: '/entities?filter==component', parameter: 'filter' },
  { name: 'fields with an index', url: '/entities?fields=spec.dependsOn[0]', parameter: 'fields' },
  {
    name: 'orderField with a bad direction',
    url: '/entities/by-query?orderField=metadata.name,up',
    parameter: 'orderField',
  },
  {
    name: 'orderField without a field',
    url: '/entities/by-query?orderField=,asc',
    parameter: 'orderField',
  },
  { name: 'cursor not base64 JSON', url: '/entities/by-query?cursor=%25%25', parameter: 'cursor' },
  {
    name: 'cursor of the wrong shape',
    url: `/entities/by-query?cursor=${cursorOf({ orderFields: 'x' })}`,
    parameter: 'cursor',
  },
  {
    name: 'totalItems not include or exclude',
    url: '/entities/by-query?totalItems=maybe',
    parameter: 'totalItems',
  },
  {
    name: 'full-text term given twice',
    url: '/entities/by-query?fullTextFilterTerm=a&fullTextFilterTerm=b',
    parameter: 'fullTextFilterTerm',
  },
  { name: 'facet missing', url: '/entity-facets', parameter: 'facet' },
  {
    name: 'by-refs without a body',
    method: 'POST',
    url: '/entities/by-refs',
    parameter: 'entityRefs',
  },
  {
    name: 'by-refs with another key',
    method: 'POST',
    url: '/entities/by-refs',
    payload: { refs: ['component:default/orders'] },
    parameter: 'entityRefs',
  },
  {
    name: 'by-refs with a string',
    method: 'POST',
    url: '/entities/by-refs',
    payload: { entityRefs: 'component:default/orders' },
    parameter: 'entityRefs',
  },
  {
    name: 'by-refs with numbers',
    method: 'POST',
    url: '/entities/by-refs',
    payload: { entityRefs: [1, 2] },
    parameter: 'entityRefs',
  },
  {
    name: 'by-refs with too many references',
    method: 'POST',
    url: '/entities/by-refs',
    payload: { entityRefs: Array.from({ length: 1001 }, (_, index) => `component:x-${index}`) },
    parameter: 'entityRefs',
  },
];

describeEachDialect('catalog API bad input', (context) => {
  let app: FastifyInstance;

  before(async () => {
    ({ app } = await createCatalogApiServer(context.handle()));
  });
  after(async () => {
    await app?.close();
  });

  for (const item of CASES) {
    test(`400 for ${item.name}`, async () => {
      const response = await app.inject({
        method: item.method ?? 'GET',
        url: `/api/catalog${item.url}`,
        headers: { [TEST_USER_HEADER]: 'admin' },
        ...(item.payload === undefined ? {} : { payload: item.payload as object }),
      });

      assert.equal(response.statusCode, 400, response.body);
      const body = response.json() as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'INPUT_INVALID');
      assert.ok(
        body.error.message.includes(item.parameter),
        `'${body.error.message}' names ${item.parameter}`,
      );
    });
  }

  test('400 for a body that is not JSON', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/catalog/entities/by-refs',
      headers: { [TEST_USER_HEADER]: 'admin', 'content-type': 'application/json' },
      payload: '{"entityRefs": [',
    });

    assert.equal(response.statusCode, 400);
  });

  test('bad input is checked after authentication', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/catalog/entities?limit=abc' });

    assert.equal(response.statusCode, 401);
  });
});
