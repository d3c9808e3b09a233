import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Kysely } from 'kysely';
import { stringify } from 'yaml';
import { seedCatalogFiles } from '../test/support/catalog-seed.js';
import { describeEachDialect } from '../test/support/databases.js';
import { PROJECT_ROOT } from '../test/support/portal.js';
import { runAccessReview } from './access-review.js';
import { createCommandRegistry } from './cli.js';
import { migrateToLatest } from './database/index.js';
import type { AccessReview, HeldPermission } from './permissions/access-review.js';
import {
  type RoleElevationTables,
  roleElevationMigrations,
} from './workflows/elevation-migrations.js';

/**
 * A small organisation: eng contains team-a and team-b, and bob is also a
 * contractor. ada is a platform admin, eve is suspended and carol belongs to
 * no group.
 */
const CATALOG = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: eng }
spec: { type: department, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: Team-A }
spec: { type: team, parent: eng, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-b }
spec: { type: team, parent: group:default/ENG, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: contractors }
spec: { type: external, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: ada }
spec: { memberOf: [team-a] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: bob }
spec: { memberOf: [Team-B, contractors] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: carol }
spec: { memberOf: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: eve }
spec: { memberOf: [team-a] }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: orders, labels: { pii: "true" } }
spec: { type: service, lifecycle: production, owner: team-a }
`;

const ROLES = `
roles:
  - name: readers
    members: [group:eng]
    grants:
      - permission: catalog.entity.read
        conditions:
          anyOf:
            - rule: IS_ENTITY_OWNER
              params: { claims: [$ownerRefs] }
            - rule: IS_ENTITY_KIND
              params: { kinds: [Group, User] }
  - name: platform
    members: [User:ADA]
    grants:
      - permission: catalog.location.read
      - permission: catalog.entity.read
  - name: contractor-limits
    members: [group:contractors]
    grants:
      - permission: catalog.entity.read
        effect: deny
        conditions: { rule: HAS_LABEL, params: { label: pii } }
  - name: everyone
    allSignedInUsers: true
    grants:
      - permission: catalog.entity.read
        conditions: { rule: IS_ENTITY_KIND, params: { kinds: [System] } }
  - name: suspended
    members: [user:eve]
    grants:
      - permission: catalog.entity.read
        effect: deny
`;

const FIXED_TIME = new Date('2025-03-01T09:30:00Z');

/** Collects what the command writes to each stream. */
function captureStreams() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    streams: {
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => err.push(text) },
    },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

function write(folder: string, name: string, text: string): string {
  const file = path.join(folder, name);
  writeFileSync(file, text);
  return file;
}

/** Writes a config that reads the fixture catalog and roles, with `extra` merged over it. */
function writeConfig(folder: string, name: string, extra: Record<string, unknown> = {}): string {
  const base = {
    app: { title: 'Access review tests' },
    database: {
      client: 'better-sqlite3',
      connection: { filename: path.join(folder, `${name}.sqlite`) },
    },
    catalog: {
      locations: [
        { type: 'file', target: './catalog.yaml', rules: [{ allow: ['User', 'Group'] }] },
      ],
      refresh: { intervalSeconds: 0, watch: false },
    },
    permission: { rolesFile: './roles.yaml', transitiveGroupOwnership: true },
  };
  return write(folder, `${name}.yaml`, stringify({ ...base, ...extra }));
}

async function review(config: string[], format: string) {
  const capture = captureStreams();
  const code = await runAccessReview(
    { config, format, now: () => FIXED_TIME },
    createCommandRegistry(),
    capture.streams,
  );
  return { code, stdout: capture.stdout(), stderr: capture.stderr() };
}

function heldBy(report: AccessReview, reference: string): Map<string, HeldPermission> {
  const subject = [...report.users, ...report.groups].find((item) => item.reference === reference);
  assert.ok(subject, `${reference} is not in the review`);
  return new Map(subject.permissions.map((held) => [held.permission, held]));
}

/**
 * Runs the real entry point in a child process, so option parsing, the
 * output streams and the exit code are the ones a user gets.
 */
function runCli(args: string[]) {
  const cli = JSON.stringify(path.join(PROJECT_ROOT, 'src', 'cli.ts'));
  const script = `const { main } = await import(${cli}); process.exitCode = await main(['node', 'backstage-luigi', ...process.argv.slice(1)]);`;
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, ...args],
    { cwd: PROJECT_ROOT, encoding: 'utf8' },
  );
}

describeEachDialect('access-review command', (context) => {
  let folder: string;
  let config: string[];

  before(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'access-review-'));
    write(folder, 'catalog.yaml', CATALOG);
    write(folder, 'roles.yaml', ROLES);
    // The catalog is stored in this dialect's database by the real ingestion,
    // so the command reads the organisation from there.
    await seedCatalogFiles(context.handle(), [path.join(folder, 'catalog.yaml')]);
    config = [
      writeConfig(folder, 'app-config'),
      write(folder, 'database.yaml', stringify({ database: context.database().config })),
    ];
  });
  after(() => {
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  test('json lists users and groups with their evidence', async () => {
    const result = await review(config, 'json');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as AccessReview & {
      catalog: string;
      generatedAt: string;
      rolesFile: string;
    };

    assert.match(report.catalog, new RegExp(`^the catalog in ${context.dialect}`));
    assert.equal(report.generatedAt, FIXED_TIME.toISOString());
    assert.equal(report.rolesFile, path.join(folder, 'roles.yaml'));
    assert.deepEqual(
      report.users.map((user) => user.reference),
      ['user:default/ada', 'user:default/bob', 'user:default/carol', 'user:default/eve'],
    );
    assert.deepEqual(
      report.groups.map((group) => group.reference),
      [
        'group:default/contractors',
        'group:default/eng',
        'group:default/team-a',
        'group:default/team-b',
      ],
    );

    const ada = heldBy(report, 'user:default/ada');
    assert.deepEqual(ada.get('catalog.entity.read'), {
      permission: 'catalog.entity.read',
      decision: 'allow',
      grants: [{ role: 'platform', grant: 1, effect: 'allow' }],
      direct: true,
      via: [],
      allSignedInUsers: false,
    });
    assert.equal(ada.get('catalog.location.read')?.decision, 'allow');
    assert.equal(ada.has('permission.policy.read'), false);

    const bob = heldBy(report, 'user:default/bob').get('catalog.entity.read');
    assert.equal(bob?.decision, 'conditional');
    assert.deepEqual(bob?.grants, [
      { role: 'readers', grant: 0, effect: 'allow' },
      { role: 'everyone', grant: 0, effect: 'allow' },
      { role: 'contractor-limits', grant: 0, effect: 'deny' },
    ]);
    assert.equal(bob?.direct, false);
    assert.deepEqual(bob?.via, ['group:default/eng']);
    assert.equal(bob?.allSignedInUsers, true);
    const bobConditions = JSON.stringify(bob?.conditions);
    assert.match(bobConditions, /"claims":\["user:default\/bob",/);
    assert.match(bobConditions, /group:default\/eng/);
    assert.match(bobConditions, /\{"not":\{"rule":"HAS_LABEL","params":\{"label":"pii"\}\}\}/);

    const carol = heldBy(report, 'user:default/carol').get('catalog.entity.read');
    assert.deepEqual(carol?.conditions, { rule: 'IS_ENTITY_KIND', params: { kinds: ['System'] } });
    assert.deepEqual(carol?.via, []);
    assert.equal(carol?.allSignedInUsers, true);

    assert.equal(heldBy(report, 'user:default/eve').size, 0);

    const teamA = heldBy(report, 'group:default/team-a').get('catalog.entity.read');
    assert.equal(teamA?.decision, 'conditional');
    assert.deepEqual(teamA?.via, ['group:default/eng']);
    assert.match(
      JSON.stringify(teamA?.conditions),
      /"claims":\["\$currentUser","group:default\/team-a","group:default\/eng"\]/,
    );
    const eng = heldBy(report, 'group:default/eng').get('catalog.entity.read');
    assert.equal(eng?.direct, true);
    assert.deepEqual(eng?.via, []);
  });

  test('csv has one row per permission held', async () => {
    const result = await review(config, 'csv');
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.endsWith('\r\n'), 'CSV lines end with CRLF');
    const rows = parseCsv(result.stdout, { columns: true }) as Array<Record<string, string>>;

    assert.deepEqual(Object.keys(rows[0] ?? {}), [
      'kind',
      'reference',
      'permission',
      'decision',
      'conditions',
      'grants',
      'via',
    ]);
    const bob = rows.find(
      (row) => row.reference === 'user:default/bob' && row.permission === 'catalog.entity.read',
    );
    assert.equal(bob?.kind, 'user');
    assert.equal(bob?.decision, 'conditional');
    assert.equal(
      bob?.grants,
      'readers grants[0]; everyone grants[0]; contractor-limits grants[0] (deny)',
    );
    assert.equal(bob?.via, 'group:default/eng; all signed-in users');
    assert.equal(
      bob?.conditions,
      '(((IS_ENTITY_OWNER(claims=["user:default/bob","group:default/contractors","group:default/eng","group:default/team-b"]) or IS_ENTITY_KIND(kinds=["Group","User"])) or IS_ENTITY_KIND(kinds=["System"])) and not HAS_LABEL(label="pii"))',
    );

    const ada = rows.filter((row) => row.reference === 'user:default/ada');
    assert.deepEqual(
      ada.map((row) => [row.permission, row.decision, row.conditions, row.grants, row.via]),
      [
        ['catalog.entity.read', 'allow', '', 'platform grants[1]', 'direct member'],
        ['catalog.location.read', 'allow', '', 'platform grants[0]', 'direct member'],
      ],
    );
    assert.equal(rows.filter((row) => row.reference === 'user:default/eve').length, 0);
    assert.equal(rows.filter((row) => row.kind === 'group').length, 4);
  });

  test('text table ends with the subjects holding nothing', async () => {
    const result = await review(config, 'text');
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');

    assert.match(
      lines[0] ?? '',
      /^Access held under .*roles\.yaml by 4 users and 4 groups of the catalog in /,
    );
    assert.match(lines[0] ?? '', /at 2025-03-01T09:30:00\.000Z\.$/);
    const header = lines.find((line) => line.startsWith('KIND'));
    assert.match(header ?? '', /^KIND +REFERENCE +PERMISSION +DECISION +GRANTS +VIA +CONDITIONS$/);
    // Every row's permission starts in the same column as the header's.
    const column = header?.indexOf('PERMISSION');
    const rows = lines.filter((line) => line.startsWith('user ') || line.startsWith('group '));
    assert.equal(rows.length, 8);
    for (const row of rows) {
      assert.match(row.slice(column), /^catalog\./, row);
    }
    assert.equal(lines.at(-1), 'Holding no permission: user:default/eve.');
  });

  test('direct ownership narrows the owner claims', async () => {
    const direct = writeConfig(folder, 'direct-ownership', {
      permission: { rolesFile: './roles.yaml', transitiveGroupOwnership: false },
    });
    const result = await review([direct, config[1]!], 'json');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as AccessReview;

    const bob = JSON.stringify(
      heldBy(report, 'user:default/bob').get('catalog.entity.read')?.conditions,
    );
    assert.match(
      bob,
      /"claims":\["user:default\/bob","group:default\/contractors","group:default\/team-b"\]/,
    );
    const teamA = JSON.stringify(
      heldBy(report, 'group:default/team-a').get('catalog.entity.read')?.conditions,
    );
    assert.match(teamA, /"claims":\["\$currentUser","group:default\/team-a"\]/);
  });

  test('lists elevations in force with their end', async () => {
    await migrateToLatest(context.handle(), [roleElevationMigrations]);
    const db = context.handle().db as Kysely<RoleElevationTables>;
    const elevation = (id: string, member: string, expiresAt: string) => ({
      id,
      request_id: `request-${id}`,
      member,
      role: 'platform',
      granted_at: '2025-03-01T08:00:00.000Z',
      expires_at: expiresAt,
      expiry_recorded_at: null,
    });
    await db
      .insertInto('workflow_role_elevations')
      .values([
        // In force at FIXED_TIME, 09:30.
        elevation('in-force', 'user:default/carol', '2025-03-01T11:00:00.000Z'),
        elevation('ended', 'user:default/bob', '2025-03-01T09:00:00.000Z'),
      ])
      .execute();
    try {
      const json = await review(config, 'json');
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(json.stdout) as AccessReview & {
        elevations: Array<{ member: string; role: string; expiresAt: string }>;
      };

      const carol = heldBy(report, 'user:default/carol');
      assert.equal(carol.get('catalog.location.read')?.decision, 'allow');
      assert.equal(carol.get('catalog.location.read')?.direct, false);
      assert.deepEqual(carol.get('catalog.location.read'), {
        permission: 'catalog.location.read',
        decision: 'allow',
        grants: [{ role: 'platform', grant: 0, effect: 'allow' }],
        direct: false,
        via: [],
        allSignedInUsers: false,
        temporaryUntil: '2025-03-01T11:00:00.000Z',
      });
      assert.equal(heldBy(report, 'user:default/bob').has('catalog.location.read'), false);
      assert.deepEqual(report.elevations, [
        {
          member: 'user:default/carol',
          role: 'platform',
          expiresAt: '2025-03-01T11:00:00.000Z',
          requestId: 'request-in-force',
        },
      ]);

      const csv = await review(config, 'csv');
      assert.match(
        csv.stdout,
        /\r\nuser,user:default\/carol,catalog\.location\.read,allow,,platform grants\[0\],role elevation until 2025-03-01T11:00:00\.000Z\r\n/,
      );
    } finally {
      await db.deleteFrom('workflow_role_elevations').execute();
    }
  });

  test('command line entry prints the review', () => {
    const csv = runCli(['access-review', '--config', ...config, '--format', 'csv']);
    assert.equal(csv.status, 0, csv.stderr);
    assert.match(csv.stdout, /^kind,reference,permission,decision,conditions,grants,via\r\n/);
    assert.match(
      csv.stdout,
      /\r\nuser,user:default\/ada,catalog\.entity\.read,allow,,platform grants\[1\],direct member\r\n/,
    );
  });
});

describe('access-review bad input', () => {
  let folder: string;

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'access-review-input-'));
    write(folder, 'catalog.yaml', CATALOG);
    write(folder, 'roles.yaml', ROLES);
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  test('empty database falls back to the locations', async () => {
    const result = await review([writeConfig(folder, 'fresh')], 'json');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as AccessReview & { catalog: string };
    assert.match(report.catalog, /catalog locations of the config/);
    assert.equal(report.users.length, 4);
  });

  test('missing config file exits with 2', async () => {
    const result = await review([path.join(folder, 'missing.yaml')], 'text');
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /missing\.yaml/);
  });

  test('command line exits with 2 on a missing config', () => {
    const missing = runCli(['access-review', '--config', path.join(folder, 'nowhere.yaml')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nowhere\.yaml/);
    assert.equal(missing.stdout, '');
  });

  test('unknown format exits with 2', async () => {
    const result = await review([writeConfig(folder, 'format')], 'xml');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--format 'xml' is not supported: use text, csv, json/);
  });

  test('roles file faults are listed', async () => {
    write(
      folder,
      'faulty-roles.yaml',
      [
        'roles:',
        '  - name: readers',
        '    members: [group:eng]',
        '    grants:',
        '      - permission: catalog.entity.write',
        '      - permission: catalog.entity.read',
        '        conditions: { rule: IS_OWNER, params: {} }',
        '',
      ].join('\n'),
    );
    const faulty = writeConfig(folder, 'faulty', {
      permission: { rolesFile: './faulty-roles.yaml' },
    });
    const result = await review([faulty], 'csv');

    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /Roles file .*faulty-roles\.yaml is invalid \(2 faults\)/);
    assert.match(
      result.stderr,
      /faulty-roles\.yaml:5: .*permission 'catalog\.entity\.write' is not registered/,
    );
    assert.match(
      result.stderr,
      /faulty-roles\.yaml:7: .*rule 'IS_OWNER' is not registered for catalog-entity/,
    );
  });

  test('missing roles file names the config setting', async () => {
    const config = writeConfig(folder, 'no-roles', { permission: { rolesFile: './absent.yaml' } });
    const result = await review([config], 'text');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Roles file .*absent\.yaml cannot be read/);
    assert.match(result.stderr, /check permission\.rolesFile in the config/);
  });

  test('unreachable database exits with 2', async () => {
    const config = writeConfig(folder, 'unreachable', {
      database: { client: 'pg', connection: 'postgres://postgres@127.0.0.1:1/portal' },
    });
    const result = await review([config], 'text');
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /^Reading the users and groups of the catalog failed: .*ECONNREFUSED 127\.0\.0\.1:1\. Check the database settings in .*unreachable\.yaml/,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });
});
