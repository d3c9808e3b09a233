import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { describe, test } from 'node:test';
import { serializeEntity } from './entity-json.js';

type Content = { metadata: Record<string, unknown> } & Record<string, unknown>;

const UID = '5f0e7c36-3f6b-4a8e-9d52-0c3bd1a1e3a1';

function sha1(text: string): string {
  return hash('sha1', text, 'hex');
}

const cases: ReadonlyArray<[string, Content]> = [
  [
    'a usual entity',
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'orders', annotations: { 'backstage.io/managed-by-location': 'file:/a' } },
      spec: { type: 'service', owner: 'team-a' },
    },
  ],
  ['metadata first', { metadata: { name: 'a' }, kind: 'API', spec: {} }],
  ['metadata last', { kind: 'API', spec: { x: [1, 2] }, metadata: { name: 'a' } }],
  ['metadata with its own uid', { kind: 'X', metadata: { uid: 'mine', name: 'a' } }],
  ['metadata with its own etag', { kind: 'X', metadata: { etag: 'mine', name: 'a', z: 1 } }],
  ['metadata with uid and etag', { metadata: { etag: 'e', uid: 'u', name: 'a' } }],
  ['metadata without fields', { kind: 'X', metadata: {} }],
  [
    'integer-like keys, which objects order first',
    { '10': 1, '9': 2, metadata: { '2': 'b', '1': 'a', name: 'n' }, spec: { '3': true } },
  ],
  [
    'values JSON leaves out or escapes',
    { metadata: { name: 'a', gone: undefined }, spec: { text: 'é"\\\n\u2028', none: null } },
  ],
  ['a __proto__ key', { metadata: JSON.parse('{"__proto__": {"x": 1}, "name": "a"}') }],
];

describe('serializeEntity', () => {
  for (const [name, content] of cases) {
    test(name, () => {
      const json = serializeEntity(content, sha1);
      const body = { ...content, metadata: { ...content.metadata, uid: UID, etag: json.etag } };

      assert.equal(json.etag, sha1(JSON.stringify(content)));
      assert.equal(`${json.bodyHead}${JSON.stringify(UID)}${json.bodyTail}`, JSON.stringify(body));
    });
  }
});
