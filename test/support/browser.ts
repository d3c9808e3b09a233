import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Frame,
  type FrameLocator,
  type Locator,
  type Page,
} from 'playwright-core';
import { buildWebBundles } from '../../scripts/build-web.mjs';
import { PROJECT_ROOT } from './portal.js';

/** Debian's Chromium, which playwright-core drives instead of a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Folder of the screenshots that the browser tests save, for a person to look at. */
export const RESULTS = path.join(PROJECT_ROOT, 'test-results');
/** The example users' password, from examples/app-config.yaml. */
export const DEMO_PASSWORD = 'demo';
/** Default timeout of every wait in a browser context, and of `pollUntil`. */
export const WAIT_MS = 15_000;
export const LARGE_WINDOW = { width: 1280, height: 800 };
/** LARGE_WINDOW with 100 px more height, as the request, audit, runbook and home tests use. */
export const TALL_WINDOW = { width: 1280, height: 900 };
export const SMALL_WINDOW = { width: 800, height: 600 };
/** The example organisation's users and groups, without its components. */
export const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');
/** A catalog location that reads the example organisation and is trusted with its users and groups. */
export const ORGANISATION_LOCATION = {
  type: 'file',
  target: ORGANISATION_FILE,
  rules: [{ allow: ['User', 'Group'] }],
};

/**
 * Registers the tests of `define` when Chromium is installed. Without it,
 * registers one skipped test named `name`, or one failing test when
 * CI=true, because CI must run the browser tests.
 */
export function whenChromiumInstalled(name: string, define: () => void): void {
  if (existsSync(CHROMIUM)) {
    define();
    return;
  }

  const missing = `${CHROMIUM} is missing: install Debian's chromium package to run the browser tests`;
  if (process.env.CI === 'true') {
    test('Chromium is installed', () => {
      assert.fail(`${missing}; CI=true requires the browser tests to run`);
    });
  } else {
    test(name, { skip: missing }, () => {});
  }
}

/**
 * Builds dist/web from web/ and creates the screenshot folder. The build is
 * skipped when dist/web was built from the same sources, and a build replaces
 * the folder in one rename, so test files running at the same time may all
 * call this.
 */
export async function prepareWebBundles(): Promise<void> {
  await buildWebBundles(PROJECT_ROOT);
  mkdirSync(RESULTS, { recursive: true });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** What the browser reported that no page should produce, from every page and frame. */
export interface BrowserFindings {
  /** Console messages about Content-Security-Policy violations. */
  violations: string[];
  /** Uncaught script errors, each prefixed with the signed-in user. */
  pageErrors: string[];
  /** Messages of alert, confirm and prompt dialogs, which are dismissed. */
  dialogs: string[];
}

export function createFindings(): BrowserFindings {
  return { violations: [], pageErrors: [], dialogs: [] };
}

/** Checks that the pages showed no policy violation and threw no script error. */
export function assertNoViolationsOrErrors(findings: BrowserFindings): void {
  assert.deepEqual(findings.violations, []);
  assert.deepEqual(findings.pageErrors, []);
}

export interface SignInOptions {
  /** Base URL of the portal, without a trailing slash. */
  baseUrl: string;
  username: string;
  /** Shell route to open first, such as `/catalog` or `/audit?~action=x`. */
  startPath: string;
  /** Path that the shell shows after sign-in. The path part of `startPath` by default. */
  landingPath?: string;
  /** Findings that the page's listeners fill. Nothing is collected when unset. */
  findings?: BrowserFindings;
  /** LARGE_WINDOW by default. */
  viewport?: { width: number; height: number };
}

/**
 * Opens a fresh browser context, opens `startPath` and signs in as the demo
 * user through the form of the development provider. Resolves once the shell
 * shows `landingPath`. The caller closes the context.
 */
export async function signIn(
  browser: Browser,
  options: SignInOptions,
): Promise<{ context: BrowserContext; page: Page }> {
  const { baseUrl, username, startPath, findings } = options;
  const landingPath = options.landingPath ?? startPath.split('?')[0];
  const context = await browser.newContext({ viewport: options.viewport ?? LARGE_WINDOW });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  if (findings) {
    watchPage(page, username, findings);
  }

  await page.goto(`${baseUrl}${startPath}`);
  assert.match(
    page.url(),
    /\/dev-idp\//,
    `expected the development sign-in form, got ${page.url()}`,
  );
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  try {
    await page.waitForURL((url) => url.pathname === landingPath);
  } catch (error) {
    const text = ((await page.locator('body').textContent()) ?? '').trim().slice(0, 500);
    throw new Error(`Sign-in as ${username} ended at ${page.url()}, which shows: ${text}`, {
      cause: error,
    });
  }
  return { context, page };
}

function watchPage(page: Page, username: string, findings: BrowserFindings): void {
  page.on('dialog', (dialog) => {
    findings.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    const text = message.text();
    if (/Content[- ]Security[- ]Policy/i.test(text)) {
      findings.violations.push(text);
    }
  });
  page.on('pageerror', (error) => findings.pageErrors.push(`${username}: ${error.message}`));
}

/** Locates the iframe content of a built-in micro frontend, such as `catalog` or `entity`. */
export function viewFrame(page: Page, name: string): FrameLocator {
  return page.frameLocator(`iframe[src*="/micro-frontends/${name}/"]`);
}

/** Locates the shell bar's entries named `label`, visible or in the overflow menu. */
export function shellbarEntries(page: Page, label: string): Locator {
  return page.locator('.fd-shellbar').getByText(label, { exact: true });
}

/** Finds the frame whose URL starts with `origin`, waiting up to WAIT_MS until it appears. */
export async function frameAt(page: Page, origin: string): Promise<Frame> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const frame = page.frames().find((candidate) => candidate.url().startsWith(origin));
    if (frame) return frame;
    await page.waitForTimeout(100);
  }
  throw new Error(`No frame at ${origin} appeared; frames: ${page.frames().map((f) => f.url())}`);
}

/** Saves a screenshot of the whole page as `test-results/<name>.png`. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(RESULTS, `${name}.png`) });
}

/** Returns the path segments of the top-level nodes that `GET /api/shell/config` lists for the session. */
export async function topLevelPaths(context: BrowserContext, baseUrl: string): Promise<string[]> {
  const response = await context.request.get(`${baseUrl}/api/shell/config`);
  assert.equal(response.status(), 200);
  const body = (await response.json()) as { nodes: Array<{ pathSegment: string }> };
  return body.nodes.map((node) => node.pathSegment);
}

/** Polls `check` every 100 ms until it returns a value, or fails after WAIT_MS with `description` in the message. */
export async function pollUntil<T>(
  description: string,
  check: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      assert.fail(`timed out after ${WAIT_MS} ms waiting for ${description}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The part of the Luigi client API that a token request uses. */
interface LuigiClientApi {
  addCustomMessageListener(
    id: string,
    listener: (message: Record<string, unknown>) => void,
  ): string;
  sendCustomMessage(message: object): void;
}

/** Message id of the shell's token request, which views send through the Luigi client. */
export const TOKEN_REQUEST = 'backstage-luigi.token.request';

/** Sends a token request from inside a view, with extra fields, and resolves to the shell's response. */
export function requestTokenFrom(
  frame: Frame,
  extra: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  return frame.evaluate(
    ({ id, extra }) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const client = (window as unknown as { LuigiClient: LuigiClientApi }).LuigiClient;
        const requestId = `test-${Math.random()}`;
        client.addCustomMessageListener('backstage-luigi.token.response', (message) => {
          if (message.requestId === requestId) resolve(message);
        });
        client.sendCustomMessage({ id, requestId, ...extra });
      }),
    { id: TOKEN_REQUEST, extra },
  );
}
