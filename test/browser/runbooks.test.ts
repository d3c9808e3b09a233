import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, FrameLocator } from 'playwright-core';
import {
  type BrowserFindings,
  createFindings,
  launchChromium,
  ORGANISATION_LOCATION,
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
 * The Runbooks tab of the Entity micro frontend in a real browser, with the
 * example organisation and roles. Amara (Booking team) owns an entity whose
 * runbooks carry the usual XSS payloads. Hannah (Security team) reads the
 * payment gateway but not its runbook.
 */

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

/** Opens the Runbooks tab and waits until the panel has loaded. */
async function openRunbooks(frame: FrameLocator): Promise<void> {
  await frame.getByRole('tab', { name: 'Runbooks' }).click();
  await frame.locator('#runbooks-panel[data-state="ready"]').waitFor();
}

whenChromiumInstalled('runbooks tab in Chromium', () => {
  before(prepareWebBundles);

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
              ORGANISATION_LOCATION,
              { type: 'file', target: path.join(folder, 'catalog-info.yaml') },
            ],
          },
        },
      });
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
      rmSync(folder, { recursive: true, force: true });
    });

    function signInAs(username: string, startPath: string, findings: BrowserFindings) {
      return signIn(browser, {
        baseUrl: portal.url,
        username,
        startPath,
        findings,
        viewport: TALL_WINDOW,
      });
    }

    test('hostile runbook runs no script', async () => {
      const findings = createFindings();
      const startPath = '/catalog/component/default/hostile-runbooks';
      const { context, page } = await signInAs('amara', startPath, findings);
      try {
        const frame = viewFrame(page, 'entity');
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

        await saveScreenshot(page, `runbooks-hostile-${dialect}`);
      } finally {
        await context.close();
      }
    });

    test('restricted runbook shows a notice', async () => {
      const findings = createFindings();
      const startPath = '/catalog/component/default/payment-gateway';
      const { context, page } = await signInAs('hannah', startPath, findings);
      try {
        const frame = viewFrame(page, 'entity');
        await openRunbooks(frame);
        const notice = frame.locator('#runbooks-panel [data-problem="restricted"]');
        await notice.waitFor();
        assert.match((await notice.textContent()) ?? '', /Runbooks are restricted/);
        assert.equal(await frame.locator('#runbooks-panel article.runbook').count(), 0);

        await saveScreenshot(page, `runbooks-restricted-${dialect}`);
      } finally {
        await context.close();
      }
    });
  });
});
