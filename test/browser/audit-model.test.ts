import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  emptyFilter,
  eventsUrl,
  filterFromParams,
  filterToParams,
  formatTime,
  isFiltered,
  isoToLocalInput,
  localInputToIso,
  PAGE_SIZE,
  parseSequence,
} from '../../web/micro-frontends/audit/model.js';

/** The Audit micro frontend's data handling, which runs in the browser but needs no DOM. */

describe('audit view model', () => {
  test('filter from node parameters', () => {
    const filter = filterFromParams({
      actor: 'user:default/ada',
      action: ' auth.sign-in ',
      outcome: 'maybe',
      since: '2024-05-01T00:00:00.000Z',
      other: 'ignored',
    });

    assert.deepEqual(filter, {
      actor: 'user:default/ada',
      action: 'auth.sign-in',
      target: '',
      outcome: '',
      since: '2024-05-01T00:00:00.000Z',
      until: '',
    });
  });

  test('filter to node parameters drops empty values', () => {
    const params = filterToParams({ ...emptyFilter(), target: 'component:default/shop' });

    assert.equal(params.target, 'component:default/shop');
    assert.equal(params.actor, undefined);
    assert.ok('actor' in params, 'an empty filter is passed as undefined so Luigi removes it');
  });

  test('events URL of the first and a later page', () => {
    const filter = { ...emptyFilter(), actor: 'user:default/ada', outcome: 'denied' };

    assert.equal(
      eventsUrl(filter, undefined),
      `/api/audit/events?actor=user%3Adefault%2Fada&outcome=denied&limit=${PAGE_SIZE}`,
    );
    assert.equal(
      eventsUrl(emptyFilter(), 'eyJiZWZvcmUiOjQyfQ'),
      `/api/audit/events?limit=${PAGE_SIZE}&cursor=eyJiZWZvcmUiOjQyfQ`,
    );
  });

  test('isFiltered', () => {
    assert.equal(isFiltered(emptyFilter()), false);
    assert.equal(isFiltered({ ...emptyFilter(), until: '2024-05-01T00:00:00.000Z' }), true);
  });

  test('local time input round trip', () => {
    const local = '2024-05-01T09:30';
    const iso = localInputToIso(local);

    assert.equal(iso, new Date(local).toISOString());
    assert.equal(isoToLocalInput(iso), local);
    assert.equal(localInputToIso(''), '');
    assert.equal(localInputToIso('not a time'), '');
    assert.equal(isoToLocalInput('not a time'), '');
  });

  test('formatTime', () => {
    assert.equal(formatTime('2024-05-01T12:34:56.789Z'), '2024-05-01 12:34:56 UTC');
    assert.equal(formatTime('odd'), 'odd');
  });

  const sequences: Array<[string | undefined, number | undefined]> = [
    ['42', 42],
    ['0', undefined],
    ['-1', undefined],
    ['4x', undefined],
    ['99999999999999999', undefined],
    [undefined, undefined],
  ];
  for (const [value, expected] of sequences) {
    test(`parseSequence ${String(value)}`, () => {
      assert.equal(parseSequence(value), expected);
    });
  }
});
