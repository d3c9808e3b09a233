import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  BADGE_TIMEOUT_MS,
  fetchCount,
  readCount,
  withBadgeCounters,
} from '../../web/shell/badges.js';

/** The shell script's badge counters, which run in the browser but need only fetch. */

describe('badge count body', () => {
  const cases: Array<{ name: string; body: unknown; count: number | undefined }> = [
    { name: 'bare number', body: 3, count: 3 },
    { name: 'count field', body: { count: 5 }, count: 5 },
    { name: 'totalItems field', body: { items: [], totalItems: 12 }, count: 12 },
    { name: 'zero', body: { count: 0 }, count: 0 },
    { name: 'negative', body: -1, count: undefined },
    { name: 'fraction', body: { count: 1.5 }, count: undefined },
    { name: 'text', body: { count: '4' }, count: undefined },
    { name: 'null', body: null, count: undefined },
    { name: 'other object', body: { total: 4 }, count: undefined },
  ];
  for (const { name, body, count } of cases) {
    test(`count read from ${name}`, () => {
      assert.equal(readCount(body), count);
    });
  }
});

describe('badge counters in the navigation', () => {
  test('nested badges get a count function', () => {
    const [top] = withBadgeCounters([
      {
        pathSegment: 'inbox',
        badgeCounter: { label: 'Open', url: '/a' },
        children: [{ pathSegment: 'mine', badgeCounter: { label: 'Mine', url: '/b' } }],
      },
    ]) as Array<{
      badgeCounter: { label: string; count: unknown };
      children: Array<{ badgeCounter: { label: string; count: unknown } }>;
    }>;

    assert.equal(top?.badgeCounter.label, 'Open');
    assert.equal(typeof top?.badgeCounter.count, 'function');
    assert.equal(top?.children[0]?.badgeCounter.label, 'Mine');
    assert.equal(typeof top?.children[0]?.badgeCounter.count, 'function');
  });

  test('nodes without badges stay unchanged', () => {
    const node = { pathSegment: 'catalog', label: 'Catalog', context: { a: 1 } };

    assert.deepEqual(withBadgeCounters([node]), [node]);
  });
});

describe('badge count over HTTP', () => {
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer((request, response) => {
      if (request.url === '/count') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"count":42}');
      } else if (request.url === '/failed') {
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end('{"count":1}');
      } else if (request.url === '/html') {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end('<p>no</p>');
      } else {
        setTimeout(() => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end('{"count":9}');
        }, BADGE_TIMEOUT_MS + 1000);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') {
      throw new Error(`the test server has no port: ${String(address)}`);
    }
    base = `http://127.0.0.1:${address.port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  // The browser console is the script's only report; these checks silence it.
  const quietly = async (run: () => Promise<number>): Promise<number> => {
    const warn = console.warn;
    console.warn = () => {};
    try {
      return await run();
    } finally {
      console.warn = warn;
    }
  };

  test('count fetched from the URL', async () => {
    assert.equal(await fetchCount(`${base}/count`), 42);
  });

  test('HTTP error gives no badge', async () => {
    assert.equal(await quietly(() => fetchCount(`${base}/failed`)), 0);
  });

  test('body that is not JSON gives no badge', async () => {
    assert.equal(await quietly(() => fetchCount(`${base}/html`)), 0);
  });

  test('slow counter times out', async () => {
    const started = Date.now();
    const count = await quietly(() => fetchCount(`${base}/slow`));

    assert.equal(count, 0);
    assert.ok(Date.now() - started < BADGE_TIMEOUT_MS + 1000, 'it waited for the answer');
  });

  test('overlapping calls share one request', async () => {
    const [node] = withBadgeCounters([
      { pathSegment: 'x', badgeCounter: { label: 'X', url: `${base}/count` } },
    ]) as Array<{ badgeCounter: { count: () => Promise<number> } }>;
    const first = node?.badgeCounter.count();
    const second = node?.badgeCounter.count();

    assert.equal(first, second);
    assert.equal(await first, 42);
  });
});
