import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, canonicalRecord, GENESIS_HASH, hashRecord } from './canonical.js';
import { checkpointPayload } from './checkpoint.js';

const RECORD = {
  sequence: 1,
  time: '2025-01-01T00:00:00.000Z',
  actor: 'user:default/alice',
  action: 'auth.sign-in',
  target: null,
  outcome: 'succeeded',
  reason: null,
  ip: '192.0.2.7',
  userAgent: 'curl/8.5.0',
  requestId: 'req-1',
  details: '{"groups":["group:default/team-a"]}',
  previousHash: GENESIS_HASH,
};

// The canonical forms are a contract with every verifier, including ones
// written in other languages from docs/audit.md, so they are pinned here.
// The hash below was computed with `printf %s <canonical form> | sha256sum`.

test('record canonical form is fixed', () => {
  assert.equal(
    canonicalRecord(RECORD),
    '["backstage-luigi.audit.record.v1",1,"2025-01-01T00:00:00.000Z","user:default/alice","auth.sign-in",null,"succeeded",null,"192.0.2.7","curl/8.5.0","req-1","{\\"groups\\":[\\"group:default/team-a\\"]}","0000000000000000000000000000000000000000000000000000000000000000"]',
  );
});

test('record hash is fixed', () => {
  assert.equal(
    hashRecord(RECORD),
    'dfe57fc813cd947c8a31296181228258992ef57adc1eefcfe7342f4761ffc9d7',
  );
});

test('checkpoint payload is fixed', () => {
  assert.equal(
    checkpointPayload({
      kind: 'checkpoint',
      sequence: 42,
      hash: 'ab'.repeat(32),
      time: '2025-01-01T00:05:00.000Z',
      firstSequence: null,
    }),
    `["backstage-luigi.audit.checkpoint.v1","checkpoint",42,"${'ab'.repeat(32)}","2025-01-01T00:05:00.000Z",null]`,
  );
});

test('canonical JSON sorts keys at every level', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'é' } }),
    '{"a":{"c":"é","d":[3,{"y":null,"z":true}]},"b":1}',
  );
});
