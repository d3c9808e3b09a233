import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ShellNodeConfig } from '../../src/config/index.js';
import { loadConfig } from '../../src/config/index.js';
import { BADGE_TIMEOUT_MS } from '../../web/shell/badges.js';
import {
  createFindings,
  launchChromium,
  prepareWebBundles,
  saveScreenshot,
  shellbarEntries,
  signIn,
  whenChromiumInstalled,
} from '../support/browser.js';
import { EXAMPLE_CONFIG, freePort, startTestPortal, type TestPortal } from '../support/portal.js';

/**
 * Badge counters in the shell's navigation, in a real browser. The Catalog
 * node counts the components the user may read through the portal's own
 * API with the session. Three nodes count from an allowed loopback origin.
 * One returns 42, one fails with 500 and one is slower than the shell's timeout.
 */

const COMPONENTS_URL = '/api/catalog/entities/by-query?filter=kind=component&limit=0';

/** A counter service on its own loopback origin that records the headers of each count request. */
interface CounterServer {
  server: Server;
  origin: string;
  requests: Array<{ path: string; headers: IncomingHttpHeaders }>;
}

/**
 * Serves `/count` (42), `/broken` (500), `/slow` (responds after twice the
 * shell's timeout) and `/page`, a view for the nodes, with CORS for `portalOrigin`.
 */
async function startCounterServer(
  port: number,
  portalOrigin: () => string,
): Promise<CounterServer> {
  const requests: CounterServer['requests'] = [];
  const server = createServer((request, response) => {
    const route = (request.url ?? '/').split('?')[0] ?? '/';
    if (route !== '/page') {
      requests.push({ path: route, headers: request.headers });
    }
    const cors = { 'access-control-allow-origin': portalOrigin(), vary: 'origin' };
    if (route === '/count') {
      response.writeHead(200, { ...cors, 'content-type': 'application/json' });
      response.end(JSON.stringify({ count: 42 }));
    } else if (route === '/broken') {
      response.writeHead(500, { ...cors, 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'counter failed' } }));
    } else if (route === '/slow') {
      setTimeout(() => {
        response.writeHead(200, { ...cors, 'content-type': 'application/json' });
        response.end(JSON.stringify({ count: 9 }));
      }, BADGE_TIMEOUT_MS * 2);
    } else {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><html lang="en"><body><h1>Counted tool</h1></body></html>');
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${port}`, requests };
}

/** Returns the example's nodes with a badge on Catalog, followed by `extra`. */
function nodesWithBadges(extra: ShellNodeConfig[]): ShellNodeConfig[] {
  const example = loadConfig([EXAMPLE_CONFIG]).config;
  const nodes = example.shell.nodes.map((node) =>
    node.pathSegment === 'catalog'
      ? { ...node, badgeCounter: { label: 'Components you may read', url: COMPONENTS_URL } }
      : node,
  );
  return [...nodes, ...extra];
}

function counterNode(origin: string, pathSegment: string, label: string): ShellNodeConfig {
  return {
    pathSegment,
    label,
    viewUrl: `${origin}/page`,
    public: true,
    badgeCounter: { label: `${label} count`, url: `${origin}/${pathSegment}` },
  };
}

/**
 * Starts a counter server and a portal with the example's nodes, a badge on
 * Catalog and the nodes of `counterNodes`, which count from the server's origin.
 */
async function startBadgePortal(
  counterNodes: (origin: string) => ShellNodeConfig[],
): Promise<{ portal: TestPortal; counter: CounterServer }> {
  let portalOrigin = '';
  const counter = await startCounterServer(await freePort(), () => portalOrigin);
  try {
    const portal = await startTestPortal({
      overrides: {
        shell: {
          allowedOrigins: [counter.origin],
          nodes: nodesWithBadges(counterNodes(counter.origin)),
        },
      },
    });
    portalOrigin = new URL(portal.url).origin;
    return { portal, counter };
  } catch (error) {
    await new Promise((resolve) => counter.server.close(resolve));
    throw error;
  }
}

/** Signs in as `username` at `/catalog`, collecting the page's script errors. */
async function signInAtCatalog(browser: Browser, baseUrl: string, username: string) {
  const findings = createFindings();
  const signedIn = await signIn(browser, { baseUrl, username, startPath: '/catalog', findings });
  return { ...signedIn, pageErrors: findings.pageErrors };
}

function badge(page: Page, label: string) {
  return page.locator(`.fd-counter[aria-label="${label}"]`).first();
}

whenChromiumInstalled('badge counters in Chromium', () => {
  before(prepareWebBundles);

  describe('badge counters in Chromium [sqlite]', () => {
    let portal: TestPortal;
    let counter: CounterServer;
    let browser: Browser;

    before(async () => {
      ({ portal, counter } = await startBadgePortal((origin) => [
        counterNode(origin, 'count', 'Tasks'),
        counterNode(origin, 'broken', 'Broken'),
      ]));
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
      await new Promise((resolve) => counter?.server.close(resolve));
    });

    test('badges show the fetched counts', async () => {
      const { context, page, pageErrors } = await signInAtCatalog(browser, portal.url, 'amara');
      try {
        const response = await context.request.get(`${portal.url}${COMPONENTS_URL}`);
        assert.equal(response.status(), 200);
        const { totalItems } = (await response.json()) as { totalItems: number };
        assert.ok(totalItems > 0, 'amara reads some components');

        await badge(page, 'Components you may read').waitFor();
        assert.equal(
          (await badge(page, 'Components you may read').textContent())?.trim(),
          String(totalItems),
        );
        await badge(page, 'Tasks count').waitFor();
        assert.equal((await badge(page, 'Tasks count').textContent())?.trim(), '42');
        await saveScreenshot(page, 'shell-badge-counts');

        assert.ok(counter.requests.some((request) => request.path === '/broken'));
        assert.equal(await badge(page, 'Broken count').count(), 0);
        assert.deepEqual(pageErrors, []);
      } finally {
        await context.close();
      }
    });

    test('other origins get no session cookie', async () => {
      const { context, page } = await signInAtCatalog(browser, portal.url, 'amara');
      try {
        await badge(page, 'Tasks count').waitFor();
        const counted = counter.requests.filter((request) => request.path === '/count');

        assert.ok(counted.length > 0);
        for (const request of counted) {
          assert.equal(request.headers.cookie, undefined);
        }
      } finally {
        await context.close();
      }
    });

    test('badge count needs the session', async () => {
      const context = await browser.newContext();
      try {
        const response = await context.request.get(`${portal.url}${COMPONENTS_URL}`);
        assert.equal(response.status(), 401);
      } finally {
        await context.close();
      }
    });
  });

  describe('slow badge counter in Chromium [sqlite]', () => {
    let portal: TestPortal;
    let counter: CounterServer;
    let browser: Browser;

    before(async () => {
      ({ portal, counter } = await startBadgePortal((origin) => [
        counterNode(origin, 'slow', 'Slow'),
      ]));
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
      counter?.server.closeAllConnections();
      await new Promise((resolve) => counter?.server.close(resolve));
    });

    test('slow counter times out without a badge', async () => {
      const { context, page, pageErrors } = await signInAtCatalog(browser, portal.url, 'amara');
      try {
        const started = Date.now();
        await shellbarEntries(page, 'Slow').first().waitFor();
        await badge(page, 'Components you may read').waitFor();

        assert.ok(counter.requests.some((request) => request.path === '/slow'));
        assert.equal(await badge(page, 'Slow count').count(), 0);
        // The menu waits for the timeout, never for the slow response.
        assert.ok(
          Date.now() - started < BADGE_TIMEOUT_MS * 2,
          `the menu took ${Date.now() - started} ms`,
        );
        await saveScreenshot(page, 'shell-badge-slow');
        assert.deepEqual(pageErrors, []);
      } finally {
        await context.close();
      }
    });
  });
});
