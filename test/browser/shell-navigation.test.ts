import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { buildWebBundles } from '../../scripts/build-web.mjs';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logging.js';
import {
  EXAMPLE_CONFIG,
  freePort,
  PROJECT_ROOT,
  startTestPortal,
  type TestPortal,
} from '../support/portal.js';

/**
 * Navigation per user, deep links to hidden nodes and a micro frontend that a
 * team registers in the catalog, in a real browser against the example
 * organisation. amara (Booking team) is granted the registered tool; lucia
 * (Routing team) is not.
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
const TOOL_PERMISSION = 'tools.deployments.view';
const TOOL_ROLE = `
  - name: deployers
    members: [group:booking-team]
    grants:
      - permission: ${TOOL_PERMISSION}
`;

const missingChromium = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is missing: install Debian's chromium package to run the browser tests`;

/** Serves the registered micro frontend on its own loopback origin: a page that names its path. */
async function startToolServer(): Promise<{ server: Server; origin: string }> {
  const port = await freePort();
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      `<!doctype html><html lang="en"><body><h1>Deployments tool</h1><p id="path">${(request.url ?? '').replaceAll('<', '&lt;')}</p></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${port}` };
}

function microFrontendEntity(origin: string): string {
  return `apiVersion: backstage-luigi.io/v1
kind: MicroFrontend
metadata:
  name: deployments
  title: Deployments
spec:
  owner: group:default/booking-team
  path: deployments
  label: Deployments
  viewUrl: ${origin}/deployments/
  permission: ${TOOL_PERMISSION}
  audience: ${origin}/api
  entityTabs:
    - pathSegment: deployments
      label: Deployments
      viewUrl: ${origin}/entity/:kind/:namespace/:name
      kinds: [Component]
`;
}

if (missingChromium && process.env.CI === 'true') {
  test('Chromium is installed', () => {
    assert.fail(`${missingChromium}; CI=true requires the browser tests to run`);
  });
} else if (missingChromium) {
  test('shell navigation in Chromium', { skip: missingChromium }, () => {});
} else {
  describe('shell navigation in Chromium [sqlite]', () => {
    let portal: TestPortal;
    let browser: Browser;
    let tool: { server: Server; origin: string };
    let folder: string;
    let rolesFile: string;
    let catalogFile: string;
    const baseRoles = readFileSync(path.join(PROJECT_ROOT, 'examples', 'roles.yaml'), 'utf8');

    before(async () => {
      await buildWebBundles(PROJECT_ROOT);
      mkdirSync(RESULTS, { recursive: true });
      tool = await startToolServer();
      folder = mkdtempSync(path.join(tmpdir(), 'shell-navigation-'));
      rolesFile = path.join(folder, 'roles.yaml');
      writeFileSync(rolesFile, `${baseRoles.trimEnd()}\n${TOOL_ROLE}`);
      catalogFile = path.join(folder, 'tools.yaml');
      writeFileSync(catalogFile, '');

      const example = loadConfig([EXAMPLE_CONFIG]).config;
      portal = await startTestPortal({
        overrides: {
          catalog: {
            locations: [...example.catalog.locations, { type: 'file', target: catalogFile }],
          },
          permission: { rolesFile },
          shell: {
            allowedOrigins: [tool.origin],
            permissions: [{ name: TOOL_PERMISSION, description: 'Use the deployments tool' }],
          },
        },
      });
      portal.portal.permissions.watchRolesFile(createLogger({ level: 'silent' }));
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });

    after(async () => {
      await browser?.close();
      portal?.portal.permissions.stopWatching();
      await portal?.close();
      await new Promise((resolve) => tool?.server.close(resolve));
      rmSync(folder, { recursive: true, force: true });
    });

    async function signInAs(
      username: string,
      startPath: string,
    ): Promise<{ context: BrowserContext; page: Page }> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(WAIT_MS);
      const page = await context.newPage();
      await page.goto(`${portal.url}${startPath}`);
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill('demo');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((url) => url.pathname === startPath);
      return { context, page };
    }

    async function topLevelPaths(context: BrowserContext): Promise<string[]> {
      const response = await context.request.get(`${portal.url}/api/shell/config`);
      assert.equal(response.status(), 200);
      const body = (await response.json()) as { nodes: Array<{ pathSegment: string }> };
      return body.nodes.map((node) => node.pathSegment);
    }

    function shellbarEntry(page: Page, label: string) {
      return page.locator('.fd-shellbar').getByText(label, { exact: true });
    }

    test('navigation differs for two roles', async () => {
      const amara = await signInAs('amara', '/catalog');
      const sofia = await signInAs('sofia', '/catalog');
      try {
        assert.deepEqual(await topLevelPaths(amara.context), ['catalog']);
        assert.deepEqual(await topLevelPaths(sofia.context), ['catalog', 'locations', 'audit']);
        await shellbarEntry(sofia.page, 'Locations').first().waitFor();
        assert.equal(await shellbarEntry(amara.page, 'Locations').count(), 0);
        await amara.page.screenshot({ path: path.join(RESULTS, 'shell-navigation-developer.png') });
        await sofia.page.screenshot({ path: path.join(RESULTS, 'shell-navigation-admin.png') });
      } finally {
        await amara.context.close();
        await sofia.context.close();
      }
    });

    test('deep link to a hidden node shows not found', async () => {
      const { context, page } = await signInAs('amara', '/catalog');
      try {
        await page.goto(`${portal.url}/locations`);
        await page
          .getByText(/Could not find the requested route/)
          .first()
          .waitFor();
        assert.equal(await page.locator('iframe[src*="/micro-frontends/locations/"]').count(), 0);
        const denied = await context.request.get(`${portal.url}/api/catalog/locations`);
        assert.equal(denied.status(), 403);
        await page.screenshot({
          path: path.join(RESULTS, 'shell-navigation-hidden-deep-link.png'),
        });
      } finally {
        await context.close();
      }
    });

    test('registered micro frontend comes and goes', async () => {
      const amara = await signInAs('amara', '/catalog');
      const lucia = await signInAs('lucia', '/catalog');
      try {
        assert.deepEqual(await topLevelPaths(amara.context), ['catalog']);

        writeFileSync(catalogFile, microFrontendEntity(tool.origin));
        await portal.portal.catalog.refreshAll();

        assert.deepEqual(await topLevelPaths(amara.context), ['catalog', 'deployments']);
        assert.deepEqual(await topLevelPaths(lucia.context), ['catalog']);
        await amara.page.goto(`${portal.url}/deployments`);
        const frame = amara.page.frameLocator(`iframe[src^="${tool.origin}/deployments/"]`);
        await frame.getByText('Deployments tool').waitFor();
        await amara.page.screenshot({
          path: path.join(RESULTS, 'shell-navigation-registered.png'),
        });

        await lucia.page.goto(`${portal.url}/deployments`);
        await lucia.page
          .getByText(/Could not find the requested route/)
          .first()
          .waitFor();

        // Revoking the role in the roles file hides the node without a restart.
        writeFileSync(rolesFile, baseRoles);
        const deadline = Date.now() + WAIT_MS;
        while ((await topLevelPaths(amara.context)).includes('deployments')) {
          assert.ok(Date.now() < deadline, 'the node stayed after its role was removed');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await amara.page.goto(`${portal.url}/deployments`);
        await amara.page
          .getByText(/Could not find the requested route/)
          .first()
          .waitFor();
        await amara.page.screenshot({ path: path.join(RESULTS, 'shell-navigation-revoked.png') });
      } finally {
        writeFileSync(rolesFile, `${baseRoles.trimEnd()}\n${TOOL_ROLE}`);
        await amara.context.close();
        await lucia.context.close();
      }
    });

    test('entity tab opens with the entity in its URL', async () => {
      writeFileSync(catalogFile, microFrontendEntity(tool.origin));
      await portal.portal.catalog.refreshAll();
      const deadline = Date.now() + WAIT_MS;
      const { context, page } = await signInAs('amara', '/catalog');
      try {
        while (!(await topLevelPaths(context)).includes('deployments')) {
          assert.ok(Date.now() < deadline, 'the role was not loaded again');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await page.goto(`${portal.url}/catalog/component/default/booking-web/deployments`);
        const frame = page.frameLocator(`iframe[src^="${tool.origin}/entity/"]`);
        await frame.getByText('/entity/component/default/booking-web').waitFor();
        await page.screenshot({ path: path.join(RESULTS, 'shell-navigation-entity-tab.png') });
      } finally {
        await context.close();
      }
    });
  });
}
