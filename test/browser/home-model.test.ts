import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  groupLabel,
  MAX_OWNER_REFS,
  navigationShortcuts,
  OWNED_LIMIT,
  ownedEntitiesUrl,
  readConfiguredShortcuts,
} from '../../web/micro-frontends/home/model.js';

/** The Home micro frontend's data handling, which runs in the browser but needs no DOM. */

describe('home view model', () => {
  test('owned entities filter by ownedBy', () => {
    const url = new URL(
      ownedEntitiesUrl(['user:default/amara.okafor', 'group:default/booking-team']),
      'http://portal.test',
    );

    assert.equal(url.pathname, '/api/catalog/entities/by-query');
    assert.deepEqual(url.searchParams.getAll('filter'), [
      'relations.ownedBy=user:default/amara.okafor,relations.ownedBy=group:default/booking-team',
    ]);
    assert.equal(url.searchParams.get('limit'), String(OWNED_LIMIT));
    assert.equal(url.searchParams.get('orderField'), 'metadata.name,asc');
    assert.ok(url.searchParams.getAll('fields').includes('metadata.title'));
  });

  test('owned entities cap the owner references', () => {
    const refs = Array.from({ length: MAX_OWNER_REFS + 5 }, (_, i) => `group:default/g${i}`);
    const url = new URL(ownedEntitiesUrl(refs), 'http://portal.test');
    const conditions = url.searchParams.get('filter')?.split(',') ?? [];

    assert.equal(conditions.length, MAX_OWNER_REFS);
    assert.equal(conditions.at(-1), `relations.ownedBy=group:default/g${MAX_OWNER_REFS - 1}`);
  });

  test('group label prefers the display name', () => {
    const base = { kind: 'Group', metadata: { name: 'booking-team', title: 'Booking title' } };

    assert.equal(groupLabel({ ...base, spec: { profile: { displayName: 'Booking' } } }), 'Booking');
    assert.equal(groupLabel(base), 'Booking title');
    assert.equal(groupLabel({ kind: 'Group', metadata: { name: 'booking-team' } }), 'booking-team');
  });

  test('navigation shortcuts skip home and hidden nodes', () => {
    const shortcuts = navigationShortcuts([
      { pathSegment: 'home', label: 'Home', viewUrl: '/micro-frontends/home/' },
      { pathSegment: 'catalog', label: 'Catalog', viewUrl: '/micro-frontends/catalog/' },
      { pathSegment: 'secret', label: 'Secret', viewUrl: '/x/', hideFromNav: true },
      { pathSegment: 'docs', label: 'Docs', externalLink: { url: 'https://docs.example/' } },
      { pathSegment: 'plain', viewUrl: '/y/' },
    ]);

    assert.deepEqual(shortcuts, [
      { label: 'Catalog', url: '/catalog', external: false },
      { label: 'Docs', url: 'https://docs.example/', external: true },
      { label: 'plain', url: '/plain', external: false },
    ]);
  });

  test('configured shortcuts are read', () => {
    const result = readConfiguredShortcuts({
      shortcuts: [
        { label: 'Booking', url: '/catalog/component/default/booking-web', description: 'Site' },
        { label: 'Guide', url: 'https://docs.example/guide' },
      ],
    });

    assert.deepEqual(result.faults, []);
    assert.deepEqual(result.shortcuts, [
      {
        label: 'Booking',
        url: '/catalog/component/default/booking-web',
        external: false,
        description: 'Site',
      },
      { label: 'Guide', url: 'https://docs.example/guide', external: true },
    ]);
  });

  test('configured shortcuts are optional', () => {
    assert.deepEqual(readConfiguredShortcuts({}), { shortcuts: [], faults: [] });
  });

  const invalid: Array<{ name: string; shortcuts: unknown; fault: RegExp }> = [
    { name: 'not a list', shortcuts: 'x', fault: /^context\.shortcuts is 'x': use a list/ },
    { name: 'entry not an object', shortcuts: [3], fault: /^context\.shortcuts\[0\] is 3/ },
    { name: 'label missing', shortcuts: [{ url: '/a' }], fault: /\[0\]\.label is missing/ },
    {
      name: 'script URL',
      shortcuts: [{ label: 'x', url: 'javascript:alert(1)' }],
      fault: /\[0\]\.url is 'javascript:alert\(1\)': use a shell route such as \/catalog/,
    },
    {
      name: 'protocol-relative URL',
      shortcuts: [{ label: 'x', url: '//evil.example/' }],
      fault: /\[0\]\.url is '\/\/evil\.example\/'/,
    },
    {
      name: 'relative URL',
      shortcuts: [{ label: 'x', url: 'catalog' }],
      fault: /\[0\]\.url is 'catalog'/,
    },
    {
      name: 'description not text',
      shortcuts: [{ label: 'x', url: '/a', description: 5 }],
      fault: /\[0\]\.description is 5: use text/,
    },
  ];
  for (const { name, shortcuts, fault } of invalid) {
    test(`configured shortcut rejected: ${name}`, () => {
      const result = readConfiguredShortcuts({ shortcuts });

      assert.deepEqual(result.shortcuts, []);
      assert.equal(result.faults.length, 1);
      assert.match(result.faults[0] ?? '', fault);
    });
  }

  test('invalid shortcut keeps the valid ones', () => {
    const result = readConfiguredShortcuts({
      shortcuts: [
        { label: 'bad', url: 'ftp://x' },
        { label: 'good', url: '/catalog' },
      ],
    });

    assert.deepEqual(result.shortcuts, [{ label: 'good', url: '/catalog', external: false }]);
    assert.equal(result.faults.length, 1);
  });
});
