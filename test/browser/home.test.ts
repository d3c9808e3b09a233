import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  launchChromium,
  prepareWebBundles,
  saveScreenshot,
  signIn,
  TALL_WINDOW,
  viewFrame,
  whenChromiumInstalled,
} from '../support/browser.js';
import { describeEachDialect } from '../support/databases.js';
import { startTestPortal, type TestPortal } from '../support/portal.js';

/**
 * The Home node of the example portal in a real browser. Amara (Booking team)
 * gets her groups, what the Booking team owns and only the Catalog among the
 * sections. Sofia (Platform team, a platform admin) also gets Locations and Audit.
 */

whenChromiumInstalled('home node in Chromium', () => {
  before(prepareWebBundles);

  describeEachDialect('home node in Chromium', ({ dialect }) => {
    let portal: TestPortal;
    let browser: Browser;

    before(async () => {
      portal = await startTestPortal({ dialect });
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
    });

    /** Signs in from the landing page `/` and waits until the shell has opened the Home node. */
    function signInAtRoot(username: string) {
      return signIn(browser, {
        baseUrl: portal.url,
        username,
        startPath: '/',
        landingPath: '/home',
        viewport: TALL_WINDOW,
      });
    }

    test('home shows groups, owned entities and shortcuts', async () => {
      const { context, page } = await signInAtRoot('amara');
      try {
        const home = viewFrame(page, 'home');
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
        await saveScreenshot(page, `home-developer-${dialect}`);

        await home.locator('#owned').getByRole('link', { name: 'Booking website' }).click();
        await page.waitForURL((url) => url.pathname === '/catalog/component/default/booking-web');
      } finally {
        await context.close();
      }
    });

    test('home shortcuts follow the roles', async () => {
      const { context, page } = await signInAtRoot('sofia');
      try {
        const home = viewFrame(page, 'home');
        await home.locator('main[data-state="ready"]').waitFor();
        const shortcuts = await home
          .locator('#shortcuts li > a')
          .evaluateAll((links) => links.map((link) => link.textContent));
        assert.ok(shortcuts.includes('Locations'), `shortcuts: ${shortcuts}`);
        assert.ok(shortcuts.includes('Audit'), `shortcuts: ${shortcuts}`);

        await home.locator('#shortcuts').getByRole('link', { name: 'Locations' }).click();
        await page.waitForURL((url) => url.pathname === '/locations');
        await saveScreenshot(page, `home-admin-shortcut-${dialect}`);
      } finally {
        await context.close();
      }
    });
  });
});
