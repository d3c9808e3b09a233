import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../test/support/databases.js';
import { EXAMPLE_CONFIG } from '../../test/support/portal.js';
import { type CommandOutput, formatTokenList, runTokenCommand } from './cli.js';

function capture(): CommandOutput & { stdout: string; stderr: string } {
  const output = {
    stdout: '',
    stderr: '',
    out: (text: string) => {
      output.stdout += text;
    },
    err: (text: string) => {
      output.stderr += text;
    },
  };
  return output;
}

describeEachDialect('scim token commands', (context) => {
  let configFiles: string[];
  let folder: string;

  before(async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    folder = mkdtempSync(path.join(tmpdir(), 'scim-cli-'));
    const databaseFile = path.join(folder, 'database.json');
    writeFileSync(databaseFile, JSON.stringify({ database: context.database().config }));
    configFiles = [EXAMPLE_CONFIG, databaseFile];
  });

  after(async () => {
    const { rmSync } = await import('node:fs');
    rmSync(folder, { recursive: true, force: true });
  });

  test('create prints the token once', async () => {
    const output = capture();
    const code = await runTokenCommand({ action: 'create', name: 'okta' }, configFiles, output);

    assert.equal(code, 0);
    assert.match(output.stdout, /^luigi_scim_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
    assert.match(output.stderr, /Created SCIM token okta/);
    assert.match(output.stderr, /http:\/\/localhost:7007\/scim\/v2/);
    assert.match(output.stderr, /scim\.enabled is false/);
  });

  test('list shows names, never tokens', async () => {
    const output = capture();
    const code = await runTokenCommand({ action: 'list' }, configFiles, output);

    assert.equal(code, 0);
    assert.match(output.stdout, /^NAME\s+ID\s+CREATED\s+LAST USED\s+REVOKED\n/);
    assert.match(output.stdout, /\nokta\s+[0-9a-f]{16}\s/);
    assert.doesNotMatch(output.stdout, /luigi_scim_/);
  });

  test('revoke and a second revoke', async () => {
    const first = capture();
    assert.equal(await runTokenCommand({ action: 'revoke', name: 'okta' }, configFiles, first), 0);
    assert.match(first.stderr, /Revoked SCIM token okta/);

    const second = capture();
    assert.equal(await runTokenCommand({ action: 'revoke', name: 'okta' }, configFiles, second), 1);
    assert.match(second.stderr, /No live SCIM token is named "okta"/);
  });

  test('an invalid name fails with the rule', async () => {
    const output = capture();
    assert.equal(
      await runTokenCommand({ action: 'create', name: 'Okta!' }, configFiles, output),
      1,
    );
    assert.match(output.stderr, /Token name "Okta!" is invalid: use 1 to 64 lowercase letters/);
  });
});

test('token list without tokens says how to create one', () => {
  assert.match(formatTokenList([]), /scim token create --name <client>/);
});
