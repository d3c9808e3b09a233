import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { EXAMPLE_CONFIG, PROJECT_ROOT } from '../test/support/portal.js';

/**
 * Commands whose reader stops early, as `| head -3` does: each must stop
 * without a stack trace. The reading end of standard output is closed before
 * the command writes anything, so every write of the command fails with EPIPE.
 */

const folder = mkdtempSync(path.join(tmpdir(), 'portal-broken-pipe-'));
after(() => rmSync(folder, { recursive: true, force: true }));

// The example organisation with a database of its own, so no command touches the demo's.
const config = path.join(folder, 'app-config.yaml');
writeFileSync(
  config,
  JSON.stringify({
    database: {
      client: 'better-sqlite3',
      connection: { filename: path.join(folder, 'portal.sqlite') },
    },
  }),
);
const configArgs = ['--config', EXAMPLE_CONFIG, config];
const ROLES_FILE = path.join(PROJECT_ROOT, 'examples', 'roles.yaml');

const CASES: ReadonlyArray<{ name: string; args: string[] }> = [
  { name: 'audit export', args: ['audit', 'export', ...configArgs, '--format', 'csv'] },
  { name: 'access-review', args: ['access-review', ...configArgs, '--format', 'csv'] },
  {
    name: 'catalog validate',
    args: ['catalog', 'validate', path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml')],
  },
  { name: 'policy schema', args: ['policy', 'schema'] },
  { name: 'policy lint', args: ['policy', 'lint', ROLES_FILE, ...configArgs] },
];

const SCRIPT =
  "const { main } = await import('./src/cli.ts'); process.exitCode = await main(['node', 'backstage-luigi', ...process.argv.slice(1)]);";

/** Runs the CLI with the reading end of its standard output closed; returns its exit status and standard error. */
async function runWithClosedOutput(
  args: string[],
): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, ...args],
    {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const status = await new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  return { status, stderr };
}

for (const { name, args } of CASES) {
  test(`${name} stops quietly on a closed pipe`, async () => {
    const { status, stderr } = await runWithClosedOutput(args);

    assert.doesNotMatch(stderr, /EPIPE|Error|at /, stderr);
    assert.equal(status, 141, stderr);
  });
}
