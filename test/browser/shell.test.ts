import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type FrameLocator,
  type Page,
} from 'playwright-core';
import { buildWebBundles } from '../../scripts/build-web.mjs';
import { describeEachDialect } from '../support/databases.js';
import { PROJECT_ROOT, startTestPortal, type TestPortal } from '../support/portal.js';

/**
 * The shell and the built-in micro frontends in a real browser, against the
 * example organisation: amara (Booking team) and lucia (Routing team) read
 * different parts of the catalog, and sofia (Platform) also reads the
 * ingestion errors.
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
/** The example users' password, from examples/app-config.yaml. */
const DEMO_PASSWORD = 'demo';
/** Owned by booking-team: amara reads it, lucia does not. */
const BOOKING_WEB = 'component:default/booking-web';
/** Owned by routing-team: lucia reads it, amara does not. */
const ROUTE_OPTIMIZER = 'component:default/route-optimizer';
const WAIT_MS = 15_000;

const missingChromium = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is missing: install Debian's chromium package to run the browser tests`;

if (missingChromium && process.env.CI === 'true') {
  test('Chromium is installed', () => {
    assert.fail(`${missingChromium}; CI=true requires the browser tests to run`);
  });
} else if (missingChromium) {
  test('shell in Chromium', { skip: missingChromium }, () => {});
} else {
  before(async () => {
    await buildWebBundles(PROJECT_ROOT);
    mkdirSync(RESULTS, { recursive: true });
  });

  describeEachDialect('shell in Chromium', ({ dialect }) => {
    let portal: TestPortal;
    let browser: Browser;
    /** Console messages about Content-Security-Policy violations, from every page and frame. */
    const violations: string[] = [];
    const pageErrors: string[] = [];

    before(async () => {
      portal = await startTestPortal({ dialect });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
    });

    /** Opens a fresh browser context for the user and signs in through the development provider. */
    async function signIn(
      username: string,
      startPath: string,
    ): Promise<{ context: BrowserContext; page: Page }> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      context.setDefaultTimeout(WAIT_MS);
      const page = await context.newPage();
      page.on('console', (message) => {
        if (/Content[- ]Security[- ]Policy/i.test(message.text())) violations.push(message.text());
      });
      page.on('pageerror', (error) => pageErrors.push(`${username}: ${error.message}`));

      await page.goto(`${portal.url}${startPath}`);
      assert.match(
        page.url(),
        /\/dev-idp\//,
        `expected the development sign-in form, got ${page.url()}`,
      );
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(DEMO_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      try {
        await page.waitForURL((url) => url.pathname === startPath.split('?')[0]);
      } catch (error) {
        const text = ((await page.locator('body').textContent()) ?? '').trim().slice(0, 500);
        throw new Error(`Sign-in as ${username} ended at ${page.url()}, which shows: ${text}`, {
          cause: error,
        });
      }
      return { context, page };
    }

    function catalogFrame(page: Page): FrameLocator {
      return page.frameLocator('iframe[src*="/micro-frontends/catalog/"]');
    }

    function entityFrame(page: Page): FrameLocator {
      return page.frameLocator('iframe[src*="/micro-frontends/entity/"]');
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
      } else {
        await frame.getByText('No entities match these filters.').waitFor();
      }
    }

    async function screenshot(page: Page, name: string): Promise<void> {
      await page.screenshot({ path: path.join(RESULTS, `shell-${name}-${dialect}.png`) });
    }

    test('catalog rows differ per user', async () => {
      const amara = await signIn('amara', '/catalog');
      const lucia = await signIn('lucia', '/catalog');
      try {
        for (const { page } of [amara, lucia]) {
          await catalogFrame(page)
            .getByText(/^Showing 1–\d+ of \d+ entities$/)
            .waitFor();
        }

        const amaraFrame = catalogFrame(amara.page);
        await search(amaraFrame, 'booking-web', BOOKING_WEB);
        assert.equal(await amaraFrame.locator('#entities tbody tr').count(), 1);
        await screenshot(amara.page, 'catalog-amara');
        await search(amaraFrame, 'route-optimizer', undefined);
        assert.equal(await amaraFrame.locator('#entities tbody tr').count(), 0);

        const luciaFrame = catalogFrame(lucia.page);
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

    test('catalog row opens the entity page', async () => {
      const { context, page } = await signIn('amara', '/catalog');
      try {
        const frame = catalogFrame(page);
        await search(frame, 'booking-web', BOOKING_WEB);
        await frame.locator(`tr[data-entity-ref="${BOOKING_WEB}"] th a`).click();

        await page.waitForURL(`${portal.url}/catalog/component/default/booking-web`);
        await entityFrame(page)
          .getByRole('heading', { level: 1, name: 'Booking website' })
          .waitFor();
      } finally {
        await context.close();
      }
    });

    test('entity page shows metadata and relations', async () => {
      const { context, page } = await signIn('amara', '/catalog');
      try {
        const ingestionErrors = page.waitForResponse((response) =>
          response.url().includes('/api/catalog/ingestion-errors?'),
        );
        await page.goto(`${portal.url}/catalog/component/default/booking-web`);
        const frame = entityFrame(page);
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
        // Developers lack catalog.location.read, so the API returns 403 and the section
        // stays hidden.
        assert.equal((await ingestionErrors).status(), 403);
        await frame.locator('#spec').waitFor();
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
      const { context, page } = await signIn('lucia', '/catalog/component/default/booking-web');
      try {
        const problem = entityFrame(page).locator('[data-problem="not-found"]');
        await problem.waitFor();

        assert.match(
          String(await problem.textContent()),
          /Entity component:default\/booking-web was not found, or you are not allowed to see it\./,
        );
        assert.equal(
          await entityFrame(page).getByRole('heading', { name: 'Booking website' }).count(),
          0,
        );
        await screenshot(page, 'entity-lucia');
      } finally {
        await context.close();
      }
    });

    test('platform admin sees the ingestion errors section', async () => {
      const { context, page } = await signIn('sofia', '/catalog/component/default/booking-web');
      try {
        await entityFrame(page).locator('#ingestion-errors').waitFor();

        assert.equal(
          await entityFrame(page).getByRole('heading', { name: 'Ingestion errors' }).count(),
          1,
        );
      } finally {
        await context.close();
      }
    });

    test('profile shows the user and signs out', async () => {
      const { context, page } = await signIn('amara', '/catalog');
      try {
        await page.locator('[data-testid="luigi-topnav-profile-btn"]').click();
        const name = page.locator('[data-testid="luigi-topnav-profile-username"]');
        await name.waitFor();
        assert.match(
          String(await name.textContent()),
          /Amara Okafor \(amara\.okafor@kestrel-freight\.example\)/,
        );

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
      const { context, page } = await signIn('amara', '/catalog');
      try {
        const frame = catalogFrame(page);
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

    test('pages run without policy violations or script errors', () => {
      assert.deepEqual(violations, []);
      assert.deepEqual(pageErrors, []);
    });
  });
}
