import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { catalogPermissionRules, catalogPermissions } from '../catalog/api/index.js';
import { runImportRbac } from './cli.js';
import { Policy } from './policy.js';
import { PermissionRegistry } from './registry.js';
import { loadRolesFile } from './roles-file.js';

const PROJECT = fileURLToPath(new URL('../..', import.meta.url));
const folder = mkdtempSync(path.join(tmpdir(), 'policy-cli-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(folder, name);
  writeFileSync(file, text);
  return file;
}

function createRegistry(): PermissionRegistry {
  const registry = new PermissionRegistry();
  registry.registerPermissions(...catalogPermissions);
  registry.registerRules(...catalogPermissionRules);
  return registry;
}

function run(options: { csv: string; conditions?: string; output?: string }) {
  let stdout = '';
  let stderr = '';
  const code = runImportRbac(
    options,
    createRegistry(),
    {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    },
    folder,
  );
  return { code, stdout, stderr };
}

const validCsv = write(
  'valid.csv',
  'g, user:default/ada, role:default/reader\np, role:default/reader, catalog-entity, read, allow\n',
);
const partialCsv = write(
  'partial.csv',
  [
    'g, user:default/ada, role:default/reader',
    'p, role:default/reader, catalog-entity, read, allow',
    'p, role:default/reader, catalog.entity.create, create, allow',
    'p, role:default/reader, catalog-entity"x, read, deny',
  ].join('\n'),
);
const conditions = write(
  'conditions.yaml',
  `---
result: CONDITIONAL
roleEntityRef: 'role:default/reader'
pluginId: catalog
resourceType: catalog-entity
permissionMapping: [read]
conditions:
  rule: IS_ENTITY_OWNER
  params: { claims: [$ownerRefs] }
---
`,
);
const ada = {
  userEntityRef: 'user:default/ada',
  groupEntityRefs: [],
  ownershipEntityRefs: ['user:default/ada'],
};

describe('policy import-rbac', () => {
  test('writes a roles file that loads', () => {
    const output = path.join(folder, 'valid.roles.yaml');

    const { code, stdout, stderr } = run({ csv: validCsv, output });

    assert.equal(code, 0, stderr);
    assert.equal(stdout, '');
    assert.match(
      stderr,
      /Converted 2 of 2 lines of valid\.csv into 1 role, written to valid\.roles\.yaml/,
    );
    const registry = createRegistry();
    const policy = new Policy(loadRolesFile(output, registry), registry);
    assert.equal(policy.authorize(ada, 'catalog.entity.read').result, 'ALLOW');
  });

  test('prints the roles file without --output', () => {
    const { code, stdout } = run({ csv: validCsv });

    assert.equal(code, 0);
    assert.match(stdout, /^# Converted by `backstage-luigi policy import-rbac` from valid\.csv\./);
    assert.match(stdout, /- name: reader\n/);
    assert.match(stdout, /# valid\.csv:2\n\s+- permission: catalog\.entity\.read/);
  });

  test('exits 1 and lists what it left out', () => {
    const output = path.join(folder, 'partial.roles.yaml');

    const { code, stderr } = run({ csv: partialCsv, output });

    assert.equal(code, 1);
    assert.match(
      stderr,
      /error {3}partial\.csv:3: permission 'catalog\.entity\.create' is not registered/,
    );
    assert.match(stderr, /error {3}partial\.csv:4: the line is not valid CSV/);
    assert.match(stderr, /Converted 2 of 4 lines of partial\.csv into 1 role/);
    assert.match(stderr, /2 errors: what they name was not converted and is left out/);
    const written = readFileSync(output, 'utf8');
    assert.match(written, /# NOT CONVERTED: the RBAC lines and documents below are left out/);
    assert.match(written, /#\s+partial\.csv:3: permission 'catalog\.entity\.create'/);
    loadRolesFile(output, createRegistry());
  });

  test('converts conditional policies beside the CSV', () => {
    const output = path.join(folder, 'conditions.roles.yaml');

    const { code, stderr } = run({ csv: validCsv, conditions, output });

    assert.equal(code, 0, stderr);
    assert.match(stderr, /and 1 of 1 document of conditions\.yaml/);
    assert.match(stderr, /1 warning/);
    assert.match(
      stderr,
      /warning conditions\.yaml:2: document 0: role 'role:default\/reader' also allows/,
    );
    assert.match(readFileSync(output, 'utf8'), /# conditions\.yaml:2 \(document 0\)/);
  });

  test('names a file it cannot read', () => {
    const { code, stderr, stdout } = run({ csv: path.join(folder, 'missing.csv') });

    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /Cannot read .*missing\.csv: .*ENOENT.*check the path given to --csv/);
  });

  test('names an output it cannot write', () => {
    const blocked = path.join(folder, 'blocked');
    mkdirSync(blocked);

    const { code, stderr } = run({ csv: validCsv, output: blocked });

    assert.equal(code, 1);
    assert.match(
      stderr,
      /Cannot write the roles file .*blocked: .*check the path given to --output/,
    );
  });

  test('rejects an output that is an input', () => {
    const copy = write('copy.csv', 'p, user:default/ada, catalog-entity, read, allow\n');

    const { code, stderr } = run({ csv: copy, output: copy });

    assert.equal(code, 1);
    assert.match(stderr, /--output .*copy\.csv is also an input file/);
    assert.equal(readFileSync(copy, 'utf8'), 'p, user:default/ada, catalog-entity, read, allow\n');
  });

  test('runs through main with the exit code', () => {
    const script =
      "const { main } = await import('./src/cli.ts'); process.exitCode = await main(['node', 'backstage-luigi', ...process.argv.slice(1)]);";
    const invoke = (...args: string[]) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script, ...args],
        {
          cwd: PROJECT,
          encoding: 'utf8',
        },
      );

    const ok = invoke('policy', 'import-rbac', '--csv', validCsv);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /name: reader/);

    const partial = invoke('policy', 'import-rbac', '--csv', partialCsv);
    assert.equal(partial.status, 1, partial.stderr);
    assert.match(partial.stderr, /2 errors/);

    // A usage error, such as a missing required option, exits with 2.
    const missing = invoke('policy', 'import-rbac');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /required option '--csv <file>' not specified/);
  });
});
