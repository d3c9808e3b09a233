import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import {
  assertNoViolationsOrErrors,
  createFindings,
  LARGE_WINDOW,
  launchChromium,
  ORGANISATION_LOCATION,
  pollUntil,
  prepareWebBundles,
  SMALL_WINDOW,
  saveScreenshot,
  shellbarEntries,
  signIn,
  viewFrame,
  whenChromiumInstalled,
} from '../support/browser.js';
import { describeEachDialect } from '../support/databases.js';
import { CORPUS_ROOT, startTestPortal, type TestPortal } from '../support/portal.js';

/**
 * The shell and the built-in micro frontends in a real browser, against the
 * example organisation: amara (Booking team) and lucia (Routing team) read
 * different parts of the catalog, and sofia (Platform) also reads the
 * catalog locations and their ingestion errors.
 */

/** Owned by booking-team: amara reads it, lucia does not. */
const BOOKING_WEB = 'component:default/booking-web';
/** Owned by routing-team: lucia reads it, amara does not. */
const ROUTE_OPTIMIZER = 'component:default/route-optimizer';
/** The Backstage demo file of the corpus: 1 error and 2 warnings in the example config. */
const DEMO_FILE = path.join(CORPUS_ROOT, 'catalog', 'backstage__demo__catalog-info.yaml');

/** Counts the locations, errors and warnings that `GET /api/catalog/ingestion-errors` returns. */
async function ingestionTotals(
  context: BrowserContext,
  baseUrl: string,
): Promise<{ locations: number; errors: number; warnings: number }> {
  const response = await context.request.get(`${baseUrl}/api/catalog/ingestion-errors`);
  assert.equal(response.status(), 200);
  const body = (await response.json()) as { items: Array<{ errors: Array<{ severity: string }> }> };
  const faults = body.items.flatMap((item) => item.errors);
  return {
    locations: body.items.length,
    errors: faults.filter((fault) => fault.severity === 'error').length,
    warnings: faults.filter((fault) => fault.severity === 'warning').length,
  };
}

/** Formats a count as the Locations page does: `1 error`, `1,200 errors`. */
function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en')} ${noun}${count === 1 ? '' : 's'}`;
}

whenChromiumInstalled('shell in Chromium', () => {
  before(prepareWebBundles);

  describeEachDialect('shell in Chromium', ({ dialect }) => {
    let portal: TestPortal;
    let browser: Browser;
    const findings = createFindings();

    before(async () => {
      portal = await startTestPortal({ dialect });
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
    });

    function signInAs(
      username: string,
      startPath: string,
      viewport?: { width: number; height: number },
    ) {
      return signIn(browser, {
        baseUrl: portal.url,
        username,
        startPath,
        findings,
        ...(viewport ? { viewport } : {}),
      });
    }

    /** Types a search into the catalog and waits until the list shows its result. */
    async function search(
      frame: FrameLocator,
      text: string,
      expectRef: string | undefined,
    ): Promise<void> {
      await frame.getByLabel('Search').fill(text);
      await frame.getByLabel('Search').press('Enter');
      if (expectRef) {
        await frame.locator(`tr[data-entity-ref="${expectRef}"]`).waitFor();
        // The unfiltered list may still show the row until the search result replaces it.
        await pollUntil(`the search for ${text} to list one entity`, async () =>
          (await frame.locator('#entities tbody tr').count()) === 1 ? true : undefined,
        );
      } else {
        await frame.getByText('No entities match these filters.').waitFor();
      }
    }

    function screenshot(page: Page, name: string): Promise<void> {
      return saveScreenshot(page, `shell-${name}-${dialect}`);
    }

    test('catalog rows differ per user', async () => {
      const amara = await signInAs('amara', '/catalog');
      const lucia = await signInAs('lucia', '/catalog');
      try {
        for (const { page } of [amara, lucia]) {
          await viewFrame(page, 'catalog')
            .getByText(/^Showing 1–\d+ of \d+ entities$/)
            .waitFor();
        }

        const amaraFrame = viewFrame(amara.page, 'catalog');
        await search(amaraFrame, 'booking-web', BOOKING_WEB);
        assert.equal(await amaraFrame.locator('#entities tbody tr').count(), 1);
        await screenshot(amara.page, 'catalog-amara');
        await search(amaraFrame, 'route-optimizer', undefined);
        assert.equal(await amaraFrame.locator('#entities tbody tr').count(), 0);

        const luciaFrame = viewFrame(lucia.page, 'catalog');
        await search(luciaFrame, 'route-optimizer', ROUTE_OPTIMIZER);
        assert.equal(await luciaFrame.locator('#entities tbody tr').count(), 1);
        await screenshot(lucia.page, 'catalog-lucia');
        await search(luciaFrame, 'booking-web', undefined);
        assert.equal(await luciaFrame.locator('#entities tbody tr').count(), 0);
      } finally {
        await amara.context.close();
        await lucia.context.close();
      }
    });

    test('catalog shows the names it sorts by', async () => {
      const { context, page } = await signInAs('amara', '/catalog');
      try {
        const firstPage = page.waitForResponse((response) =>
          response.url().includes('/api/catalog/entities/by-query?'),
        );
        await page.reload();
        const body = (await (await firstPage).json()) as {
          items: Array<{ metadata: { name: string } }>;
        };
        const frame = viewFrame(page, 'catalog');
        await frame.getByText(/^Showing 1–\d+ of \d+ entities$/).waitFor();

        const shownNames = await frame.locator('#entities tbody th a').allTextContents();
        assert.deepEqual(
          shownNames,
          body.items.map((item) => item.metadata.name),
        );
        const titled = frame.locator('tr[data-entity-ref="api:default/address-api"]');
        assert.equal(await titled.locator('th a').textContent(), 'address-api');
        assert.equal(await titled.locator('.title').textContent(), 'Address API');
        const untitled = frame.locator('tr[data-entity-ref="user:default/admin"]');
        assert.equal(await untitled.locator('.title').count(), 0);
      } finally {
        await context.close();
      }
    });

    test('catalog row opens the entity page', async () => {
      const { context, page } = await signInAs('amara', '/catalog');
      try {
        const frame = viewFrame(page, 'catalog');
        await search(frame, 'booking-web', BOOKING_WEB);
        await frame.locator(`tr[data-entity-ref="${BOOKING_WEB}"] th a`).click();

        await page.waitForURL(`${portal.url}/catalog/component/default/booking-web`);
        await viewFrame(page, 'entity')
          .getByRole('heading', { level: 1, name: 'Booking website' })
          .waitFor();
      } finally {
        await context.close();
      }
    });

    test('entity page shows metadata and relations', async () => {
      const { context, page } = await signInAs('amara', '/catalog');
      try {
        const ingestionCalls: string[] = [];
        page.on('request', (request) => {
          if (request.url().includes('/api/catalog/ingestion-errors')) {
            ingestionCalls.push(request.url());
          }
        });
        await page.goto(`${portal.url}/catalog/component/default/booking-web`);
        const frame = viewFrame(page, 'entity');
        await frame.getByRole('heading', { level: 1, name: 'Booking website' }).waitFor();

        assert.equal(await frame.locator('.ref').textContent(), BOOKING_WEB);
        assert.equal(
          await frame.getByRole('link', { name: 'Live site' }).getAttribute('href'),
          'https://send.kestrel-freight.example',
        );
        const relations = frame.locator('#relations');
        assert.equal(
          await relations.getByRole('link', { name: 'group:default/booking-team' }).count(),
          1,
        );
        assert.equal(
          await relations.getByRole('link', { name: 'system:default/parcel-booking' }).count(),
          1,
        );
        // Developers lack catalog.location.read, and the shell's context lists the user's
        // permissions, so the page does not request the ingestion errors at all.
        await frame.locator('main[data-state="ready"]').waitFor();
        assert.deepEqual(ingestionCalls, []);
        assert.equal(await frame.locator('#ingestion-errors').count(), 0);
        await screenshot(page, 'entity-amara');

        await relations.getByRole('link', { name: 'group:default/booking-team' }).click();
        await page.waitForURL(`${portal.url}/catalog/group/default/booking-team`);
        await frame.locator('.ref', { hasText: 'group:default/booking-team' }).waitFor();
      } finally {
        await context.close();
      }
    });

    test('entity hidden from a user gets the 404 message', async () => {
      const { context, page } = await signInAs('lucia', '/catalog/component/default/booking-web');
      try {
        const problem = viewFrame(page, 'entity').locator('[data-problem="not-found"]');
        await problem.waitFor();

        assert.match(
          String(await problem.textContent()),
          /Entity component:default\/booking-web was not found, or you are not allowed to see it\./,
        );
        assert.equal(
          await viewFrame(page, 'entity').getByRole('heading', { name: 'Booking website' }).count(),
          0,
        );
        await screenshot(page, 'entity-lucia');
      } finally {
        await context.close();
      }
    });

    test('platform admin sees the ingestion errors section', async () => {
      const { context, page } = await signInAs('sofia', '/catalog');
      try {
        const ingestionErrors = page.waitForResponse((response) =>
          response.url().includes('/api/catalog/ingestion-errors?'),
        );
        await page.goto(`${portal.url}/catalog/component/default/booking-web`);
        await viewFrame(page, 'entity').locator('#ingestion-errors').waitFor();

        assert.equal((await ingestionErrors).status(), 200);
        assert.equal(
          await viewFrame(page, 'entity')
            .getByRole('heading', { name: 'Ingestion errors' })
            .count(),
          1,
        );
      } finally {
        await context.close();
      }
    });

    test('locations node is hidden from developers', async () => {
      const { context, page } = await signInAs('amara', '/catalog');
      try {
        await viewFrame(page, 'catalog')
          .getByText(/^Showing 1–\d+ of \d+ entities$/)
          .waitFor();

        assert.equal(await shellbarEntries(page, 'Locations').count(), 0);
        const config = await context.request.get(`${portal.url}/api/shell/config`);
        const body = (await config.json()) as {
          nodes: Array<{ pathSegment: string }>;
          globalContext: { permissions: string[] };
        };
        assert.deepEqual(
          body.nodes.map((node) => node.pathSegment),
          ['home', 'catalog', 'requests', 'approvals'],
        );
        // Basic permissions only: developers may ask for a temporary role.
        assert.deepEqual(body.globalContext.permissions, ['role-elevation.request.create']);
        const denied = await context.request.get(`${portal.url}/api/catalog/ingestion-errors`);
        assert.equal(denied.status(), 403);
      } finally {
        await context.close();
      }
    });

    test('locations page lists every location with its faults', async () => {
      const { context, page } = await signInAs('sofia', '/locations');
      try {
        const frame = viewFrame(page, 'locations');
        await frame.locator('main[data-state="ready"]').waitFor();
        const totals = await ingestionTotals(context, portal.url);

        assert.ok((await shellbarEntries(page, 'Locations').count()) > 0);
        assert.equal(
          await frame.locator('#status').textContent(),
          `Showing 1–${totals.locations} of ${totals.locations} locations, with ${plural(totals.errors, 'error')} and ${plural(totals.warnings, 'warning')} in all.`,
        );
        assert.equal(await frame.locator('li.location').count(), totals.locations);
        const demo = frame.locator('li.location', { hasText: DEMO_FILE });
        assert.deepEqual(await demo.locator('.location-counts .badge').allTextContents(), [
          '1 error',
          '2 warnings',
        ]);
        assert.deepEqual(
          await demo
            .locator('tbody tr')
            .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-severity'))),
          ['error', 'warning', 'warning'],
        );
        assert.equal(
          await frame.locator('li.location').first().locator('.location-target').textContent(),
          DEMO_FILE,
          'the location with an error comes first',
        );
        await screenshot(page, 'locations-sofia');

        await frame.getByLabel('Severity').selectOption('warning');
        await frame.getByText(/matching locations/).waitFor();
        assert.equal(await frame.locator('tr[data-severity="error"]').count(), 0);
        assert.ok((await frame.locator('tr[data-severity="warning"]').count()) > 0);
        assert.match(new URL(page.url()).search, /severity=warning/);

        await frame.getByLabel('Severity').selectOption('');
        await frame.getByLabel('Search').fill('demo-graphql');
        await frame.locator('li.location').nth(1).waitFor({ state: 'detached' });
        assert.match(
          String(await frame.locator('#status').textContent()),
          /^Showing 1–1 of 1 matching locations/,
        );
        assert.equal(await demo.locator('tbody tr').count(), 2);

        await demo.getByRole('link', { name: 'component:default/backstage-demo' }).click();
        await page.waitForURL(`${portal.url}/catalog/component/default/backstage-demo`);
        await viewFrame(page, 'entity')
          .getByRole('heading', { level: 1, name: 'backstage-demo' })
          .waitFor();
      } finally {
        await context.close();
      }
    });

    test('profile shows the user and signs out', async () => {
      const { context, page } = await signInAs('amara', '/catalog', SMALL_WINDOW);
      try {
        await page.locator('[data-testid="luigi-topnav-profile-btn"]').click();
        const name = page.locator('[data-testid="luigi-topnav-profile-username"]');
        await name.waitFor();
        // biome-ignore lint/performance/useDomNodeTextContent: the rendered line break is under test.
        assert.deepEqual((await name.innerText()).trim().split('\n'), [
          'Amara Okafor',
          'amara.okafor@kestrel-freight.example',
        ]);
        const fit = await name.evaluate((element) => {
          const box = element.getBoundingClientRect();
          const menu = element.closest('nav')?.getBoundingClientRect();
          return {
            overflow: element.scrollWidth - element.clientWidth,
            beyondMenu: menu ? box.right - menu.right : Number.NaN,
            beyondWindow: box.right - window.innerWidth,
          };
        });
        assert.ok(fit.overflow <= 0, `the name overflows its box by ${fit.overflow}px`);
        assert.ok(fit.beyondMenu <= 0, `the name ends ${fit.beyondMenu}px beyond the menu`);
        assert.ok(fit.beyondWindow <= 0, `the name ends ${fit.beyondWindow}px beyond the window`);
        await screenshot(page, 'profile-amara');

        const logout = page.waitForResponse(
          (response) =>
            response.url().endsWith('/api/auth/logout') && response.request().method() === 'POST',
        );
        await page.getByText('Sign out').click();
        assert.equal((await logout).status(), 204);
        const session = await context.request.get(`${portal.url}/api/shell/config`);
        assert.equal(session.status(), 401);
      } finally {
        await context.close();
      }
    });

    test('ended session shows the sign-in message', async () => {
      const { context, page } = await signInAs('amara', '/catalog');
      try {
        const frame = viewFrame(page, 'catalog');
        await frame.getByText(/^Showing 1–\d+ of \d+ entities$/).waitFor();
        await context.clearCookies();

        await frame.getByLabel('Search').fill('booking');
        await frame.getByLabel('Search').press('Enter');
        const problem = frame.locator('[data-problem="unauthenticated"]');
        await problem.waitFor();

        const link = problem.getByRole('link', { name: 'Sign in again' });
        const shellRoute = new URL(page.url());
        assert.match(shellRoute.search, /q=booking/);
        assert.equal(
          await link.getAttribute('href'),
          `/api/auth/login?returnTo=${encodeURIComponent(`${shellRoute.pathname}${shellRoute.search}`)}`,
        );
      } finally {
        await context.close();
      }
    });

    // Chromium warns that allow-scripts with allow-same-origin lets a same-origin view lift its
    // sandbox; docs/shell.md explains why the shell sets both.
    test('built-in views get their declared sandbox', async () => {
      const { context, page } = await signInAs('sofia', '/locations');
      try {
        await viewFrame(page, 'locations').locator('main[data-state="ready"]').waitFor();

        const frame = page.locator('iframe[src*="/micro-frontends/locations/"]');
        assert.equal(
          await frame.getAttribute('sandbox'),
          'allow-scripts allow-same-origin allow-forms',
        );
      } finally {
        await context.close();
      }
    });

    // The layout does not depend on the database, so it is checked on SQLite only.
    if (dialect === 'sqlite') {
      test('every page fits both window sizes', async () => {
        const pages: Array<{ path: string; view: string; ready: string }> = [
          { path: '/home', view: 'home', ready: 'main[data-state="ready"]' },
          { path: '/catalog', view: 'catalog', ready: '#status:text-matches("^Showing")' },
          {
            path: '/catalog/component/default/booking-web',
            view: 'entity',
            ready: 'main[data-state="ready"]',
          },
          {
            path: '/catalog/component/default/backstage-demo',
            view: 'entity',
            ready: 'main[data-state="ready"]',
          },
          { path: '/catalog/component/default/no-such-thing', view: 'entity', ready: '.problem' },
          { path: '/locations', view: 'locations', ready: 'main[data-state="ready"]' },
        ];
        for (const viewport of [LARGE_WINDOW, SMALL_WINDOW]) {
          const { context, page } = await signInAs('sofia', '/catalog', viewport);
          try {
            for (const { path: route, view, ready } of pages) {
              await page.goto(`${portal.url}${route}`);
              const frame = viewFrame(page, view);
              await frame.locator(ready).first().waitFor();
              const size = `${viewport.width}x${viewport.height}`;
              const name = `${route.replaceAll('/', '_').slice(1)}-${size}`;
              await saveScreenshot(page, `layout-${name}`);

              const widths = await frame
                .locator('html')
                .evaluate((html) => ({ scroll: html.scrollWidth, client: html.clientWidth }));
              assert.ok(
                widths.scroll <= widths.client,
                `${route} at ${size} is ${widths.scroll}px wide in a ${widths.client}px view`,
              );
            }
          } finally {
            await context.close();
          }
        }
      });
    }

    test('pages run without policy violations or script errors', () => {
      assertNoViolationsOrErrors(findings);
    });
  });

  /**
   * A catalog of a few hundred locations and a few thousand faults: 300 files
   * of 4 invalid entities (4 errors) and 1 component with 6 references to
   * missing entities (6 warnings) each, 1 file with 150 warnings, and 2
   * targets that do not exist. It runs on SQLite only, because what it checks
   * is how the browser shows many faults, which does not depend on the
   * database.
   */
  describe('locations page with many faults [sqlite]', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'shell-many-faults-'));
    let portal: TestPortal;
    let pages = 0;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const findings = createFindings();

    before(async () => {
      writeManyFaults(folder, 300);
      portal = await startTestPortal({
        dialect: 'sqlite',
        overrides: {
          catalog: {
            locations: [
              ORGANISATION_LOCATION,
              { type: 'file', target: path.join(folder, 'root.yaml') },
            ],
          },
        },
      });
      browser = await launchChromium();
      ({ context, page } = await signIn(browser, {
        baseUrl: portal.url,
        username: 'sofia',
        startPath: '/locations',
        findings,
      }));
    });

    after(async () => {
      await context?.close();
      await browser?.close();
      await portal?.close();
      rmSync(folder, { recursive: true, force: true });
    });

    test('first page shows 25 locations', async () => {
      const frame = viewFrame(page, 'locations');
      await frame.locator('main[data-state="ready"]').waitFor();
      const totals = await ingestionTotals(context, portal.url);

      pages = Math.ceil(totals.locations / 25);
      assert.ok(totals.locations > 300, `${totals.locations} locations`);
      assert.ok(totals.errors + totals.warnings >= 3000, `${totals.errors} errors`);
      assert.equal(
        await frame.locator('#status').textContent(),
        `Showing 1–25 of ${totals.locations} locations, with ${plural(totals.errors, 'error')} and ${plural(totals.warnings, 'warning')} in all.`,
      );
      assert.equal(await frame.locator('li.location').count(), 25);
      // Locations with errors come first and start open; a bulk file has 10 faults.
      assert.equal(await frame.locator('li.location details[open]').count(), 25);
      const rows = await frame.locator('tbody tr').count();
      assert.ok(rows <= 250, `the first page renders ${rows} fault rows`);
      await saveScreenshot(page, 'shell-locations-many-faults');
    });

    test('next page shows the next 25', async () => {
      const frame = viewFrame(page, 'locations');
      await frame.getByRole('button', { name: 'Next page' }).click();

      await frame.getByText(/^Showing 26–50 of \d+ locations/).waitFor();
      assert.equal(await frame.locator('li.location').count(), 25);
      assert.equal(await frame.locator('#page-number').textContent(), `Page 2 of ${pages}`);
    });

    test('missing target is a location with its error', async () => {
      const frame = viewFrame(page, 'locations');
      await frame.getByLabel('Search').fill('missing-target-1.yaml');

      await frame.locator('li.location').nth(1).waitFor({ state: 'detached' });
      assert.match(
        String(await frame.locator('#status').textContent()),
        /^Showing 1–1 of 1 matching locations/,
      );
      const location = frame.locator('li.location');
      assert.match(
        String(await location.locator('.location-target').textContent()),
        /missing-target-1\.yaml$/,
      );
      assert.deepEqual(await location.locator('.location-counts .badge').allTextContents(), [
        '1 error',
      ]);
      assert.equal(await location.locator('.fault-code').textContent(), 'location-not-found');
    });

    test('long fault list grows on request', async () => {
      const frame = viewFrame(page, 'locations');
      await frame.getByLabel('Search').fill('crowded.yaml');
      const location = frame.locator('li.location', { hasText: 'crowded.yaml' });
      await location.waitFor();
      const more = location.getByRole('button', { name: /^Show \d+ more/ });

      assert.equal(await frame.locator('li.location').count(), 1);
      assert.equal(await location.locator('tbody tr').count(), 100);
      assert.equal(
        await more.textContent(),
        `Show ${CROWDED_WARNINGS - 100} more (100 of ${CROWDED_WARNINGS} shown)`,
      );
      await more.click();
      assert.equal(await location.locator('tbody tr').count(), CROWDED_WARNINGS);
      assert.equal(await more.isHidden(), true);
    });

    test('severity filter keeps errors only', async () => {
      const frame = viewFrame(page, 'locations');
      await frame.getByLabel('Search').fill('');
      await frame.getByLabel('Severity').selectOption('error');
      const totals = await ingestionTotals(context, portal.url);

      await frame
        .getByText(`with ${plural(totals.errors, 'error')} and 0 warnings that match.`, {
          exact: false,
        })
        .waitFor();
      assert.equal(await frame.locator('tr[data-severity="warning"]').count(), 0);
      assert.ok((await frame.locator('tr[data-severity="error"]').count()) > 0);
    });

    test('page ran without violations or script errors', () => {
      assertNoViolationsOrErrors(findings);
    });
  });
});

/** References to missing entities in `crowded.yaml`, one warning each. */
const CROWDED_WARNINGS = 150;

/**
 * Writes `count` catalog files below `folder`, `crowded.yaml` with one
 * component of many warnings, and a root Location that lists them and two
 * files that do not exist.
 */
function writeManyFaults(folder: string, count: number): void {
  const targets: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const file = `bulk-${String(index).padStart(3, '0')}.yaml`;
    targets.push(`./${file}`);
    const invalid = [0, 1, 2, 3].map((document) =>
      [
        'apiVersion: backstage.io/v1alpha1',
        'kind: Component',
        'metadata:',
        `  name: 'not valid ${index} ${document}'`,
        'spec: { type: service, lifecycle: production, owner: group:default/platform-team }',
      ].join('\n'),
    );
    const dangling = [
      'apiVersion: backstage.io/v1alpha1',
      'kind: Component',
      'metadata:',
      `  name: bulk-${index}`,
      'spec:',
      '  type: service',
      '  lifecycle: production',
      `  owner: group:default/nobody-${index}`,
      '  dependsOn:',
      ...[0, 1, 2, 3, 4].map(
        (reference) => `    - component:default/missing-${index}-${reference}`,
      ),
    ].join('\n');
    writeFileSync(path.join(folder, file), `${[...invalid, dangling].join('\n---\n')}\n`);
  }
  targets.push('./missing-target-1.yaml', './missing-target-2.yaml', './crowded.yaml');

  writeFileSync(
    path.join(folder, 'crowded.yaml'),
    [
      'apiVersion: backstage.io/v1alpha1',
      'kind: Component',
      'metadata:',
      '  name: crowded',
      'spec:',
      '  type: service',
      '  lifecycle: production',
      '  owner: group:default/platform-team',
      '  dependsOn:',
      ...Array.from(
        { length: CROWDED_WARNINGS },
        (_, reference) => `    - component:default/absent-${reference}`,
      ),
      '',
    ].join('\n'),
  );

  writeFileSync(
    path.join(folder, 'root.yaml'),
    [
      'apiVersion: backstage.io/v1alpha1',
      'kind: Location',
      'metadata:',
      '  name: many-faults',
      'spec:',
      '  type: file',
      '  targets:',
      ...targets.map((target) => `    - ${target}`),
      '',
    ].join('\n'),
  );
}
