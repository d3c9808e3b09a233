import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createLoginTransactionCodec,
  type LoginTransaction,
  parseReturnTo,
} from './login-transaction.js';

const transaction: LoginTransaction = {
  state: 'state-1',
  nonce: 'nonce-1',
  codeVerifier: 'verifier-1',
  returnTo: '/catalog',
};

describe('login transaction codec', () => {
  const codec = createLoginTransactionCodec('a-secret-of-at-least-thirty-two-characters');

  test('opens what it sealed', async () => {
    assert.deepEqual(await codec.open(await codec.seal(transaction)), transaction);
  });

  test('hides the fields from the browser', async () => {
    const sealed = await codec.seal(transaction);

    assert.ok(!sealed.includes('verifier-1'));
    assert.ok(
      !Buffer.from(sealed.split('.')[3] ?? '', 'base64url')
        .toString()
        .includes('verifier'),
    );
  });

  test('rejects a changed value', async () => {
    const sealed = await codec.seal(transaction);
    const parts = sealed.split('.');
    const ciphertext = parts[3] ?? '';
    parts[3] = `${ciphertext.slice(0, -2)}${ciphertext.endsWith('AA') ? 'BB' : 'AA'}`;

    assert.equal(await codec.open(parts.join('.')), undefined);
  });

  test('rejects a value sealed with another secret', async () => {
    const other = createLoginTransactionCodec('another-secret-of-at-least-thirty-two-chars');

    assert.equal(await codec.open(await other.seal(transaction)), undefined);
  });

  test('rejects a missing or malformed value', async () => {
    assert.equal(await codec.open(undefined), undefined);
    assert.equal(await codec.open('not-a-jwe'), undefined);
  });
});

describe('parseReturnTo', () => {
  const cases: Array<[unknown, string | undefined]> = [
    [undefined, '/'],
    ['', '/'],
    ['/catalog', '/catalog'],
    ['/catalog?kind=component#top', '/catalog?kind=component#top'],
    ['/a/../b', '/b'],
    ['https://evil.example/', undefined],
    ['//evil.example/', undefined],
    ['/\\evil.example', undefined],
    ['/.//evil.example/phish', undefined],
    ['/a/..//evil.example/phish', undefined],
    ['/%2e//evil.example', undefined],
    ['/./catalog', '/catalog'],
    ['/ok\\path', undefined],
    ['/line\nbreak', undefined],
    ['catalog', undefined],
    ['javascript:alert(1)', undefined],
    [['/a', '/b'], undefined],
    [`/${'a'.repeat(2048)}`, undefined],
  ];
  for (const [value, expected] of cases) {
    test(`reads ${JSON.stringify(value)?.slice(0, 40)}`, () => {
      assert.equal(parseReturnTo(value), expected);
    });
  }
});
