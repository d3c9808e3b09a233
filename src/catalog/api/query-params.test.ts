import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCursor, encodeCursor } from './cursor.js';
import { pickFields } from './fields.js';
import {
  parseFields,
  parseFilterParams,
  parseOrderFieldParams,
  parseOrderParams,
} from './query-params.js';

test('filter: one set of conditions', () => {
  assert.deepEqual(parseFilterParams({ filter: 'Kind=Component, spec.type = service ,,' }), {
    allOf: [
      { key: 'kind', values: ['component'] },
      { key: 'spec.type', values: ['service'] },
    ],
  });
});

test('filter: repeated sets are alternatives', () => {
  assert.deepEqual(parseFilterParams({ filter: ['kind=user', 'kind=group,spec.type'] }), {
    anyOf: [
      { allOf: [{ key: 'kind', values: ['user'] }] },
      { allOf: [{ key: 'kind', values: ['group'] }, { key: 'spec.type' }] },
    ],
  });
});

test('filter: a value may contain equals signs', () => {
  assert.deepEqual(parseFilterParams({ filter: 'metadata.annotations.x=a=b' }), {
    allOf: [{ key: 'metadata.annotations.x', values: ['a=b'] }],
  });
});

test('filter: empty sets mean no filter', () => {
  assert.equal(parseFilterParams({ filter: ' , ' }), undefined);
  assert.equal(parseFilterParams({}), undefined);
});

test('fields: comma lists and repeats', () => {
  assert.deepEqual(parseFields(['kind, metadata.name', 'spec']), ['kind', 'metadata.name', 'spec']);
  assert.equal(parseFields([' , ']), undefined);
});

test('order: direction and lowercase field', () => {
  assert.deepEqual(parseOrderParams({ order: ['desc:Metadata.Name', 'asc:kind'] }), [
    { order: 'desc', field: 'metadata.name' },
    { order: 'asc', field: 'kind' },
  ]);
  assert.deepEqual(parseOrderFieldParams({ orderField: 'metadata.title' }), [
    { field: 'metadata.title', order: 'asc' },
  ]);
});

test('cursor: round trip', () => {
  const cursor = {
    orderFields: [{ field: 'metadata.name', order: 'asc' as const }],
    filter: { allOf: [{ key: 'kind', values: ['component'] }] },
    position: { value: 'orders', ref: 'component:default/orders', id: 12 },
    isPrevious: false,
    totalItems: 7,
  };

  assert.deepEqual(decodeCursor(encodeCursor(cursor)), cursor);
});

test('cursor: never carries a query key', () => {
  const text = encodeCursor({ orderFields: [], isPrevious: false, totalItems: 0 });

  assert.equal('query' in JSON.parse(Buffer.from(text, 'base64').toString('utf8')), false);
});

test('pickFields keeps subtrees and skips missing paths', () => {
  const entity = {
    kind: 'Component',
    metadata: { name: 'orders', annotations: { 'backstage.io/source-location': 'url:x' } },
    spec: { type: 'service' },
  };

  assert.deepEqual(
    pickFields(entity, [
      'metadata.annotations.backstage.io/source-location',
      'spec',
      'status.items',
    ]),
    {
      metadata: { annotations: { 'backstage.io/source-location': 'url:x' } },
      spec: { type: 'service' },
    },
  );
});
