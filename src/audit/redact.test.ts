import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isSecretKey, REDACTED, redactText, sanitizeDetails } from './redact.js';

const JWT =
  'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyOmRlZmF1bHQvYWxpY2UifQ.MEUCIQDxZ3Vlc3NpbmctaXMtZnV0aWxl';

describe('isSecretKey', () => {
  const secret = [
    'password',
    'Authorization',
    'set-cookie',
    'client_secret',
    'apiKey',
    'X-Api-Key',
    'refresh_token',
    'idToken',
    'sessionId',
    'session_id',
    'privateKey',
    'awsCredentials',
  ];
  const kept = ['tokenId', 'secretName', 'credentialType', 'tokenCount', 'user', 'groups', 'keyId'];

  for (const key of secret) {
    test(`${key} is secret`, () => {
      assert.equal(isSecretKey(key), true);
    });
  }
  for (const key of kept) {
    test(`${key} is kept`, () => {
      assert.equal(isSecretKey(key), false);
    });
  }
});

describe('redactText', () => {
  const cases: Array<[string, string, string]> = [
    ['a JWT', `token ${JWT} expired`, `token ${REDACTED} expired`],
    ['a bearer value', 'Authorization: Bearer abc.def-123456', `Authorization: Bearer ${REDACTED}`],
    ['a basic value', 'basic dXNlcjpwYXNzd29yZA==', `basic ${REDACTED}`],
    [
      'a URL password',
      'postgres://portal:s3cret@db:5432/portal',
      `postgres://portal:${REDACTED}@db:5432/portal`,
    ],
    [
      'credential query parameters',
      '/callback?code=abc123&state=xyz&access_token=t0k3n',
      `/callback?code=${REDACTED}&state=xyz&access_token=${REDACTED}`,
    ],
    ['a NUL character', 'a\u0000b', 'a\uFFFDb'],
    ['a lone surrogate', 'a\uD83Db', 'a\uFFFDb'],
    ['a plain reference', 'component:default/payments', 'component:default/payments'],
  ];
  for (const [name, input, expected] of cases) {
    test(`replaces ${name}`, () => {
      assert.equal(redactText(input), expected);
    });
  }

  test('cuts to the limit, marker included', () => {
    const cut = redactText('x'.repeat(200), 64);

    assert.equal(cut.length, 64);
    assert.match(cut, /…\[cut from 200 characters\]$/);
  });

  test('cut never leaves half a surrogate pair', () => {
    const cut = redactText('😀'.repeat(100), 41);

    assert.equal(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(cut), false);
  });
});

describe('sanitizeDetails', () => {
  test('redacts at any depth', () => {
    const details = sanitizeDetails({
      level1: { level2: [{ level3: { password: 'p', note: `Bearer ${JWT}` } }] },
    });

    assert.deepEqual(details, {
      level1: { level2: [{ level3: { password: REDACTED, note: `Bearer ${REDACTED}` } }] },
    });
  });

  test('turns values into plain JSON', () => {
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;

    const details = sanitizeDetails({
      when: new Date('2025-01-01T00:00:00Z'),
      big: 12345678901234567890n,
      infinite: Number.POSITIVE_INFINITY,
      skipped: undefined,
      run: () => 1,
      set: new Set(['a']),
      map: new Map([['k', 1]]),
      error: new TypeError('bad value'),
      bytes: Buffer.from('secret bytes'),
      cycle,
    });

    assert.deepEqual(details, {
      when: '2025-01-01T00:00:00.000Z',
      big: '12345678901234567890',
      infinite: null,
      set: ['a'],
      map: { k: 1 },
      error: { name: 'TypeError', message: 'bad value' },
      bytes: '[12 bytes of binary data]',
      cycle: { name: 'loop', self: '[circular]' },
    });
  });

  test('keeps __proto__ as data', () => {
    const details = sanitizeDetails(JSON.parse('{"__proto__": {"polluted": true}}'));

    assert.equal(Object.getPrototypeOf(details), Object.prototype);
    assert.deepEqual(Object.keys(details), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('wraps a value that is not an object', () => {
    assert.deepEqual(sanitizeDetails(['a']), { value: ['a'] });
    assert.deepEqual(sanitizeDetails(undefined), {});
  });
});
