import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
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
 * The Audit micro frontend in a real browser, against the example
 * organisation: sofia (Platform) is granted audit.event.read, amara (Booking
 * team) does not, and her denied request is one of the records sofia reads.
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
const AMARA = 'user:default/amara.okafor';
const SOFIA = 'user:default/sofia.rossi';
const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');
const WAIT_MS = 15_000;
/** Records per page of the Audit view, from web/micro-frontends/audit/model.ts. */
const PAGE_SIZE = 25;

const missingChromium = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is missing: install Debian's chromium package to run the browser tests`;

interface BrowserFindings {
  /** Console messages about Content-Security-Policy violations. */
  violations: string[];
  pageErrors: string[];
}

async function signIn(
  browser: Browser,
  baseUrl: string,
  username: string,
  startPath: string,
  findings: BrowserFindings,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content[- ]Security[- ]Policy/i.test(message.text())) {
      findings.violations.push(message.text());
    }
  });
  page.on('pageerror', (error) => findings.pageErrors.push(`${username}: ${error.message}`));

  await page.goto(`${baseUrl}${startPath}`);
  assert.match(
    page.url(),
    /\/dev-idp\//,
    `expected the development sign-in form, got ${page.url()}`,
  );
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === startPath.split('?')[0]);
  return { context, page };
}

function auditFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe[src*="/micro-frontends/audit/"]');
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

/** Checks that every built bundle is newer than every file under web/ and scripts/build-web.mjs. */
function isWebBuildCurrent(): boolean {
  const built = [
    'shell/shell.js',
    'micro-frontends/audit/main.js',
    'micro-frontends/audit/main.css',
  ];
  const builtTimes = built.map((file) => {
    const target = path.join(PROJECT_ROOT, 'dist', 'web', file);
    return existsSync(target) ? statSync(target).mtimeMs : 0;
  });
  const web = path.join(PROJECT_ROOT, 'web');
  const sources = [
    path.join(PROJECT_ROOT, 'scripts', 'build-web.mjs'),
    ...readdirSync(web, { recursive: true, encoding: 'utf8' }).map((file) => path.join(web, file)),
  ];
  // A file that another process removed meanwhile counts as old.
  const newestSource = Math.max(
    ...sources.map((file) => (existsSync(file) ? statSync(file).mtimeMs : 0)),
  );
  return Math.min(...builtTimes) > newestSource;
}

if (missingChromium && process.env.CI === 'true') {
  test('Chromium is installed', () => {
    assert.fail(`${missingChromium}; CI=true requires the browser tests to run`);
  });
} else if (missingChromium) {
  test('audit view in Chromium', { skip: missingChromium }, () => {});
} else {
  before(async () => {
    // Other browser test files rebuild dist/web too, and a rebuild removes
    // the folder first, so this file rebuilds only when a source is newer.
    if (!isWebBuildCurrent()) {
      await buildWebBundles(PROJECT_ROOT);
    }
    mkdirSync(RESULTS, { recursive: true });
  });

  describeEachDialect('audit view in Chromium', ({ dialect }) => {
    let portal: TestPortal;
    let browser: Browser;
    const findings: BrowserFindings = { violations: [], pageErrors: [] };

    before(async () => {
      portal = await startTestPortal({
        dialect,
        overrides: {
          catalog: {
            locations: [
              { type: 'file', target: ORGANISATION_FILE, rules: [{ allow: ['User', 'Group'] }] },
            ],
          },
        },
      });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
    });

    async function screenshot(page: Page, name: string): Promise<void> {
      await page.screenshot({ path: path.join(RESULTS, `audit-${name}-${dialect}.png`) });
    }

    test('audit node is hidden from developers', async () => {
      const { context, page } = await signIn(browser, portal.url, 'amara', '/catalog', findings);
      try {
        await page
          .frameLocator('iframe[src*="/micro-frontends/catalog/"]')
          .locator('#status')
          .waitFor();

        const config = await context.request.get(`${portal.url}/api/shell/config`);
        const body = (await config.json()) as { nodes: Array<{ pathSegment: string }> };
        assert.equal(
          body.nodes.some((node) => node.pathSegment === 'audit'),
          false,
        );
        assert.equal(
          await page.locator('.fd-shellbar').getByText('Audit', { exact: true }).count(),
          0,
        );
        const denied = await context.request.get(`${portal.url}/api/audit/events`);
        assert.equal(denied.status(), 403);
      } finally {
        await context.close();
      }
    });

    test('audit page shows sign-ins and denials', async () => {
      const { context, page } = await signIn(browser, portal.url, 'sofia', '/audit', findings);
      try {
        const frame = auditFrame(page);
        await waitForList(frame, /^Showing records 1–/);
        assert.ok(
          (await page.locator('.fd-shellbar').getByText('Audit', { exact: true }).count()) > 0,
        );

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
      const { context, page } = await signIn(browser, portal.url, 'sofia', '/audit', findings);
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
      const amara = await signIn(browser, portal.url, 'amara', '/catalog', findings);
      const denied = await amara.context.request.get(`${portal.url}/api/audit/events`);
      assert.equal(denied.status(), 403);
      await amara.context.close();

      const { context, page } = await signIn(browser, portal.url, 'sofia', '/audit', findings);
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
      const { context, page } = await signIn(
        browser,
        portal.url,
        'sofia',
        '/audit?~since=2024-05-02T00:00:00.000Z&~until=2024-05-01T00:00:00.000Z',
        findings,
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
      assert.deepEqual(findings.violations, []);
      assert.deepEqual(findings.pageErrors, []);
    });
  });
}
