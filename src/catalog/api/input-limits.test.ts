import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import {
  ALL_REFS,
  type ListeningCatalogApi,
  listenCatalogApi,
} from '../../../test/fixtures/catalog-api/fixture.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import { INPUT_LIMITS } from './input-limits.js';

interface OverCapCase {
  name: string;
  method?: 'GET' | 'POST';
  url: string;
  body?: unknown;
  /** The parameter the message must name. */
  parameter: string;
  /** The cap the message must state. */
  cap: number;
}

const repeat = (count: number, item: (index: number) => string) =>
  Array.from({ length: count }, (_, index) => item(index));
const query = (name: string, values: readonly string[]) =>
  values.map((value) => `${name}=${encodeURIComponent(value)}`).join('&');

const CASES: OverCapCase[] = [
  {
    name: 'too many values of one key',
    url: `/entities?${query('filter', [repeat(INPUT_LIMITS.valuesPerCondition + 1, (i) => `kind=k${i}`).join(',')])}`,
    parameter: 'filter',
    cap: INPUT_LIMITS.valuesPerCondition,
  },
  {
    name: 'too many filter parameters',
    url: `/entities?${query(
      'filter',
      repeat(INPUT_LIMITS.filterSets + 1, (i) => `kind=k${i}`),
    )}`,
    parameter: 'filter',
    cap: INPUT_LIMITS.filterSets,
  },
  {
    name: 'too many keys in one filter',
    url: `/entities?${query('filter', [repeat(INPUT_LIMITS.conditionsPerSet + 1, (i) => `spec.k${i}=v`).join(',')])}`,
    parameter: 'filter',
    cap: INPUT_LIMITS.conditionsPerSet,
  },
  {
    name: 'too many conditions in all filters',
    url: `/entities?${query(
      'filter',
      repeat(3, (set) => repeat(34, (i) => `spec.k${set}x${i}=v`).join(',')),
    )}`,
    parameter: 'filter',
    cap: INPUT_LIMITS.conditions,
  },
  {
    name: 'too many values in all filters',
    url: `/entities?${query(
      'filter',
      repeat(11, (set) =>
        repeat(INPUT_LIMITS.valuesPerCondition, (i) => `kind=${set}x${i}`).join(','),
      ),
    )}`,
    parameter: 'filter',
    cap: INPUT_LIMITS.values,
  },
  {
    name: 'a long filter value',
    url: `/entities?filter=metadata.name=${'x'.repeat(INPUT_LIMITS.valueLength + 1)}`,
    parameter: 'filter',
    cap: INPUT_LIMITS.valueLength,
  },
  {
    name: 'a long filter key',
    url: `/entities?filter=${'k'.repeat(INPUT_LIMITS.keyLength + 1)}`,
    parameter: 'filter',
    cap: INPUT_LIMITS.keyLength,
  },
  {
    name: 'too many paths in fields',
    url: `/entities?fields=${repeat(INPUT_LIMITS.fields + 1, (i) => `spec.f${i}`).join(',')}`,
    parameter: 'fields',
    cap: INPUT_LIMITS.fields,
  },
  {
    name: 'a long path in fields',
    url: `/entities/by-query?fields=${'f'.repeat(INPUT_LIMITS.fieldLength + 1)}`,
    parameter: 'fields',
    cap: INPUT_LIMITS.fieldLength,
  },
  {
    name: 'too many paths in a by-refs body',
    method: 'POST',
    url: '/entities/by-refs',
    body: {
      entityRefs: ['component:default/orders'],
      fields: repeat(INPUT_LIMITS.fields + 1, (i) => `spec.f${i}`),
    },
    parameter: 'fields',
    cap: INPUT_LIMITS.fields,
  },
  {
    name: 'too many order parameters',
    url: `/entities?${query(
      'order',
      repeat(INPUT_LIMITS.orderFields + 1, (i) => `asc:spec.f${i}`),
    )}`,
    parameter: 'order',
    cap: INPUT_LIMITS.orderFields,
  },
  {
    name: 'too many orderField parameters',
    url: `/entities/by-query?${query(
      'orderField',
      repeat(INPUT_LIMITS.orderFields + 1, (i) => `spec.f${i},asc`),
    )}`,
    parameter: 'orderField',
    cap: INPUT_LIMITS.orderFields,
  },
  {
    name: 'a long order field',
    url: `/entities?order=asc:${'f'.repeat(INPUT_LIMITS.keyLength + 1)}`,
    parameter: 'order',
    cap: INPUT_LIMITS.keyLength,
  },
  {
    name: 'a long full-text term',
    url: `/entities/by-query?fullTextFilterTerm=${'t'.repeat(INPUT_LIMITS.valueLength + 1)}`,
    parameter: 'fullTextFilterTerm',
    cap: INPUT_LIMITS.valueLength,
  },
  {
    name: 'too many full-text fields',
    url: `/entities/by-query?fullTextFilterTerm=a&fullTextFilterFields=${repeat(INPUT_LIMITS.fullTextFields + 1, (i) => `spec.f${i}`).join(',')}`,
    parameter: 'fullTextFilterFields',
    cap: INPUT_LIMITS.fullTextFields,
  },
  {
    name: 'too many facets',
    url: `/entity-facets?${query(
      'facet',
      repeat(INPUT_LIMITS.facets + 1, (i) => `spec.f${i}`),
    )}`,
    parameter: 'facet',
    cap: INPUT_LIMITS.facets,
  },
  {
    name: 'a long facet',
    url: `/entity-facets?facet=${'f'.repeat(INPUT_LIMITS.keyLength + 1)}`,
    parameter: 'facet',
    cap: INPUT_LIMITS.keyLength,
  },
  {
    name: 'too many references in by-refs',
    method: 'POST',
    url: '/entities/by-refs',
    body: { entityRefs: repeat(1001, (i) => `component:default/c${i}`) },
    parameter: 'entityRefs',
    cap: 1000,
  },
];

describeEachDialect('catalog API input caps over HTTP', (context) => {
  let api: ListeningCatalogApi;

  before(async () => {
    api = await listenCatalogApi(context.handle());
  });
  after(async () => {
    await api?.app.close();
  });

  for (const item of CASES) {
    test(`400 for ${item.name}`, async () => {
      const response = await api.request('admin', item.url, {
        method: item.method ?? 'GET',
        ...(item.body === undefined
          ? {}
          : { body: JSON.stringify(item.body), headers: { 'content-type': 'application/json' } }),
      });
      const body = (await response.json()) as { error: { code: string; message: string } };

      assert.equal(response.status, 400, body.error.message);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(body.error.code, 'INPUT_INVALID');
      assert.ok(
        body.error.message.includes(item.parameter),
        `'${body.error.message}' names ${item.parameter}`,
      );
      assert.ok(
        body.error.message.includes(String(item.cap)),
        `'${body.error.message}' states the cap ${item.cap}`,
      );
    });
  }

  test('filter at every cap is answered', async () => {
    const kinds = [
      'component',
      'api',
      ...repeat(INPUT_LIMITS.valuesPerCondition - 2, (i) => `k${i}`),
    ];
    const sets = [
      kinds.map((kind) => `kind=${kind}`).join(','),
      ...repeat(INPUT_LIMITS.filterSets - 1, (i) => `metadata.name=n${i}`),
    ];
    const response = await api.request('admin', `/entities?${query('filter', sets)}`);

    assert.equal(response.status, 200);
    const refs = ((await response.json()) as Entity[]).map(
      (entity) => `${entity.kind}:${entity.metadata.namespace}/${entity.metadata.name}`,
    );
    assert.equal(refs.length, ALL_REFS.filter((ref) => /^(component|api):/.test(ref)).length);
  });

  test('fields at the cap are answered', async () => {
    const fields = ['metadata.name', ...repeat(INPUT_LIMITS.fields - 1, (i) => `spec.f${i}`)];
    const response = await api.request(
      'admin',
      `/entities?filter=kind=api&fields=${fields.join(',')}`,
    );

    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), [{ metadata: { name: 'orders-api' } }]);
  });
});
