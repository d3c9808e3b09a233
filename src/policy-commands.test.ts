import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXAMPLE_CONFIG, PROJECT_ROOT } from '../test/support/portal.js';
import { createCommandRegistry } from './cli.js';
import { loadConfig } from './config/index.js';
import { runPolicyLint, runPolicyPlan } from './policy-commands.js';

/** Collects what a command writes. */
function capture(): { write(text: string): void; text(): string } {
  const chunks: string[] = [];
  return { write: (text) => chunks.push(text), text: () => chunks.join('') };
}

describe('policy commands on the example organisation', () => {
  let folder: string;
  let config: string[];
  const exampleRoles = path.join(PROJECT_ROOT, 'examples', 'roles.yaml');

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'policy-commands-'));
    // A fresh database: the commands must read the catalog files themselves.
    const override = path.join(folder, 'override.yaml');
    writeFileSync(
      override,
      `database:\n  client: better-sqlite3\n  connection:\n    filename: ${path.join(folder, 'portal.sqlite')}\n`,
    );
    config = [EXAMPLE_CONFIG, override];
  });

  after(() => rmSync(folder, { recursive: true, force: true }));

  test('lint passes the example roles', async () => {
    const output = capture();
    const code = await runPolicyLint(
      exampleRoles,
      { config, format: 'text' },
      createCommandRegistry(),
      output,
    );
    assert.equal(code, 0, output.text());
    assert.match(output.text(), /catalog locations of the config/);
    assert.match(output.text(), /roles\.yaml: 0 errors, \d+ warnings?\n$/);
  });

  test('lint fails on an unknown member and permission', async () => {
    const roles = path.join(folder, 'broken-roles.yaml');
    writeFileSync(
      roles,
      [
        'roles:',
        '  - name: typo',
        '    members: [group:bookng-team]',
        '    grants: [{ permission: catalog.entity.read }]',
        '  - name: unknown',
        '    members: [group:booking-team]',
        '    grants: [{ permission: catalog.entity.write }]',
        '',
      ].join('\n'),
    );
    const output = capture();
    const code = await runPolicyLint(
      roles,
      { config, format: 'json' },
      createCommandRegistry(),
      output,
    );
    assert.equal(code, 1);
    const report = JSON.parse(output.text()) as { findings: Array<{ code: string; path: string }> };
    assert.deepEqual(
      report.findings.map((finding) => finding.code),
      ['invalid-roles-file'],
    );
    assert.match(report.findings[0]?.path ?? '', /broken-roles\.yaml:7: /);

    writeFileSync(
      roles,
      readFileSync(roles, 'utf8').replace('catalog.entity.write', 'catalog.entity.read'),
    );
    const second = capture();
    assert.equal(
      await runPolicyLint(roles, { config, format: 'text' }, createCommandRegistry(), second),
      0,
    );
    assert.match(
      second.text(),
      /member 'group:default\/bookng-team' of role 'typo' is not in the catalog/,
    );
    assert.equal(
      await runPolicyLint(
        roles,
        { config, format: 'text', strict: true },
        createCommandRegistry(),
        capture(),
      ),
      1,
    );
  });

  test('lint reports MicroFrontend entities not served', async () => {
    const tools = path.join(folder, 'tools.yaml');
    const entity = (name: string, spec: string) =>
      `apiVersion: backstage-luigi.io/v1\nkind: MicroFrontend\nmetadata:\n  name: ${name}\nspec:\n  label: Tool\n  audience: https://tools.example.com/api\n${spec}`;
    writeFileSync(
      tools,
      [
        entity(
          'served',
          '  path: deployments\n  viewUrl: https://tools.example.com/deployments/\n  permission: tools.view\n',
        ),
        entity(
          'unknown-permission',
          '  path: reports\n  viewUrl: https://tools.example.com/reports/\n  permission: tools.reports.view\n',
        ),
        entity(
          'foreign-origin',
          '  path: foreign\n  viewUrl: https://elsewhere.example.com/\n  permission: tools.view\n',
        ),
        entity(
          'path-taken',
          '  path: catalog\n  viewUrl: https://tools.example.com/catalog/\n  permission: tools.view\n',
        ),
      ].join('---\n'),
    );
    const locations = [
      ...loadConfig([EXAMPLE_CONFIG]).config.catalog.locations,
      { type: 'file', target: tools },
    ];
    const toolsConfig = path.join(folder, 'tools-config.yaml');
    writeFileSync(
      toolsConfig,
      [
        `database: { client: better-sqlite3, connection: { filename: ${JSON.stringify(path.join(folder, 'tools.sqlite'))} } }`,
        `catalog: { locations: ${JSON.stringify(locations)} }`,
        'shell:',
        '  allowedOrigins: [https://tools.example.com]',
        '  permissions: [{ name: tools.view, description: Use the tools }]',
        '',
      ].join('\n'),
    );

    const json = capture();
    const code = await runPolicyLint(
      exampleRoles,
      { config: [EXAMPLE_CONFIG, toolsConfig], format: 'json' },
      createCommandRegistry(),
      json,
    );
    const text = capture();
    await runPolicyLint(
      exampleRoles,
      { config: [EXAMPLE_CONFIG, toolsConfig], format: 'text' },
      createCommandRegistry(),
      text,
    );

    assert.equal(code, 1, json.text());
    const report = JSON.parse(json.text()) as {
      microFrontends: { served: string[]; faults: Array<{ code: string; entityRef: string }> };
    };
    assert.deepEqual(report.microFrontends.served, ['microfrontend:default/served']);
    assert.deepEqual(
      report.microFrontends.faults.map((fault) => `${fault.code} ${fault.entityRef}`).sort(),
      [
        'micro-frontend-origin-not-allowed microfrontend:default/foreign-origin',
        'micro-frontend-path-conflict microfrontend:default/path-taken',
        'micro-frontend-permission-unknown microfrontend:default/unknown-permission',
      ],
    );
    assert.match(
      text.text(),
      /error: .*tools\.yaml: spec\.permission: microfrontend:default\/unknown-permission names permission 'tools\.reports\.view'.* \[micro-frontend-permission-unknown\]\n/,
    );
    assert.match(text.text(), /MicroFrontend entities: 1 served, 3 not served \(3 errors\)\n/);
  });

  test('plan shows who gains a wider read', async () => {
    const proposed = path.join(folder, 'proposed-roles.yaml');
    writeFileSync(
      proposed,
      readFileSync(exampleRoles, 'utf8').replace(
        '    members:\n      - group:sre-team\n',
        '    members:\n      - group:sre-team\n      - user:amara.okafor\n',
      ),
    );
    const output = capture();
    const code = await runPolicyPlan(
      { from: exampleRoles, to: proposed, config, format: 'json' },
      createCommandRegistry(),
      output,
    );
    assert.equal(code, 0, output.text());
    const plan = JSON.parse(output.text()) as {
      users: Array<{
        subject: string;
        gained: Array<{ permission: string }>;
        changed: Array<{ permission: string }>;
      }>;
      groups: unknown[];
    };
    assert.deepEqual(
      plan.users.map((user) => user.subject),
      ['user:default/amara.okafor'],
    );
    assert.deepEqual(
      plan.users[0]?.changed.map((change) => change.permission),
      ['catalog.entity.read', 'runbook.read'],
    );
    assert.deepEqual(
      plan.users[0]?.gained.map((change) => change.permission),
      ['aws-credentials.request.approve', 'request.read', 'request.review'],
    );
    assert.deepEqual(plan.groups, []);
  });

  test('bad arguments exit with 2', async (t) => {
    t.mock.method(console, 'error', () => {});
    const registry = createCommandRegistry();
    assert.equal(
      await runPolicyLint(
        path.join(folder, 'missing.yaml'),
        { config, format: 'text' },
        registry,
        capture(),
      ),
      2,
    );
    assert.equal(
      await runPolicyLint(exampleRoles, { config, format: 'xml' }, registry, capture()),
      2,
    );
    assert.equal(
      await runPolicyLint(
        exampleRoles,
        { config, format: 'text', largeGroup: '0' },
        registry,
        capture(),
      ),
      2,
    );
    const messages = (
      console.error as unknown as { mock: { calls: Array<{ arguments: unknown[] }> } }
    ).mock.calls.map((call) => String(call.arguments[0]));
    assert.match(messages[0] ?? '', /missing\.yaml cannot be read \(ENOENT\): check the path/);
    assert.match(messages[1] ?? '', /--format 'xml' is not supported/);
    assert.match(messages[2] ?? '', /--large-group '0' is not a positive whole number/);
  });

  test('unreachable database exits with 2', async (t) => {
    t.mock.method(console, 'error', () => {});
    const unreachable = path.join(folder, 'unreachable.yaml');
    writeFileSync(
      unreachable,
      'database:\n  client: pg\n  connection: postgres://postgres@127.0.0.1:1/portal\n',
    );

    const code = await runPolicyLint(
      exampleRoles,
      { config: [EXAMPLE_CONFIG, unreachable], format: 'text' },
      createCommandRegistry(),
      capture(),
    );

    const message = String(
      (console.error as unknown as { mock: { calls: Array<{ arguments: unknown[] }> } }).mock
        .calls[0]?.arguments[0],
    );
    assert.equal(code, 2);
    assert.match(message, /^Reading the users and groups of the catalog failed: .*ECONNREFUSED/);
    assert.match(message, /unreachable\.yaml and that the database server accepts connections/);
    assert.doesNotMatch(message, /\n\s+at /, 'no stack trace');
  });
});
