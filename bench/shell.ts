import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { buildWebBundles } from '../scripts/build-web.mjs';
import { PermissionRegistry, PermissionService, type Principal } from '../src/permissions/index.js';
import { buildGlobalContext, buildUserNavigation } from '../src/shell/index.js';
import { PROJECT_ROOT, startTestPortal } from '../test/support/portal.js';
import { GENERATED_TOOL_PERMISSIONS, generateShellNodes } from '../test/support/shell-nodes.js';
import { type LatencySummary, measureLatency, percentile } from './statistics.js';

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

export interface ShellFigures {
  nodes: number;
  /** Navigation and global context of one user, in process, in milliseconds. */
  configuration: { admin: LatencySummary; member: LatencySummary };
  /** From navigation start of `/catalog` until the catalog micro frontend shows its rows. */
  firstView?: LatencySummary;
  /** Why the browser figure is missing, such as a missing Chromium. */
  firstViewSkipped?: string;
}

const ROLES = `
roles:
  - name: builders
    members: [group:default/builders]
    grants:
      - permission: tools.build.use
      - permission: catalog.entity.read
  - name: admins
    members: [group:default/admins]
    grants:
      - permission: tools.build.use
      - permission: tools.deploy.use
      - permission: tools.observe.use
      - permission: catalog.entity.read
`;

function principalOf(group: string): Principal {
  return {
    userEntityRef: `user:default/${group}-member`,
    ownershipEntityRefs: [`user:default/${group}-member`, `group:default/${group}`],
    groupEntityRefs: [`group:default/${group}`],
  };
}

/**
 * Measures the shell configuration of one user over 300 generated nodes, as
 * `GET /api/shell/config` computes it without the HTTP round trip, and the
 * time Chromium takes from navigation start until the first micro frontend
 * of the example portal has rendered its rows.
 */
export async function benchmarkShell(options: { samples?: number } = {}): Promise<ShellFigures> {
  const folder = mkdtempSync(path.join(tmpdir(), 'backstage-luigi-bench-shell-'));
  try {
    const registry = new PermissionRegistry();
    registry.registerPermissions(
      {
        name: 'catalog.entity.read',
        resourceType: 'catalog-entity',
        action: 'read',
        description: 'Read',
      },
      ...GENERATED_TOOL_PERMISSIONS.map((name) => ({
        name,
        action: 'use' as const,
        description: name,
      })),
    );
    const rolesFile = path.join(folder, 'roles.yaml');
    writeFileSync(rolesFile, ROLES);
    const permissions = new PermissionService(registry, rolesFile);
    const nodes = generateShellNodes(30);

    const measure = (principal: Principal) =>
      measureLatency(
        async () => {
          // A fresh principal each time, as each request resolves its own.
          const fresh = { ...principal };
          buildUserNavigation(nodes, fresh, permissions);
          buildGlobalContext(fresh, permissions);
        },
        { warmup: 200, samples: options.samples ?? 2_000 },
      );
    const figures: ShellFigures = {
      nodes: 300,
      configuration: {
        admin: await measure(principalOf('admins')),
        member: await measure(principalOf('builders')),
      },
    };

    try {
      figures.firstView = await measureFirstView();
    } catch (error) {
      figures.firstViewSkipped = (error as Error).message;
    }
    return figures;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Signs in to the example portal as amara and loads `/catalog` 20 times.
 * The time is the shell page's `performance.now()` when the catalog's
 * iframe first shows its count of rows, checked on every animation frame.
 */
async function measureFirstView(): Promise<LatencySummary> {
  await buildWebBundles(PROJECT_ROOT);
  const portal = await startTestPortal({ dialect: 'sqlite' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${portal.url}/catalog`);
    await page.getByLabel('Username').fill('amara');
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/catalog');

    const durations: number[] = [];
    for (let index = 0; index < 23; index++) {
      await page.goto(`${portal.url}/catalog`);
      const handle = await page.waitForFunction(
        () => {
          const frame = document.querySelector<HTMLIFrameElement>(
            'iframe[src*="/micro-frontends/catalog/"]',
          );
          const text = frame?.contentDocument?.body?.textContent ?? '';
          return /Showing 1–\d+ of \d+ entities/.test(text) ? performance.now() : false;
        },
        undefined,
        { polling: 'raf', timeout: 15_000 },
      );
      // The first three loads warm the caches of the browser and the server.
      if (index >= 3) {
        durations.push((await handle.jsonValue()) as number);
      }
    }
    return summarize(durations);
  } finally {
    await browser.close();
    await portal.close();
  }
}

function summarize(durations: number[]): LatencySummary {
  const sorted = [...durations].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}
