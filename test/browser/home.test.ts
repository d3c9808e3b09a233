import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { buildWebBundles } from '../../scripts/build-web.mjs';
import { describeEachDialect } from '../support/databases.js';
import { PROJECT_ROOT, startTestPortal, type TestPortal } from '../support/portal.js';

/**
 * The Home node of the example portal in a real browser. amara (Booking team)
 * gets her groups, what the Booking team owns and only the Catalog among the
 * sections; sofia (Platform team, a platform admin) also gets Locations and Audit.
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

const missingChromium = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is missing: install Debian's chromium package to run the browser tests`;

/** Signs in from the landing page `/` and waits until the shell has opened the Home node. */
async function signInAtRoot(
  browser: Browser,
  baseUrl: string,
  username: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/home');
  return { context, page };
}

function homeFrame(page: Page) {
  return page.frameLocator('iframe[src*="/micro-frontends/home/"]');
}

if (missingChromium && process.env.CI === 'true') {
  test('Chromium is installed', () => {
    assert.fail(`${missingChromium}; CI=true requires the browser tests to run`);
  });
} else if (missingChromium) {
  test('home node in Chromium', { skip: missingChromium }, () => {});
} else {
  before(async () => {
    await buildWebBundles(PROJECT_ROOT);
    mkdirSync(RESULTS, { recursive: true });
  });

  describeEachDialect('home node in Chromium', ({ dialect }) => {
    let portal: TestPortal;
    let browser: Browser;

    before(async () => {
      portal = await startTestPortal({ dialect });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
    });

    test('home shows groups, owned entities and shortcuts', async () => {
      const { context, page } = await signInAtRoot(browser, portal.url, 'amara');
      try {
        const home = homeFrame(page);
        await home.locator('main[data-state="ready"]').waitFor();
        await home.getByRole('heading', { name: 'Welcome, Amara Okafor' }).waitFor();

        const groups = home.locator('#groups li');
        const groupRefs = await groups.evaluateAll((items) =>
          items.map((item) => item.getAttribute('data-ref')),
        );
        assert.ok(groupRefs.includes('group:default/booking-team'), `groups: ${groupRefs}`);
        assert.ok(groupRefs.includes('group:default/engineering'), `groups: ${groupRefs}`);
        assert.match(
          (await home.locator('#groups li[data-ref="group:default/booking-team"]').textContent()) ??
            '',
          /Booking \(member\)/,
        );
        assert.match(
          (await home.locator('#groups li[data-ref="group:default/engineering"]').textContent()) ??
            '',
          /through a parent group/,
        );

        const ownedRefs = await home
          .locator('#owned tbody tr')
          .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-ref')));
        assert.ok(ownedRefs.includes('component:default/booking-web'), `owned: ${ownedRefs}`);
        assert.ok(!ownedRefs.includes('component:default/payment-gateway'), `owned: ${ownedRefs}`);

        const shortcuts = await home
          .locator('#shortcuts li > a')
          .evaluateAll((links) => links.map((link) => link.textContent));
        assert.equal(shortcuts[0], 'Catalog');
        assert.ok(!shortcuts.includes('Locations'), `shortcuts: ${shortcuts}`);
        assert.ok(!shortcuts.includes('Audit'), `shortcuts: ${shortcuts}`);
        assert.ok(!shortcuts.includes('Home'), `shortcuts: ${shortcuts}`);
        assert.deepEqual(shortcuts.slice(-2), ['Booking website', 'Backstage descriptor format']);
        assert.equal(
          await home.getByRole('link', { name: 'Backstage descriptor format' }).getAttribute('rel'),
          'noopener noreferrer',
        );
        assert.equal(await home.locator('[data-fault="shortcut"]').count(), 0);
        await page.screenshot({ path: path.join(RESULTS, `home-developer-${dialect}.png`) });

        await home.locator('#owned').getByRole('link', { name: 'Booking website' }).click();
        await page.waitForURL((url) => url.pathname === '/catalog/component/default/booking-web');
      } finally {
        await context.close();
      }
    });

    test('home shortcuts follow the roles', async () => {
      const { context, page } = await signInAtRoot(browser, portal.url, 'sofia');
      try {
        const home = homeFrame(page);
        await home.locator('main[data-state="ready"]').waitFor();
        const shortcuts = await home
          .locator('#shortcuts li > a')
          .evaluateAll((links) => links.map((link) => link.textContent));
        assert.ok(shortcuts.includes('Locations'), `shortcuts: ${shortcuts}`);
        assert.ok(shortcuts.includes('Audit'), `shortcuts: ${shortcuts}`);

        await home.locator('#shortcuts').getByRole('link', { name: 'Locations' }).click();
        await page.waitForURL((url) => url.pathname === '/locations');
        await page.screenshot({ path: path.join(RESULTS, `home-admin-shortcut-${dialect}.png`) });
      } finally {
        await context.close();
      }
    });
  });
}
