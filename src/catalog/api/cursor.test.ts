import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type ListeningCatalogApi,
  listenCatalogApi,
} from '../../../test/fixtures/catalog-api/fixture.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import { INPUT_LIMITS } from './input-limits.js';

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const cursorOf = (value: unknown) => base64(JSON.stringify(value));

/** A cursor as the server issues it, for cases that change one part. */
const VALID = {
  orderFields: [{ field: 'metadata.name', order: 'asc' }],
  filter: { allOf: [{ key: 'kind', values: ['component'] }] },
  position: { value: 'ledger', ref: 'component:default/ledger', id: 1 },
  isPrevious: false,
  totalItems: 7,
};

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** Forged cursors, each with the reason the server must reject it. */
const FORGED: Array<{ name: string; cursor: string }> = [
  { name: 'text that is not base64', cursor: '!!!' },
  { name: 'base64 of text that is not JSON', cursor: base64('not json') },
  { name: 'JSON null', cursor: cursorOf(null) },
  { name: 'a JSON array', cursor: cursorOf([VALID]) },
  { name: 'a JSON number', cursor: cursorOf(42) },
  { name: 'an empty object', cursor: cursorOf({}) },
  { name: 'an unknown key', cursor: cursorOf({ ...VALID, role: 'admin' }) },
  {
    name: 'a __proto__ key',
    cursor: base64(`{"__proto__":{"x":1},${JSON.stringify(VALID).slice(1)}`),
  },
  { name: 'orderFields not a list', cursor: cursorOf({ ...VALID, orderFields: 'x' }) },
  {
    name: 'too many orderFields',
    cursor: cursorOf({
      ...VALID,
      orderFields: Array.from({ length: INPUT_LIMITS.orderFields + 1 }, () => VALID.orderFields[0]),
    }),
  },
  {
    name: 'an order other than asc or desc',
    cursor: cursorOf({ ...VALID, orderFields: [{ field: 'metadata.name', order: 'up' }] }),
  },
  { name: 'a negative total', cursor: cursorOf({ ...VALID, totalItems: -1 }) },
  { name: 'a fractional total', cursor: cursorOf({ ...VALID, totalItems: 1.5 }) },
  { name: 'a total as text', cursor: cursorOf({ ...VALID, totalItems: '7' }) },
  { name: 'isPrevious as text', cursor: cursorOf({ ...VALID, isPrevious: 'true' }) },
  { name: 'a position without a ref', cursor: cursorOf({ ...VALID, position: { value: 'a' } }) },
  {
    name: 'a position without an id, as issued before entities had ids',
    cursor: cursorOf({ ...VALID, position: { value: 'ledger', ref: 'component:default/ledger' } }),
  },
  {
    name: 'a position value with NUL',
    cursor: cursorOf({ ...VALID, position: { value: 'a\u0000b', ref: 'component:default/a' } }),
  },
  {
    name: 'a position ref with a control character',
    cursor: cursorOf({ ...VALID, position: { value: 'a', ref: 'component:default/\u0001' } }),
  },
  {
    name: 'a long position value',
    cursor: cursorOf({
      ...VALID,
      position: { value: 'v'.repeat(1001), ref: 'component:default/a' },
    }),
  },
  { name: 'a filter with not', cursor: cursorOf({ ...VALID, filter: { not: VALID.filter } }) },
  { name: 'a filter with an empty anyOf', cursor: cursorOf({ ...VALID, filter: { anyOf: [] } }) },
  { name: 'a filter with an empty allOf', cursor: cursorOf({ ...VALID, filter: { allOf: [] } }) },
  {
    name: 'a filter nested in allOf',
    cursor: cursorOf({ ...VALID, filter: { allOf: [VALID.filter] } }),
  },
  {
    name: 'a filter with targets',
    cursor: cursorOf({
      ...VALID,
      filter: { allOf: [{ key: 'relations.ownedby', targets: { anyOf: [] } }] },
    }),
  },
  {
    name: 'a filter value with NUL',
    cursor: cursorOf({ ...VALID, filter: { allOf: [{ key: 'kind', values: ['a\u0000'] }] } }),
  },
  {
    name: 'a filter over the value cap',
    cursor: cursorOf({
      ...VALID,
      filter: {
        allOf: [
          {
            key: 'kind',
            values: Array.from({ length: INPUT_LIMITS.valuesPerCondition + 1 }, (_, i) => `k${i}`),
          },
        ],
      },
    }),
  },
  {
    name: 'a filter over the set cap',
    cursor: cursorOf({
      ...VALID,
      filter: {
        anyOf: Array.from({ length: INPUT_LIMITS.filterSets + 1 }, () => VALID.filter),
      },
    }),
  },
  {
    name: 'a full-text term with NUL',
    cursor: cursorOf({ ...VALID, fullTextFilter: { term: '\u0000' } }),
  },
  { name: 'nesting 1,000 levels deep', cursor: base64(nested(1000)) },
  {
    name: 'nesting inside the filter',
    cursor: base64(
      JSON.stringify({ ...VALID, filter: null }).replace('null', `{"allOf":${nested(50)}}`),
    ),
  },
];

describeEachDialect('catalog API cursors over HTTP', (context) => {
  let api: ListeningCatalogApi;

  before(async () => {
    api = await listenCatalogApi(context.handle());
  });
  after(async () => {
    await api?.app.close();
  });

  async function queryWith(cursor: string): Promise<Response> {
    return api.request('admin', `/entities/by-query?limit=2&cursor=${encodeURIComponent(cursor)}`);
  }

  for (const item of FORGED) {
    test(`400 for a cursor with ${item.name}`, async () => {
      const response = await queryWith(item.cursor);
      const body = (await response.json()) as { error: { code: string; message: string } };

      assert.equal(response.status, 400, body.error.message);
      assert.equal(body.error.code, 'INPUT_INVALID');
      assert.match(body.error.message, /^cursor '.*' is invalid: request the first page again$/s);
    });
  }

  test('issued cursor is accepted', async () => {
    const ledger = await context
      .handle()
      .db.selectFrom('catalog_entities')
      .select('id')
      .where('entity_ref', '=', VALID.position.ref)
      .executeTakeFirstOrThrow();
    const position = { ...VALID.position, id: Number(ledger.id) };
    const response = await queryWith(cursorOf({ ...VALID, position }));
    const body = (await response.json()) as { items: Array<{ metadata: { name: string } }> };

    assert.equal(response.status, 200);
    assert.deepEqual(
      body.items.map((item) => item.metadata.name),
      ['Legacy-Billing', 'monitor'],
    );
  });

  test('cursor message shows only its start', async () => {
    const response = await queryWith(base64(`${'x'.repeat(3000)}`));
    const body = (await response.json()) as { error: { message: string } };

    assert.equal(response.status, 400);
    assert.ok(body.error.message.length < 300, body.error.message);
  });

  test('after message shows only its start', async () => {
    const response = await api.request('admin', `/entities?after=${'A'.repeat(3000)}`);
    const body = (await response.json()) as { error: { code: string; message: string } };

    assert.equal(response.status, 400);
    assert.equal(body.error.code, 'INPUT_INVALID');
    assert.match(body.error.message, /^after 'A{40}…' is invalid/);
  });

  test('cursor over the header limit is 431', async () => {
    // Node rejects a request line over its 16 KiB header limit before any route runs.
    const response = await queryWith(cursorOf({ ...VALID, padding: 'p'.repeat(20_000) }));
    await response.arrayBuffer();

    assert.equal(response.status, 431);
  });

  test('changed cursors never fail the server', async () => {
    // Flips characters of issued cursors with a fixed seed: every response is 200 or 400.
    const first = await api.request(
      'admin',
      '/entities/by-query?limit=2&filter=kind=component&orderField=metadata.name,desc',
    );
    const { pageInfo } = (await first.json()) as { pageInfo: { nextCursor: string } };
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
    let state = 7;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };

    const statuses = new Map<number, number>();
    for (let round = 0; round < 200; round += 1) {
      const characters = [...pageInfo.nextCursor];
      const flips = 1 + Math.floor(random() * 3);
      for (let flip = 0; flip < flips; flip += 1) {
        characters[Math.floor(random() * characters.length)] =
          alphabet[Math.floor(random() * alphabet.length)]!;
      }
      const response = await queryWith(characters.join(''));
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }

    assert.deepEqual(
      [...statuses.keys()].filter((status) => status !== 200 && status !== 400),
      [],
    );
  });
});
