import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
 * The Runbooks tab of the Entity micro frontend in a real browser, with the
 * example organisation and roles. Amara (Booking team) owns an entity whose
 * runbooks carry the usual XSS payloads. Hannah (Security team) reads the
 * payment gateway but not its runbook.
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
const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');
const WAIT_MS = 15_000;

/** Each payload sets window.__xss in the frame or the shell, or opens a dialog, when it runs. */
const HOSTILE_MARKDOWN = `# Hostile runbook

<script>window.__xss = 'script'; top.__xss = 'script'</script>

<img src="x" onerror="window.__xss = 'img'; top.__xss = 'img'">

<svg onload="window.__xss = 'svg'"><circle r="4"/></svg>

<iframe src="javascript:top.__xss = 'iframe'"></iframe>

<style>body { display: none }</style>

<!-- <script>window.__xss = 'comment'</script> -->

<a href="jav&#x09;ascript:alert('anchor')">raw anchor</a>

[javascript link](javascript:alert('link'))
[entity-encoded link](&#106;avascript:alert('entity'))
[tab link](jav&#x09;ascript:alert('tab'))
[reference link][evil]
<javascript:alert('autolink')>
[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
![svg image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)
![image with quotes](https://example.test/a.png"onerror="alert('quotes'))

[safe link](https://grafana.example/d/orders)

[evil]: javascript:alert('reference')
`;

const CATALOG = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: hostile-runbooks
  annotations:
    backstage-luigi.io/runbook: ./hostile.md, ./missing.md
    backstage-luigi.io/runbook-inline: "<img src=x onerror=alert('inline')> **inline** runbook"
spec:
  type: service
  lifecycle: experimental
  owner: booking-team
`;

const missingChromium = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is missing: install Debian's chromium package to run the browser tests`;

/** What the browser reported while the runbooks were shown. */
interface BrowserFindings {
  dialogs: string[];
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
  page.on('dialog', (dialog) => {
    findings.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
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
  await page.waitForURL((url) => url.pathname === startPath);
  return { context, page };
}

function entityFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe[src*="/micro-frontends/entity/"]');
}

/** Opens the Runbooks tab and waits until the panel has loaded. */
async function openRunbooks(frame: FrameLocator): Promise<void> {
  await frame.getByRole('tab', { name: 'Runbooks' }).click();
  await frame.locator('#runbooks-panel[data-state="ready"]').waitFor();
}

if (missingChromium && process.env.CI === 'true') {
  test('Chromium is installed', () => {
    assert.fail(`${missingChromium}; CI=true requires the browser tests to run`);
  });
} else if (missingChromium) {
  test('runbooks tab in Chromium', { skip: missingChromium }, () => {});
} else {
  before(async () => {
    await buildWebBundles(PROJECT_ROOT);
    mkdirSync(RESULTS, { recursive: true });
  });

  describeEachDialect('runbooks tab in Chromium', ({ dialect }) => {
    let folder: string;
    let portal: TestPortal;
    let browser: Browser;

    before(async () => {
      folder = mkdtempSync(path.join(tmpdir(), 'runbooks-browser-'));
      writeFileSync(path.join(folder, 'catalog-info.yaml'), CATALOG);
      writeFileSync(path.join(folder, 'hostile.md'), HOSTILE_MARKDOWN);
      portal = await startTestPortal({
        dialect,
        overrides: {
          catalog: {
            locations: [
              { type: 'file', target: ORGANISATION_FILE, rules: [{ allow: ['User', 'Group'] }] },
              { type: 'file', target: path.join(folder, 'catalog-info.yaml') },
            ],
          },
        },
      });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
      rmSync(folder, { recursive: true, force: true });
    });

    test('hostile runbook runs no script', async () => {
      const findings: BrowserFindings = { dialogs: [], violations: [], pageErrors: [] };
      const startPath = '/catalog/component/default/hostile-runbooks';
      const { context, page } = await signIn(browser, portal.url, 'amara', startPath, findings);
      try {
        const frame = entityFrame(page);
        await openRunbooks(frame);
        const panel = frame.locator('#runbooks-panel');
        await panel.locator('article.runbook > h2', { hasText: 'Hostile runbook' }).waitFor();
        // Gives image errors and any script a moment to fire.
        await page.waitForTimeout(500);

        assert.equal(await panel.locator('article.runbook').count(), 3);
        assert.equal(await panel.locator('script, iframe, svg, style, object, embed').count(), 0);
        assert.equal(await panel.locator('[onerror], [onload], [onclick]').count(), 0);
        const hrefs = await panel
          .locator('a[href]')
          .evaluateAll((links) => links.map((link) => link.getAttribute('href') ?? ''));
        assert.deepEqual(hrefs, ['https://grafana.example/d/orders']);
        assert.equal(
          await panel.locator('a[href="https://grafana.example/d/orders"]').getAttribute('rel'),
          'noopener noreferrer',
        );
        await panel.getByText("<script>window.__xss = 'script'").waitFor();
        await panel.locator('[data-code="RUNBOOK_NOT_FOUND"]').waitFor();

        const frameFlag = await page
          .frames()
          .find((candidate) => candidate.url().includes('/micro-frontends/entity/'))
          ?.evaluate(() => (window as unknown as { __xss?: string }).__xss);
        const shellFlag = await page.evaluate(
          () => (window as unknown as { __xss?: string }).__xss,
        );
        assert.equal(frameFlag, undefined);
        assert.equal(shellFlag, undefined);
        assert.deepEqual(findings.dialogs, []);
        assert.deepEqual(
          findings.violations.filter((message) => /script/i.test(message)),
          [],
        );
        assert.deepEqual(findings.pageErrors, []);

        await page.screenshot({ path: path.join(RESULTS, `runbooks-hostile-${dialect}.png`) });
      } finally {
        await context.close();
      }
    });

    test('restricted runbook shows a notice', async () => {
      const findings: BrowserFindings = { dialogs: [], violations: [], pageErrors: [] };
      const startPath = '/catalog/component/default/payment-gateway';
      const { context, page } = await signIn(browser, portal.url, 'hannah', startPath, findings);
      try {
        const frame = entityFrame(page);
        await openRunbooks(frame);
        const notice = frame.locator('#runbooks-panel [data-problem="restricted"]');
        await notice.waitFor();
        assert.match((await notice.textContent()) ?? '', /Runbooks are restricted/);
        assert.equal(await frame.locator('#runbooks-panel article.runbook').count(), 0);

        await page.screenshot({ path: path.join(RESULTS, `runbooks-restricted-${dialect}.png`) });
      } finally {
        await context.close();
      }
    });
  });
}
