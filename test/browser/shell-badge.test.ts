import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { buildWebBundles } from '../../scripts/build-web.mjs';
import type { ShellNodeConfig } from '../../src/config/index.js';
import { loadConfig } from '../../src/config/index.js';
import { BADGE_TIMEOUT_MS } from '../../web/shell/badges.js';
import {
  EXAMPLE_CONFIG,
  freePort,
  PROJECT_ROOT,
  startTestPortal,
  type TestPortal,
} from '../support/portal.js';

/**
 * Badge counters in the shell's navigation, in a real browser. The Catalog
 * node counts the components the user may read through the portal's own
 * API with the session, and three nodes count from an allowed loopback origin:
 * one returns 42, one fails with 500 and one is slower than the shell's timeout.
 */

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const RESULTS = path.join(PROJECT_ROOT, 'test-results');
const WAIT_MS = 15_000;
const COMPONENTS_URL = '/api/catalog/entities/by-query?filter=kind=component&limit=0';

const missingChromium = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is missing: install Debian's chromium package to run the browser tests`;

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

async function signIn(
  browser: Browser,
  baseUrl: string,
  username: string,
): Promise<{ context: BrowserContext; page: Page; pageErrors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${baseUrl}/catalog`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/catalog');
  return { context, page, pageErrors };
}

function badge(page: Page, label: string) {
  return page.locator(`.fd-counter[aria-label="${label}"]`).first();
}

if (missingChromium && process.env.CI === 'true') {
  test('Chromium is installed', () => {
    assert.fail(`${missingChromium}; CI=true requires the browser tests to run`);
  });
} else if (missingChromium) {
  test('badge counters in Chromium', { skip: missingChromium }, () => {});
} else {
  before(async () => {
    await buildWebBundles(PROJECT_ROOT);
    mkdirSync(RESULTS, { recursive: true });
  });

  describe('badge counters in Chromium [sqlite]', () => {
    let portal: TestPortal;
    let counter: CounterServer;
    let browser: Browser;

    before(async () => {
      let portalOrigin = '';
      counter = await startCounterServer(await freePort(), () => portalOrigin);
      portal = await startTestPortal({
        overrides: {
          shell: {
            allowedOrigins: [counter.origin],
            nodes: nodesWithBadges([
              counterNode(counter.origin, 'count', 'Tasks'),
              counterNode(counter.origin, 'broken', 'Broken'),
            ]),
          },
        },
      });
      portalOrigin = new URL(portal.url).origin;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
      await new Promise((resolve) => counter?.server.close(resolve));
    });

    test('badges show the fetched counts', async () => {
      const { context, page, pageErrors } = await signIn(browser, portal.url, 'amara');
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
        await page.screenshot({ path: path.join(RESULTS, 'shell-badge-counts.png') });

        assert.ok(counter.requests.some((request) => request.path === '/broken'));
        assert.equal(await badge(page, 'Broken count').count(), 0);
        assert.deepEqual(pageErrors, []);
      } finally {
        await context.close();
      }
    });

    test('other origins get no session cookie', async () => {
      const { context, page } = await signIn(browser, portal.url, 'amara');
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
      let portalOrigin = '';
      counter = await startCounterServer(await freePort(), () => portalOrigin);
      portal = await startTestPortal({
        overrides: {
          shell: {
            allowedOrigins: [counter.origin],
            nodes: nodesWithBadges([counterNode(counter.origin, 'slow', 'Slow')]),
          },
        },
      });
      portalOrigin = new URL(portal.url).origin;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
      counter?.server.closeAllConnections();
      await new Promise((resolve) => counter?.server.close(resolve));
    });

    test('slow counter times out without a badge', async () => {
      const { context, page, pageErrors } = await signIn(browser, portal.url, 'amara');
      try {
        const started = Date.now();
        await page.locator('.fd-shellbar').getByText('Slow', { exact: true }).first().waitFor();
        await badge(page, 'Components you may read').waitFor();

        assert.ok(counter.requests.some((request) => request.path === '/slow'));
        assert.equal(await badge(page, 'Slow count').count(), 0);
        // The menu waits for the timeout, never for the slow response.
        assert.ok(
          Date.now() - started < BADGE_TIMEOUT_MS * 2,
          `the menu took ${Date.now() - started} ms`,
        );
        await page.screenshot({ path: path.join(RESULTS, 'shell-badge-slow.png') });
        assert.deepEqual(pageErrors, []);
      } finally {
        await context.close();
      }
    });
  });
}
