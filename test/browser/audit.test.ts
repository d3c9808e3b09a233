import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import {
  assertNoViolationsOrErrors,
  createFindings,
  launchChromium,
  ORGANISATION_LOCATION,
  prepareWebBundles,
  saveScreenshot,
  shellbarEntries,
  signIn,
  TALL_WINDOW,
  topLevelPaths,
  viewFrame,
  whenChromiumInstalled,
} from '../support/browser.js';
import { describeEachDialect } from '../support/databases.js';
import { startTestPortal, type TestPortal } from '../support/portal.js';

/**
 * The Audit micro frontend in a real browser, against the example
 * organisation: sofia (Platform) is granted audit.event.read, amara (Booking
 * team) does not, and her denied request is one of the records sofia reads.
 */

const AMARA = 'user:default/amara.okafor';
const SOFIA = 'user:default/sofia.rossi';
/** Records per page of the Audit view, from web/micro-frontends/audit/model.ts. */
const PAGE_SIZE = 25;

function auditFrame(page: Page): FrameLocator {
  return viewFrame(page, 'audit');
}

/** Waits until the view has loaded a page of records whose status line matches. */
async function waitForList(frame: FrameLocator, status: RegExp): Promise<void> {
  await frame.locator('main[data-state="ready"][data-view="list"]').waitFor();
  await frame.locator('#status', { hasText: status }).waitFor();
}

async function searchAction(frame: FrameLocator, action: string): Promise<void> {
  await frame.getByLabel('Action').fill(action);
  await frame.getByRole('button', { name: 'Search' }).click();
  await waitForList(frame, /that match|No audit record matches/);
}

whenChromiumInstalled('audit view in Chromium', () => {
  before(prepareWebBundles);

  describeEachDialect('audit view in Chromium', ({ dialect }) => {
    let portal: TestPortal;
    let browser: Browser;
    const findings = createFindings();

    before(async () => {
      portal = await startTestPortal({
        dialect,
        overrides: {
          catalog: {
            locations: [ORGANISATION_LOCATION],
          },
        },
      });
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
    });

    function signInAs(username: string, startPath: string) {
      return signIn(browser, {
        baseUrl: portal.url,
        username,
        startPath,
        findings,
        viewport: TALL_WINDOW,
      });
    }

    function screenshot(page: Page, name: string): Promise<void> {
      return saveScreenshot(page, `audit-${name}-${dialect}`);
    }

    test('audit node is hidden from developers', async () => {
      const { context, page } = await signInAs('amara', '/catalog');
      try {
        await viewFrame(page, 'catalog').locator('#status').waitFor();

        assert.equal((await topLevelPaths(context, portal.url)).includes('audit'), false);
        assert.equal(await shellbarEntries(page, 'Audit').count(), 0);
        const denied = await context.request.get(`${portal.url}/api/audit/events`);
        assert.equal(denied.status(), 403);
      } finally {
        await context.close();
      }
    });

    test('audit page shows sign-ins and denials', async () => {
      const { context, page } = await signInAs('sofia', '/audit');
      try {
        const frame = auditFrame(page);
        await waitForList(frame, /^Showing records 1–/);
        assert.ok((await shellbarEntries(page, 'Audit').count()) > 0);

        const signIn = frame.locator('#records tbody tr', { hasText: 'auth.sign-in' }).first();
        assert.match((await signIn.textContent()) ?? '', new RegExp(SOFIA.replaceAll('.', '\\.')));
        await screenshot(page, 'list-sofia');

        await searchAction(frame, 'permission.denied');
        const rows = frame.locator('#records tbody tr');
        assert.ok((await rows.count()) > 0);
        const actions = await frame.locator('#records tbody td:nth-child(3)').allTextContents();
        assert.deepEqual(new Set(actions), new Set(['permission.denied']));
        const actors = await frame.locator('#records tbody td:nth-child(2)').allTextContents();
        assert.ok(actors.includes(AMARA), `amara's denial is listed; actors: ${actors.join(', ')}`);
        assert.match(new URL(page.url()).search, /action=permission\.denied/);
      } finally {
        await context.close();
      }
    });

    test('audit page pages through records', async () => {
      for (let index = 0; index < PAGE_SIZE + 5; index += 1) {
        await portal.portal.audit.append(portal.portal.database.db, {
          actor: 'user:default/paging-test',
          action: 'test.browser-paging',
          target: `component:default/service-${index}`,
          outcome: 'succeeded',
          details: { index },
        });
      }
      const { context, page } = await signInAs('sofia', '/audit');
      try {
        const frame = auditFrame(page);
        await waitForList(frame, /^Showing records/);
        await searchAction(frame, 'test.browser-paging');

        const targets = frame.locator('#records tbody td:nth-child(4)');
        assert.equal(await targets.count(), PAGE_SIZE);
        assert.equal(
          await targets.first().textContent(),
          `component:default/service-${PAGE_SIZE + 4}`,
        );
        assert.equal(
          await frame.locator('#status').textContent(),
          `Showing records 1–${PAGE_SIZE} that match, newest first; older records follow.`,
        );

        await frame.getByRole('button', { name: 'Older records' }).click();
        await waitForList(frame, new RegExp(`^Showing records ${PAGE_SIZE + 1}–`));
        assert.equal(await targets.count(), 5);
        assert.equal(await targets.last().textContent(), 'component:default/service-0');
        assert.equal(await frame.getByRole('button', { name: 'Older records' }).isDisabled(), true);

        await frame.getByRole('button', { name: 'Newer records' }).click();
        await waitForList(frame, /^Showing records 1–/);
        assert.equal(await targets.count(), PAGE_SIZE);
      } finally {
        await context.close();
      }
    });

    test('audit page opens one record', async () => {
      const amara = await signInAs('amara', '/catalog');
      const denied = await amara.context.request.get(`${portal.url}/api/audit/events`);
      assert.equal(denied.status(), 403);
      await amara.context.close();

      const { context, page } = await signInAs('sofia', '/audit');
      try {
        const frame = auditFrame(page);
        await waitForList(frame, /^Showing records/);
        await searchAction(frame, 'permission.denied');

        const firstRow = frame.locator('#records tbody tr').first();
        const sequence = await firstRow.getAttribute('data-sequence');
        assert.ok(sequence);
        await firstRow.locator('button').click();

        const record = frame.locator(`article.audit-record[data-sequence="${sequence}"]`);
        await record.waitFor();
        assert.equal(await frame.locator('#records').isVisible(), false);
        const facts = await record.locator('dl.facts dt').allTextContents();
        for (const label of [
          'Actor',
          'Action',
          'Outcome',
          'Reason',
          'IP address',
          'User agent',
          'Request id',
          'Hash',
        ]) {
          assert.ok(facts.includes(label), `the detail shows ${label}`);
        }
        const details = JSON.parse((await frame.locator('#record-details').textContent()) ?? '{}');
        assert.equal(details.permission, 'audit.event.read');
        await page.waitForURL((url) => url.search.includes(`record=${sequence}`));
        await screenshot(page, 'detail-sofia');

        // A link to the record opens it directly, from the API.
        await page.goto(`${portal.url}/audit?~record=${sequence}`);
        await auditFrame(page)
          .locator(`article.audit-record[data-sequence="${sequence}"]`)
          .waitFor();

        // The actor in the detail searches for that actor's records.
        const frameAfterReload = auditFrame(page);
        await frameAfterReload
          .locator('article.audit-record dd button', { hasText: AMARA })
          .click();
        await waitForList(frameAfterReload, /that match/);
        const actors = await frameAfterReload
          .locator('#records tbody td:nth-child(2)')
          .allTextContents();
        assert.deepEqual(new Set(actors), new Set([AMARA]));
        assert.equal(await frameAfterReload.getByLabel('Actor').inputValue(), AMARA);
      } finally {
        await context.close();
      }
    });

    test('audit page explains a bad time range', async () => {
      const { context, page } = await signInAs(
        'sofia',
        '/audit?~since=2024-05-02T00:00:00.000Z&~until=2024-05-01T00:00:00.000Z',
      );
      try {
        const frame = auditFrame(page);
        await frame.locator('main[data-state="ready"]').waitFor();
        const problem = frame.locator('.problem');
        await problem.waitFor();
        assert.match((await problem.textContent()) ?? '', /until .* is not after since/);
      } finally {
        await context.close();
      }
    });

    test('pages run without policy violations or script errors', () => {
      assertNoViolationsOrErrors(findings);
    });
  });
});
