import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCatalogValidate } from './cli.js';

const PROJECT = fileURLToPath(new URL('../..', import.meta.url));
const folder = mkdtempSync(path.join(tmpdir(), 'catalog-cli-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(folder, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const valid = write(
  'valid/catalog-info.yaml',
  `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: svc-a }
spec: { type: service, lifecycle: production, owner: team-x }
`,
);
const invalid = write(
  'invalid/catalog-info.yaml',
  `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: svc-b }
spec: { type: service, owner: team-x }
`,
);
write(
  'tree/all.yaml',
  `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: { name: all }
spec: { targets: [./apis.yaml, ./missing.yaml] }
`,
);
write(
  'tree/apis.yaml',
  `apiVersion: backstage.io/v1alpha1
kind: API
metadata: { name: orders }
spec: { type: openapi, lifecycle: production, owner: team-x, definition: x }
`,
);

async function validate(paths: string[], options: { allow?: string } = {}) {
  let text = '';
  const code = await runCatalogValidate(paths, options, {
    write: (chunk: string) => (text += chunk),
  });
  return { code, text };
}

describe('catalog validate', () => {
  test('exits 0 and lists the entities of a valid file', async () => {
    const { code, text } = await validate([valid]);
    assert.equal(code, 0);
    assert.match(text, /ok {6}\S*valid\/catalog-info\.yaml:1 \[doc 0\] component:default\/svc-a\n/);
    assert.match(text, /1 file, 1 valid entity, 0 errors, 0 warnings/);
  });

  test('exits 1 and names file, line, document, entity and field', async () => {
    const { code, text } = await validate([invalid]);
    assert.equal(code, 1);
    assert.match(
      text,
      /error {3}\S*invalid\/catalog-info\.yaml:4 \[doc 0\] component:default\/svc-b spec\.lifecycle: spec\.lifecycle is required/,
    );
  });

  test('follows Location targets and reports a missing one', async () => {
    const { code, text } = await validate([path.join(folder, 'tree/all.yaml')]);
    assert.equal(code, 1);
    assert.match(text, /ok {6}\S*apis\.yaml:1 \[doc 0\] api:default\/orders/);
    assert.match(
      text,
      /location:default\/all spec\.targets\[1\]: file \S*missing\.yaml does not exist/,
    );
  });

  test('reads the yaml files of a folder', async () => {
    const { code, text } = await validate([path.join(folder, 'tree')]);
    assert.equal(code, 1);
    assert.match(text, /2 files, 2 valid entities, 1 error/);
  });

  test('applies --allow like catalog.rules', async () => {
    const { code, text } = await validate([valid], { allow: 'API' });
    assert.equal(code, 1);
    assert.match(text, /kind 'Component' is not allowed/);
  });

  test('words unread files for validation', async () => {
    const broken = write('broken/catalog-info.yaml', 'kind: [unclosed\n');
    const missing = path.join(folder, 'broken', 'missing.yaml');

    const { code, text } = await validate([broken, missing]);

    assert.equal(code, 1);
    assert.doesNotMatch(text, /catalog keeps/);
    assert.match(text, /not valid YAML .*No entity of this file was checked; fix it/);
    assert.match(text, /missing\.yaml does not exist: .*No entity of this file was checked\./);
  });

  test('runs through main with the exit code', () => {
    const script =
      "const { main } = await import('./src/cli.ts'); process.exitCode = await main(['node', 'backstage-luigi', ...process.argv.slice(1)]);";
    const run = (file: string) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script, 'catalog', 'validate', file],
        { cwd: PROJECT, encoding: 'utf8' },
      );

    const ok = run(valid);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /component:default\/svc-a/);
    const failed = run(invalid);
    assert.equal(failed.status, 1, failed.stderr);
    assert.match(failed.stdout, /spec\.lifecycle/);
    const unknownOption = run('--no-such-option');
    assert.equal(unknownOption.status, 2, unknownOption.stderr);
    assert.match(unknownOption.stderr, /unknown option '--no-such-option'/);
  });
});
