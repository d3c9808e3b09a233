import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parameterOf, placeholdersOf, substituteParameters } from './path-parameters.js';

describe('path parameters', () => {
  test('parameterOf reads dynamic segments', () => {
    assert.equal(parameterOf(':kind'), 'kind');
    assert.equal(parameterOf('kind'), undefined);
    assert.equal(parameterOf(':'), undefined);
    assert.equal(parameterOf(':a-b'), undefined);
  });

  test('placeholdersOf skips scheme and port', () => {
    assert.deepEqual(placeholdersOf('http://127.0.0.1:8080/e/:kind/:name?n=:name'), [
      'kind',
      'name',
    ]);
    assert.deepEqual(placeholdersOf('/micro-frontends/entity/'), []);
  });

  test('nested parameters are substituted', () => {
    const url = substituteParameters('https://t.example.com/:kind/:namespace/:name/', {
      kind: 'component',
      namespace: 'default',
      name: 'booking web',
    });

    assert.equal(url, 'https://t.example.com/component/default/booking%20web/');
  });

  test('longer names win over their prefixes', () => {
    const url = substituteParameters('/x/:namespace/:name', { name: 'n', namespace: 'ns' });

    assert.equal(url, '/x/ns/n');
  });
});
