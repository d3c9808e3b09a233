import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../test/support/databases.js';
import { HttpClient } from '../../test/support/http-client.js';
import { PROJECT_ROOT, startTestPortal, type TestPortal } from '../../test/support/portal.js';
import type { AuditEvent, AuditRecord } from './index.js';
import { encodeEventsCursor, MAX_EVENTS_PAGE_SIZE } from './index.js';

/**
 * `GET /api/audit/events` and `GET /api/audit/events/:sequence` over HTTP,
 * as sofia (platform-admin, who is granted audit.event.read) and amara (who does
 * not), on records that the tests append with known fields.
 */

/** The example users' password, from examples/app-config.yaml. */
const DEMO_PASSWORD = 'demo';
const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');

interface EventsBody {
  items: AuditRecord[];
  nextCursor?: string;
}

interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path?: string; message: string }> };
}

describeEachDialect('audit events API', ({ dialect }) => {
  let started: TestPortal;
  let sofia: HttpClient;
  /** The records the tests appended, in sequence order. */
  const appended: AuditRecord[] = [];

  const append = async (event: AuditEvent) => {
    const record = await started.portal.audit.append(started.portal.database.db, event);
    appended.push(record);
    return record;
  };

  before(async () => {
    started = await startTestPortal({
      dialect,
      overrides: {
        catalog: {
          locations: [
            { type: 'file', target: ORGANISATION_FILE, rules: [{ allow: ['User', 'Group'] }] },
          ],
        },
        audit: { checkpoint: { intervalSeconds: 0 } },
      },
    });
    sofia = new HttpClient(started.url);
    await sofia.signInWithDevelopmentProvider('sofia', DEMO_PASSWORD, '/');

    for (let index = 0; index < 7; index += 1) {
      await append({
        actor: index % 2 === 0 ? 'user:default/even' : 'user:default/odd',
        action: 'test.paging',
        target: `component:default/service-${index}`,
        outcome: index === 6 ? 'failed' : 'succeeded',
        reason: index === 6 ? 'the seventh one fails' : undefined,
        details: { index },
      });
    }
  });

  after(async () => {
    await started?.close();
  });

  async function getEvents(query: string): Promise<EventsBody> {
    const response = await sofia.request(`/api/audit/events${query}`);
    assert.equal(response.status, 200, response.body);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    return JSON.parse(response.body) as EventsBody;
  }

  test('pages newest first with a cursor', async () => {
    const sequences: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query = `?action=test.paging&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const body = await getEvents(query);
      sequences.push(...body.items.map((item) => item.sequence));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);

    assert.equal(pages, 3);
    assert.deepEqual(sequences, appended.map((record) => record.sequence).reverse());
  });

  test('returns whole records', async () => {
    const body = await getEvents('?action=test.paging&limit=1');
    const newest = appended.at(-1);

    assert.deepEqual(body.items, [newest]);
    assert.equal(typeof body.nextCursor, 'string');
  });

  const filterCases: Array<{
    name: string;
    query: string;
    expect: (record: AuditRecord) => boolean;
  }> = [
    {
      name: 'actor',
      query: 'actor=user:default/odd',
      expect: (record) => record.actor === 'user:default/odd',
    },
    {
      name: 'target',
      query: 'target=component:default/service-3',
      expect: (record) => record.target === 'component:default/service-3',
    },
    { name: 'outcome', query: 'outcome=failed', expect: (record) => record.outcome === 'failed' },
    {
      name: 'actor and outcome',
      query: 'actor=user:default/even&outcome=succeeded',
      expect: (record) => record.actor === 'user:default/even' && record.outcome === 'succeeded',
    },
  ];
  for (const { name, query, expect } of filterCases) {
    test(`filters by ${name}`, async () => {
      const body = await getEvents(`?action=test.paging&${query}`);
      const expected = appended.filter(expect).reverse();

      assert.ok(expected.length > 0);
      assert.deepEqual(
        body.items.map((item) => item.sequence),
        expected.map((record) => record.sequence),
      );
    });
  }

  test('filters by time range', async () => {
    const times = appended.map((record) => Date.parse(record.time));
    const since = new Date(times[2] ?? 0).toISOString();
    const until = new Date((times[4] ?? 0) + 1).toISOString();

    const body = await getEvents(`?action=test.paging&since=${since}&until=${until}`);
    const expected = appended.filter(
      (record) => record.time >= since && Date.parse(record.time) < Date.parse(until),
    );

    assert.deepEqual(
      body.items.map((item) => item.sequence),
      expected.map((record) => record.sequence).reverse(),
    );
    assert.ok(expected.length >= 3);
  });

  test('an empty filter counts as absent', async () => {
    const body = await getEvents('?action=test.paging&actor=&outcome=&limit=');

    assert.equal(body.items.length, 7);
  });

  test('reads one record by sequence', async () => {
    const record = appended[3]!;
    const response = await sofia.request(`/api/audit/events/${record.sequence}`);

    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), record);
  });

  test('unknown sequence is a 404', async () => {
    const response = await sofia.request('/api/audit/events/999999999');
    const body = JSON.parse(response.body) as ErrorBody;

    assert.equal(response.status, 404);
    assert.equal(body.error.code, 'NOT_FOUND');
    assert.match(body.error.message, /Audit record 999999999 was not found/);
  });

  const badInputs: Array<{ query: string; parameter: string; message: RegExp }> = [
    {
      query: 'limit=0',
      parameter: 'limit',
      message: /limit '0' is invalid: use a whole number from 1 to 500/,
    },
    { query: `limit=${MAX_EVENTS_PAGE_SIZE + 1}`, parameter: 'limit', message: /from 1 to 500/ },
    { query: 'limit=ten', parameter: 'limit', message: /limit 'ten' is invalid/ },
    { query: 'outcome=maybe', parameter: 'outcome', message: /use succeeded, failed, denied/ },
    { query: 'since=yesterday', parameter: 'since', message: /ISO 8601.*2024-05-01T12:00:00Z/ },
    { query: 'since=2024-02-30', parameter: 'since', message: /since '2024-02-30' is invalid/ },
    { query: 'until=2024-05-01T10:00:00', parameter: 'until', message: /with Z or an offset/ },
    {
      query: 'since=2024-05-02&until=2024-05-01',
      parameter: 'until',
      message: /until 2024-05-01T00:00:00.000Z is not after since 2024-05-02T00:00:00.000Z/,
    },
    {
      query: 'cursor=not*base64',
      parameter: 'cursor',
      message: /pass the nextCursor of the previous page/,
    },
    {
      query: `cursor=${Buffer.from('{"after":3}').toString('base64url')}`,
      parameter: 'cursor',
      message: /cursor '.*' is invalid/,
    },
    {
      query: `cursor=${encodeEventsCursor(0)}`,
      parameter: 'cursor',
      message: /cursor '.*' is invalid/,
    },
    {
      query: 'user=ada',
      parameter: 'user',
      message: /Unknown parameter 'user': use actor, action/,
    },
    { query: 'actor=a&actor=b', parameter: 'actor', message: /actor is given more than once/ },
    {
      query: 'actor=a%01b',
      parameter: 'actor',
      message: /control character U\+0001 at position 1/,
    },
    { query: `action=${'a'.repeat(129)}`, parameter: 'action', message: /use at most 128/ },
  ];
  for (const { query, parameter, message } of badInputs) {
    test(`rejects ${query.slice(0, 40)}`, async () => {
      const response = await sofia.request(`/api/audit/events?${query}`);
      const body = JSON.parse(response.body) as ErrorBody;

      assert.equal(response.status, 400);
      assert.equal(body.error.code, 'INPUT_INVALID');
      assert.match(body.error.message, message);
      assert.equal(body.error.details[0]?.path, parameter);
    });
  }

  test('rejects a sequence that is not a number', async () => {
    const response = await sofia.request('/api/audit/events/12abc');
    const body = JSON.parse(response.body) as ErrorBody;

    assert.equal(response.status, 400);
    assert.match(body.error.message, /sequence '12abc' is invalid/);
  });

  test('requires audit.event.read', async () => {
    const amara = new HttpClient(started.url);
    await amara.signInWithDevelopmentProvider('amara', DEMO_PASSWORD, '/');
    const anonymous = new HttpClient(started.url);

    for (const url of ['/api/audit/events', `/api/audit/events/${appended[0]?.sequence}`]) {
      assert.equal((await amara.request(url)).status, 403);
      assert.equal((await anonymous.request(url)).status, 401);
    }
  });
});
