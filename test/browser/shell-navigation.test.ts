import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { Browser, BrowserContext } from 'playwright-core';
import { startExampleMicroFrontend } from '../../examples/micro-frontend/server.mjs';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logging.js';
import {
  frameAt,
  launchChromium,
  pollUntil,
  prepareWebBundles,
  requestTokenFrom,
  saveScreenshot,
  shellbarEntries,
  signIn,
  topLevelPaths,
  viewFrame,
  whenChromiumInstalled,
} from '../support/browser.js';
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
 * (Routing team) is not. A second registered tool, the example micro
 * frontend with its own backend, shows that a registered view obtains JWTs
 * for its own audience only.
 */

const TOOL_PERMISSION = 'tools.deployments.view';
const TOOL_ROLE = `
  - name: deployers
    members: [group:booking-team]
    grants:
      - permission: ${TOOL_PERMISSION}
`;

/** Top-level nodes of the example's self-service requests that each user's roles grant. */
const WORKFLOW_PATHS = {
  amara: ['requests', 'approvals'],
  lucia: ['requests', 'approvals'],
  sofia: ['requests', 'approvals'],
};
/** amara's navigation in the example portal before any micro frontend is registered. */
const AMARA_PATHS = ['home', 'catalog', ...WORKFLOW_PATHS.amara];

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

/** Writes the MicroFrontend entity of the example micro frontend at `origin`, as catalog YAML. */
function insightsEntity(origin: string): string {
  return `apiVersion: backstage-luigi.io/v1
kind: MicroFrontend
metadata:
  name: insights
spec:
  path: insights
  label: Insights
  viewUrl: ${origin}/
  permission: ${TOOL_PERMISSION}
  audience: ${origin}/api
`;
}

whenChromiumInstalled('shell navigation in Chromium', () => {
  describe('shell navigation in Chromium [sqlite]', () => {
    let portal: TestPortal;
    let browser: Browser;
    let tool: { server: Server; origin: string };
    let insights: { url: string; close: () => Promise<void> };
    let folder: string;
    let rolesFile: string;
    let catalogFile: string;
    const baseRoles = readFileSync(path.join(PROJECT_ROOT, 'examples', 'roles.yaml'), 'utf8');

    before(async () => {
      await prepareWebBundles();
      tool = await startToolServer();
      const insightsUrl = `http://127.0.0.1:${await freePort()}`;
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
            allowedOrigins: [tool.origin, insightsUrl],
            permissions: [{ name: TOOL_PERMISSION, description: 'Use the deployments tool' }],
          },
        },
      });
      portal.portal.permissions.watchRolesFile(createLogger({ level: 'silent' }));
      insights = await startExampleMicroFrontend({
        portalUrl: portal.url,
        audience: `${insightsUrl}/api`,
        port: Number(new URL(insightsUrl).port),
      });
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      portal?.portal.permissions.stopWatching();
      await portal?.close();
      await new Promise((resolve) => tool?.server.close(resolve));
      await insights?.close();
      rmSync(folder, { recursive: true, force: true });
    });

    function signInAs(username: string, startPath: string) {
      return signIn(browser, { baseUrl: portal.url, username, startPath });
    }

    /** Writes `entities` as the catalog file of registered tools and refreshes the catalog. */
    async function registerTools(entities: string): Promise<void> {
      writeFileSync(catalogFile, entities);
      await portal.portal.catalog.refreshAll();
    }

    /** Waits until the session's navigation lists `pathSegment`, as after a catalog refresh or a roles file reload. */
    async function waitForNode(context: BrowserContext, pathSegment: string): Promise<void> {
      await pollUntil(`the navigation to list ${pathSegment}`, async () =>
        (await topLevelPaths(context, portal.url)).includes(pathSegment) ? true : undefined,
      );
    }

    test('navigation differs for two roles', async () => {
      const amara = await signInAs('amara', '/catalog');
      const sofia = await signInAs('sofia', '/catalog');
      try {
        assert.deepEqual(await topLevelPaths(amara.context, portal.url), AMARA_PATHS);
        assert.deepEqual(await topLevelPaths(sofia.context, portal.url), [
          'home',
          'catalog',
          'locations',
          'audit',
          ...WORKFLOW_PATHS.sofia,
        ]);
        await shellbarEntries(sofia.page, 'Locations').first().waitFor();
        assert.equal(await shellbarEntries(amara.page, 'Locations').count(), 0);
        await saveScreenshot(amara.page, 'shell-navigation-developer');
        await saveScreenshot(sofia.page, 'shell-navigation-admin');
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
        await saveScreenshot(page, 'shell-navigation-hidden-deep-link');
      } finally {
        await context.close();
      }
    });

    test('registered micro frontend comes and goes', async () => {
      const amara = await signInAs('amara', '/catalog');
      const lucia = await signInAs('lucia', '/catalog');
      try {
        assert.deepEqual(await topLevelPaths(amara.context, portal.url), AMARA_PATHS);

        await registerTools(microFrontendEntity(tool.origin));

        assert.deepEqual(await topLevelPaths(amara.context, portal.url), [
          ...AMARA_PATHS,
          'deployments',
        ]);
        assert.deepEqual(await topLevelPaths(lucia.context, portal.url), [
          'home',
          'catalog',
          ...WORKFLOW_PATHS.lucia,
        ]);
        await amara.page.goto(`${portal.url}/deployments`);
        const frame = amara.page.frameLocator(`iframe[src^="${tool.origin}/deployments/"]`);
        await frame.getByText('Deployments tool').waitFor();
        await saveScreenshot(amara.page, 'shell-navigation-registered');

        await lucia.page.goto(`${portal.url}/deployments`);
        await lucia.page
          .getByText(/Could not find the requested route/)
          .first()
          .waitFor();

        // Revoking the role in the roles file hides the node without a restart.
        writeFileSync(rolesFile, baseRoles);
        await pollUntil('the deployments node to go after its role was removed', async () =>
          (await topLevelPaths(amara.context, portal.url)).includes('deployments')
            ? undefined
            : true,
        );
        await amara.page.goto(`${portal.url}/deployments`);
        await amara.page
          .getByText(/Could not find the requested route/)
          .first()
          .waitFor();
        await saveScreenshot(amara.page, 'shell-navigation-revoked');
      } finally {
        writeFileSync(rolesFile, `${baseRoles.trimEnd()}\n${TOOL_ROLE}`);
        await amara.context.close();
        await lucia.context.close();
      }
    });

    test('entity tab opens with the entity in its URL', async () => {
      await registerTools(microFrontendEntity(tool.origin));
      const { context, page } = await signInAs('amara', '/catalog');
      try {
        await waitForNode(context, 'deployments');
        await page.goto(`${portal.url}/catalog/component/default/booking-web/deployments`);
        const frame = page.frameLocator(`iframe[src^="${tool.origin}/entity/"]`);
        await frame.getByText('/entity/component/default/booking-web').waitFor();
        await saveScreenshot(page, 'shell-navigation-entity-tab');
      } finally {
        await context.close();
      }
    });

    test('entity page links its tab and relations', async () => {
      await registerTools(microFrontendEntity(tool.origin));
      const entityPage = '/catalog/component/default/booking-web';
      const { context, page } = await signInAs('amara', entityPage);
      try {
        await waitForNode(context, 'deployments');
        await page.reload();
        const entity = viewFrame(page, 'entity');
        const tabs = entity.getByRole('navigation', { name: 'Entity tabs' });
        await tabs.getByRole('link', { name: 'Deployments' }).waitFor();
        assert.equal(await entity.getByRole('navigation').count(), 1);
        const barItems = await tabs
          .locator('[role="tab"], a')
          .evaluateAll((items) => items.map((item) => item.textContent));
        assert.deepEqual(barItems, ['Overview', 'Runbooks', 'Deployments']);
        const graph = entity.locator('svg.relations-graph');
        await graph.waitFor();
        const graphLinks = await graph
          .locator('a')
          .evaluateAll((links) => links.map((link) => link.getAttribute('aria-label')));
        assert.deepEqual(graphLinks.sort(), [
          'api:default/booking-api',
          'api:default/payments-api',
          'component:default/kestrel-ui-kit',
          'group:default/booking-team',
          'system:default/parcel-booking',
        ]);
        await saveScreenshot(page, 'shell-navigation-entity-graph');

        await graph.locator('a[aria-label="system:default/parcel-booking"]').click();
        await page.waitForURL((url) => url.pathname === '/catalog/system/default/parcel-booking');
        await entity
          .getByRole('heading', { level: 1 })
          .filter({ hasText: /parcel/i })
          .waitFor();

        await page.goto(`${portal.url}${entityPage}`);
        await tabs.getByRole('link', { name: 'Deployments' }).click();
        await page.waitForURL((url) => url.pathname === `${entityPage}/deployments`);
        const tab = page.frameLocator(`iframe[src^="${tool.origin}/entity/"]`);
        await tab.getByText('/entity/component/default/booking-web').waitFor();
        await saveScreenshot(page, 'shell-navigation-entity-tab-link');
      } finally {
        await context.close();
      }
    });

    test('entity tab is left out for other kinds', async () => {
      await registerTools(microFrontendEntity(tool.origin));
      const { context, page } = await signInAs('amara', '/catalog/system/default/parcel-booking');
      try {
        await waitForNode(context, 'deployments');
        await page.reload();
        const entity = viewFrame(page, 'entity');
        await entity.locator('main[data-state="ready"]').waitFor();
        const tabs = entity.getByRole('navigation', { name: 'Entity tabs' });
        await tabs.getByRole('tab', { name: 'Runbooks' }).waitFor();
        assert.equal(await tabs.getByRole('link').count(), 0);
      } finally {
        await context.close();
      }
    });

    test('node parameter with a slash reaches the view', async () => {
      const route = '/catalog?~q=booking%2Fweb';
      const { context, page } = await signInAs('amara', '/catalog');
      try {
        await page.goto(`${portal.url}${route}`);
        const catalog = viewFrame(page, 'catalog');
        const search = catalog.getByLabel('Search');
        await search.waitFor();
        await pollUntil('the search field to show the parameter', async () =>
          (await search.inputValue()) === '' ? undefined : true,
        );
        assert.equal(await search.inputValue(), 'booking/web');
      } finally {
        await context.close();
      }
    });

    test('registered view gets only its own token', async () => {
      await registerTools(
        `${microFrontendEntity(tool.origin)}---\n${insightsEntity(insights.url)}`,
      );
      const { context, page } = await signInAs('amara', '/catalog');
      try {
        await waitForNode(context, 'insights');
        await page.goto(`${portal.url}/insights`);
        const frame = await frameAt(page, insights.url);
        const backend = frame.locator('#backend');
        await backend.filter({ hasText: 'user:default/amara.okafor' }).waitFor();

        const response = await requestTokenFrom(frame, {
          nodePath: 'deployments',
          audience: `${tool.origin}/api`,
        });
        assert.equal(response.audience, `${insights.url}/api`);
        const claims = decodeJwt(String(response.token));
        assert.equal(claims.aud, `${insights.url}/api`);
        assert.ok((claims.exp ?? 0) - (claims.iat ?? 0) <= 300, 'lives at most 5 minutes');

        const other = await context.request.post(`${portal.url}/api/shell/token`, {
          headers: { origin: portal.url },
          data: { nodePath: 'deployments' },
        });
        assert.equal(other.status(), 200);
        const { token } = (await other.json()) as { token: string };
        const rejected = await fetch(`${insights.url}/api/whoami`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(rejected.status, 401);
        await saveScreenshot(page, 'shell-navigation-registered-token');
      } finally {
        await registerTools(microFrontendEntity(tool.origin));
        await context.close();
      }
    });
  });
});
