import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IngestionFault } from '../../web/micro-frontends/common/ingestion.js';
import {
  filterLocations,
  formatAge,
  type LocationReport,
  mergeLocations,
  pageOf,
  parseSeverity,
  shortFile,
  totalsOf,
} from '../../web/micro-frontends/locations/model.js';

/**
 * The Locations micro frontend's data handling, which runs in the browser but
 * needs no DOM: joining the two API bodies, filtering, ordering and paging.
 */

const ROOT = '/srv/catalog/all.yaml';
const EMPTY = '/srv/catalog/empty.yaml';
const BROKEN = '/srv/catalog/broken.yaml';

function fault(severity: string, message: string, extra: Partial<IngestionFault> = {}) {
  return { severity, message, ...extra };
}

const LIST_BODY = [
  { data: { id: 'root', type: 'file', target: ROOT } },
  { data: { id: 'empty', type: 'file', target: EMPTY } },
  { data: { id: 'broken', type: 'file', target: BROKEN } },
];

const REPORT_BODY = {
  items: [
    {
      id: 'root',
      type: 'file',
      target: ROOT,
      refreshedAt: '2030-01-01T10:00:00.000Z',
      errors: [
        fault('warning', 'spec.owner refers to group:default/ghosts', {
          file: '/srv/catalog/org.yaml',
          line: 4,
          entityRef: 'component:default/shop',
          field: 'spec.owner',
          code: 'dangling-reference',
        }),
        fault('error', 'target ./missing.yaml was not found', {
          file: ROOT,
          line: 9,
          code: 'location-not-found',
        }),
      ],
    },
    { id: 'empty', type: 'file', target: EMPTY, refreshedAt: null, errors: [] },
    {
      id: 'broken',
      type: 'file',
      target: BROKEN,
      refreshedAt: '2030-01-01T10:00:00.000Z',
      errors: [fault('warning', 'metadata.tags[0] is not lowercase', { file: BROKEN })],
    },
    {
      id: 'late',
      type: 'url',
      target: 'https://example.com/catalog-info.yaml',
      refreshedAt: '2030-01-01T10:00:00.000Z',
      errors: [],
    },
  ],
};

function merged(): LocationReport[] {
  return mergeLocations(LIST_BODY, REPORT_BODY);
}

describe('mergeLocations', () => {
  test('keeps the listed order', () => {
    assert.deepEqual(
      merged().map((location) => location.id),
      ['root', 'empty', 'broken', 'late'],
    );
  });

  test('appends reports missing from the list', () => {
    const late = merged()[3];

    assert.equal(late?.type, 'url');
    assert.equal(late?.target, 'https://example.com/catalog-info.yaml');
  });

  test('keeps a listed location without a report', () => {
    const locations = mergeLocations(LIST_BODY, { items: [] });

    assert.equal(locations.length, 3);
    assert.equal(locations[0]?.refreshedAt, null);
    assert.deepEqual(locations[0]?.faults, []);
  });

  test('sorts faults errors first', () => {
    const root = merged()[0];

    assert.deepEqual(
      root?.faults.map((item) => item.severity),
      ['error', 'warning'],
    );
  });

  test('counts errors and warnings', () => {
    const root = merged()[0];

    assert.equal(root?.errors, 1);
    assert.equal(root?.warnings, 1);
  });

  test('counts a fault without severity as an error', () => {
    const [location] = mergeLocations(LIST_BODY, {
      items: [{ id: 'root', errors: [{ message: 'no severity' }] }],
    });

    assert.equal(location?.errors, 1);
  });

  test('ignores malformed bodies', () => {
    assert.deepEqual(mergeLocations({ not: 'a list' }, 'not an object'), []);
  });
});

describe('filterLocations', () => {
  test('without a filter keeps every location, errors first', () => {
    const matches = filterLocations(merged(), { severity: '', text: '' });

    assert.deepEqual(
      matches.map((match) => match.location.id),
      ['root', 'broken', 'empty', 'late'],
    );
  });

  test('severity keeps matching faults only', () => {
    const matches = filterLocations(merged(), { severity: 'warning', text: '' });

    assert.deepEqual(
      matches.map((match) => match.location.id),
      ['root', 'broken'],
    );
    assert.deepEqual(
      matches[0]?.faults.map((item) => item.code),
      ['dangling-reference'],
    );
    assert.equal(matches[0]?.errors, 0);
  });

  test('text matches fault fields case-insensitively', () => {
    for (const text of ['ORG.yaml', 'component:default/SHOP', 'spec.owner', 'GHOSTS', 'dangling']) {
      const matches = filterLocations(merged(), { severity: '', text });

      assert.deepEqual(
        matches.map((match) => match.location.id),
        ['root'],
        `text ${text}`,
      );
      assert.equal(matches[0]?.faults.length, 1, `text ${text}`);
    }
  });

  test('text matching the target keeps all its faults', () => {
    const matches = filterLocations(merged(), { severity: '', text: 'all.yaml' });

    assert.equal(matches.length, 1);
    assert.equal(matches[0]?.faults.length, 2);
  });

  test('text matching a clean target keeps it', () => {
    const matches = filterLocations(merged(), { severity: '', text: 'empty.yaml' });

    assert.deepEqual(
      matches.map((match) => match.location.id),
      ['empty'],
    );
  });

  test('severity drops a clean target the text matches', () => {
    const matches = filterLocations(merged(), { severity: 'error', text: 'empty.yaml' });

    assert.deepEqual(matches, []);
  });

  test('text that matches nothing keeps nothing', () => {
    assert.deepEqual(filterLocations(merged(), { severity: '', text: 'no such thing' }), []);
  });

  test('totals count the matching faults', () => {
    const totals = totalsOf(filterLocations(merged(), { severity: '', text: '' }));

    assert.deepEqual(totals, { errors: 1, warnings: 2 });
  });

  test('filters thousands of faults', () => {
    const listBody = [];
    const reports = [];
    for (let index = 0; index < 400; index += 1) {
      const id = `loc-${index}`;
      listBody.push({ data: { id, type: 'file', target: `/srv/catalog/file-${index}.yaml` } });
      reports.push({
        id,
        refreshedAt: '2030-01-01T10:00:00.000Z',
        errors: Array.from({ length: 10 }, (_, line) =>
          fault(line % 3 === 0 ? 'error' : 'warning', `fault ${index}-${line}`, { line }),
        ),
      });
    }
    const locations = mergeLocations(listBody, { items: reports });

    const matches = filterLocations(locations, { severity: 'error', text: 'fault 399-' });

    assert.equal(matches.length, 1);
    assert.equal(matches[0]?.faults.length, 4);
  });
});

describe('parseSeverity', () => {
  test('accepts error and warning only', () => {
    assert.equal(parseSeverity('error'), 'error');
    assert.equal(parseSeverity('warning'), 'warning');
    assert.equal(parseSeverity('fatal'), '');
    assert.equal(parseSeverity(undefined), '');
  });
});

describe('shortFile', () => {
  test('shows a file beside the target by name', () => {
    assert.equal(shortFile('/srv/catalog/org.yaml', ROOT), 'org.yaml');
  });

  test('shows a file below the target folder relative to it', () => {
    assert.equal(shortFile('/srv/catalog/apis/orders.yaml', ROOT), 'apis/orders.yaml');
  });

  test('keeps a file elsewhere whole', () => {
    assert.equal(shortFile('/opt/other.yaml', ROOT), '/opt/other.yaml');
  });

  test('keeps the file when the target has no folder', () => {
    assert.equal(shortFile('org.yaml', 'all.yaml'), 'org.yaml');
  });
});

describe('formatAge', () => {
  const now = new Date('2030-01-01T12:00:00.000Z');

  test('formats seconds, minutes, hours and days', () => {
    assert.equal(formatAge('2030-01-01T11:59:30.000Z', now), '30 seconds ago');
    assert.equal(formatAge('2030-01-01T11:55:00.000Z', now), '5 minutes ago');
    assert.equal(formatAge('2030-01-01T09:00:00.000Z', now), '3 hours ago');
    assert.equal(formatAge('2029-12-30T12:00:00.000Z', now), '2 days ago');
  });

  test('reads a future time as now', () => {
    assert.equal(formatAge('2030-01-01T12:00:05.000Z', now), 'now');
  });

  test('returns an unreadable time as is', () => {
    assert.equal(formatAge('yesterday', now), 'yesterday');
  });
});

describe('pageOf', () => {
  const items = Array.from({ length: 60 }, (_, index) => index);

  test('cuts the requested page', () => {
    const page = pageOf(items, 1, 25);

    assert.deepEqual(page.items, items.slice(25, 50));
    assert.equal(page.first, 26);
    assert.equal(page.last, 50);
    assert.equal(page.count, 3);
  });

  test('clamps a page past the end', () => {
    const page = pageOf(items, 9, 25);

    assert.equal(page.index, 2);
    assert.deepEqual(page.items, items.slice(50));
  });

  test('empty list has one empty page', () => {
    const page = pageOf([], 0, 25);

    assert.equal(page.count, 1);
    assert.equal(page.first, 0);
    assert.equal(page.last, 0);
  });
});
