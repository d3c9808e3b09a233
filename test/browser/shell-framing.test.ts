import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import { startExampleMicroFrontend } from '../../examples/micro-frontend/server.mjs';
import { loadConfig } from '../../src/config/index.js';
import {
  frameAt,
  launchChromium,
  prepareWebBundles,
  requestTokenFrom,
  saveScreenshot,
  signIn,
  TOKEN_REQUEST,
  whenChromiumInstalled,
} from '../support/browser.js';
import { EXAMPLE_CONFIG, freePort, startTestPortal, type TestPortal } from '../support/portal.js';

/**
 * Framing and JWTs in a real browser. Two example micro frontends run on
 * their own loopback origins with their own backends (insights and deploy),
 * and a hostile page runs on a third origin. sofia may use both nodes;
 * amara lacks catalog.location.read, so she may not use deploy.
 */

/** How long a page waits for messages that must never arrive. */
const SILENCE_MS = 1_500;
const INSIGHTS_AUDIENCE = 'https://insights.example.com';
const DEPLOY_AUDIENCE = 'https://deploy.example.com';
const HOSTILE_AUDIENCE = 'https://hostile.example.com';

/**
 * The hostile origin's pages. Each records every message it receives in
 * `window.received`. `probe()` requests the Luigi context and a JWT from a
 * target window, as a micro frontend would.
 */
function hostilePage(body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>hostile</title><script>
window.received = [];
window.addEventListener('message', (event) => {
  window.received.push({ origin: event.origin, data: JSON.parse(JSON.stringify(event.data)) });
});
window.probe = (target) => {
  target.postMessage({ msg: 'luigi.get-context', clientVersion: '2.31.0' }, '*');
  target.postMessage({ msg: 'custom', data: { id: '${TOKEN_REQUEST}', requestId: 'hostile' } }, '*');
};
</script></head><body>${body}</body></html>`;
}

async function startHostileServer(
  portalUrl: () => string,
): Promise<{ url: string; server: Server }> {
  const pages: Record<string, () => string> = {
    '/frame-shell': () => hostilePage(`<iframe id="shell" src="${portalUrl()}/insights"></iframe>`),
    '/opener': () => hostilePage('<p>opener</p>'),
    '/impostor': () =>
      hostilePage(
        '<p>impostor</p><script>if (window.parent !== window) window.probe(window.parent);</script>',
      ),
  };
  const server = createServer((request, response) => {
    const page = pages[(request.url ?? '/').split('?')[0] ?? '/'];
    response.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    response.end(page ? page() : 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

whenChromiumInstalled('shell framing in Chromium', () => {
  // Framing does not depend on the database, so it runs on SQLite only.
  describe('shell framing in Chromium', () => {
    let portal: TestPortal;
    let browser: Browser;
    let insights: { url: string; close: () => Promise<void> };
    let deploy: { url: string; close: () => Promise<void> };
    let hostile: { url: string; server: Server };

    before(async () => {
      await prepareWebBundles();

      // The views' URLs go into the portal's config, and the portal's URL into the views.
      const insightsUrl = `http://127.0.0.1:${await freePort()}`;
      const deployUrl = `http://127.0.0.1:${await freePort()}`;
      hostile = await startHostileServer(() => portal.url);

      const exampleNodes = loadConfig([EXAMPLE_CONFIG]).config.shell.nodes;
      portal = await startTestPortal({
        overrides: {
          shell: {
            nodes: [
              ...exampleNodes,
              {
                pathSegment: 'insights',
                label: 'Insights',
                viewUrl: `${insightsUrl}/`,
                permission: 'catalog.entity.read',
                sandbox: ['allow-forms'],
                audience: INSIGHTS_AUDIENCE,
                audiencePermissions: ['catalog.location.read', 'audit.event.read'],
              },
              {
                pathSegment: 'deploy',
                label: 'Deploy',
                viewUrl: `${deployUrl}/`,
                permission: 'catalog.location.read',
                audience: DEPLOY_AUDIENCE,
              },
              {
                pathSegment: 'hostile',
                label: 'Hostile',
                viewUrl: `${hostile.url}/impostor`,
                public: true,
                audience: HOSTILE_AUDIENCE,
              },
            ],
          },
        },
      });
      insights = await startExampleMicroFrontend({
        portalUrl: portal.url,
        audience: INSIGHTS_AUDIENCE,
        port: Number(new URL(insightsUrl).port),
      });
      deploy = await startExampleMicroFrontend({
        portalUrl: portal.url,
        audience: DEPLOY_AUDIENCE,
        port: Number(new URL(deployUrl).port),
      });
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
      await insights?.close();
      await deploy?.close();
      await new Promise((resolve) =>
        hostile ? hostile.server.close(resolve) : resolve(undefined),
      );
    });

    function signInAs(username: string, startPath: string) {
      return signIn(browser, { baseUrl: portal.url, username, startPath });
    }

    test('shell page CSP lists configured frame origins', async () => {
      const { context, page } = await signInAs('sofia', '/insights');
      try {
        const response = await context.request.get(`${portal.url}/insights`, {
          headers: { accept: 'text/html' },
        });
        const policy = response.headers()['content-security-policy'] ?? '';
        const directives = new Map(
          policy.split(';').map((part) => {
            const [name = '', ...values] = part.trim().split(/\s+/);
            return [name, values] as const;
          }),
        );
        assert.deepEqual(
          [...(directives.get('frame-src') ?? [])].sort(),
          ["'self'", deploy.url, hostile.url, insights.url].sort(),
        );
        assert.deepEqual(directives.get('connect-src'), ["'self'"]);
        assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
        assert.ok(page);
      } finally {
        await context.close();
      }
    });

    test('iframes get the declared sandbox only', async () => {
      const { context, page } = await signInAs('sofia', '/insights');
      try {
        await frameAt(page, insights.url);
        const external = page.locator(`iframe[src^="${insights.url}"]`);
        assert.equal(
          await external.getAttribute('sandbox'),
          'allow-scripts allow-same-origin allow-forms',
        );

        await page.goto(`${portal.url}/deploy`);
        await frameAt(page, deploy.url);
        const undeclared = page.locator(`iframe[src^="${deploy.url}"]`);
        assert.equal(await undeclared.getAttribute('sandbox'), 'allow-scripts allow-same-origin');

        await page.goto(`${portal.url}/catalog`);
        const builtIn = page.locator('iframe[src*="/micro-frontends/catalog/"]');
        await builtIn.waitFor();
        assert.equal(
          await builtIn.getAttribute('sandbox'),
          'allow-scripts allow-same-origin allow-forms',
        );
      } finally {
        await context.close();
      }
    });

    test('view backend accepts its own token', async () => {
      const { context, page } = await signInAs('sofia', '/insights');
      try {
        const frame = await frameAt(page, insights.url);
        const output = frame.locator('#backend');
        await output.filter({ hasText: 'user:default/sofia.rossi' }).waitFor();
        assert.equal(
          await output.textContent(),
          'user:default/sofia.rossi, permissions: audit.event.read, catalog.location.read',
        );
        await saveScreenshot(page, 'shell-framing-token');
      } finally {
        await context.close();
      }
    });

    test('view cannot request another audience', async () => {
      const { context, page } = await signInAs('sofia', '/insights');
      try {
        const frame = await frameAt(page, insights.url);
        await frame.locator('#backend').filter({ hasText: 'user:default/sofia.rossi' }).waitFor();

        const response = await requestTokenFrom(frame, {
          nodePath: 'deploy',
          audience: DEPLOY_AUDIENCE,
        });
        assert.equal(response.audience, INSIGHTS_AUDIENCE);
        const claims = decodeJwt(String(response.token));
        assert.equal(claims.aud, INSIGHTS_AUDIENCE);
        assert.equal(claims.sub, 'user:default/sofia.rossi');
        assert.ok((claims.exp ?? 0) - (claims.iat ?? 0) <= 300, 'lives at most 5 minutes');
      } finally {
        await context.close();
      }
    });

    test('backend rejects another node token', async () => {
      const { context } = await signInAs('sofia', '/insights');
      try {
        const issued = await context.request.post(`${portal.url}/api/shell/token`, {
          headers: { origin: portal.url },
          data: { nodePath: 'insights' },
        });
        assert.equal(issued.status(), 200);
        const { token } = (await issued.json()) as { token: string };
        const authorization = { authorization: `Bearer ${token}` };

        const own = await fetch(`${insights.url}/api/whoami`, { headers: authorization });
        assert.equal(own.status, 200);
        const other = await fetch(`${deploy.url}/api/whoami`, { headers: authorization });
        assert.equal(other.status, 401);
        const body = (await other.json()) as { code?: string };
        assert.equal(body.code, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
      } finally {
        await context.close();
      }
    });

    test('token route checks node and origin', async () => {
      const { context } = await signInAs('amara', '/insights');
      try {
        const post = (nodePath: string, origin: string) =>
          context.request.post(`${portal.url}/api/shell/token`, {
            headers: { origin },
            data: { nodePath },
          });
        assert.equal((await post('insights', portal.url)).status(), 200);
        assert.equal((await post('deploy', portal.url)).status(), 403, 'amara may not use deploy');
        assert.equal((await post('catalog', portal.url)).status(), 404, 'catalog has no audience');
        assert.equal((await post('insights', hostile.url)).status(), 403, 'cross-origin POST');
      } finally {
        await context.close();
      }
    });

    test('hostile page cannot frame the shell', async () => {
      const { context, page } = await signInAs('sofia', '/insights');
      try {
        await page.goto(`${hostile.url}/frame-shell`);
        await page.waitForTimeout(SILENCE_MS);
        const shellFrames = page.frames().filter((frame) => frame.url().startsWith(portal.url));
        for (const frame of shellFrames) {
          assert.equal(await frame.locator('.fd-shellbar').count(), 0, 'shell rendered in a frame');
        }
        const received = await page.evaluate(() => (window as unknown as Probe).received);
        assert.deepEqual(received, []);
      } finally {
        await context.close();
      }
    });

    test('hostile opener gets no answer', async () => {
      const { context, page } = await signInAs('sofia', '/insights');
      try {
        await page.goto(`${hostile.url}/opener`);
        const [popup] = await Promise.all([
          context.waitForEvent('page'),
          page.evaluate((url) => {
            (window as unknown as { shell: Window | null }).shell = window.open(url);
          }, `${portal.url}/insights`),
        ]);
        await frameAt(popup, insights.url);
        await page.evaluate(() => {
          const probe = window as unknown as Probe & { shell: Window };
          probe.probe(probe.shell);
        });
        await page.waitForTimeout(SILENCE_MS);
        const received = await page.evaluate(() => (window as unknown as Probe).received);
        assert.deepEqual(received, []);
      } finally {
        await context.close();
      }
    });

    test('navigated view gets no context or token', async () => {
      const { context, page } = await signInAs('sofia', '/hostile');
      try {
        // In its own node the impostor page gets responses, which shows that its probe works.
        const ownFrame = await frameAt(page, hostile.url);
        await ownFrame.waitForFunction(() =>
          (window as unknown as Probe).received.some((message) => message.data.msg === 'custom'),
        );
        const own = await ownFrame.evaluate(() => (window as unknown as Probe).received);
        const ownToken = own.find((message) => message.data.msg === 'custom')?.data.data;
        assert.equal(decodeJwt(String(ownToken?.token)).aud, HOSTILE_AUDIENCE);
        assert.ok(own.some((message) => message.data.msg === 'luigi.init'));

        // The insights iframe now shows the impostor, at an origin other than its viewUrl's.
        await page.goto(`${portal.url}/insights`);
        const insightsFrame = await frameAt(page, insights.url);
        await insightsFrame.locator('#backend').filter({ hasText: 'user:default' }).waitFor();
        await insightsFrame.goto(`${hostile.url}/impostor`);
        await page.waitForTimeout(SILENCE_MS);
        const navigated = page.frames().find((frame) => frame.url().startsWith(hostile.url));
        assert.ok(navigated, 'the insights iframe shows the impostor page');
        assert.deepEqual(await navigated.evaluate(() => (window as unknown as Probe).received), []);
        await saveScreenshot(page, 'shell-framing-hostile');
      } finally {
        await context.close();
      }
    });
  });
});

interface Probe {
  received: Array<{
    origin: string;
    data: { msg?: string; data?: { token?: string; audience?: string } };
  }>;
  probe(target: Window): void;
}
