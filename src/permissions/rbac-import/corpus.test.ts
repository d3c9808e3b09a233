import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import { CORPUS_ROOT } from '../../../test/support/portal.js';
import { catalogPermissionRules, catalogPermissions } from '../../catalog/api/index.js';
import { Policy } from '../policy.js';
import { PermissionRegistry } from '../registry.js';
import { loadRolesFile } from '../roles-file.js';
import type { Principal } from '../types.js';
import { importRbacFiles } from './import-rbac.js';
import { formatImportedRoles } from './roles-yaml.js';

const RBAC_CORPUS = path.join(CORPUS_ROOT, 'rbac');
const folder = mkdtempSync(path.join(tmpdir(), 'rbac-corpus-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const READ = 'catalog.entity.read';
const LOCATIONS = 'catalog.location.read';
const NOT_REGISTERED = /is not registered in this portal/;

interface Decision {
  user: string;
  groups?: string[];
  permission: string;
  resource?: Entity;
  expected: 'ALLOW' | 'DENY';
}

interface CorpusCase {
  /** Corpus file names; a conditional-policy file gets its members from `assignments`. */
  csv?: string;
  conditions?: string;
  /** `g` lines written for the test, for corpus files that assign no members. */
  assignments?: string;
  /** Each error: its line, the YAML document for conditional policies, and the reason. */
  errors: Array<{ line: number; document?: number; reason: RegExp }>;
  /** Lines that get a warning. */
  warnings: number[];
  decisions: Decision[];
}

function ownedBy(name: string, owner: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default' },
    spec: { owner },
    relations: [{ type: 'ownedBy', targetRef: owner }],
  };
}

const showcaseErrors = [1, 7, 8, 12, 13, 14, 17, 18, 19].map((line) => ({
  line,
  reason: NOT_REGISTERED,
}));
const showcaseDecisions: Decision[] = [
  { user: 'user:xyz/user', permission: READ, expected: 'ALLOW' },
  { user: 'user:xyz/user', permission: LOCATIONS, expected: 'ALLOW' },
  { user: 'user:default/rhdh-qe', permission: READ, expected: 'DENY' },
  { user: 'user:default/rhdh-qe', permission: LOCATIONS, expected: 'ALLOW' },
  { user: 'user:default/rhdh-qe-2', permission: LOCATIONS, expected: 'DENY' },
  {
    user: 'user:default/qe',
    groups: ['group:default/rhdh-qe-2-team'],
    permission: READ,
    expected: 'DENY',
  },
];

/** What each file of the RBAC corpus converts to, keyed by its saved name. */
const CASES: Record<string, CorpusCase> = {
  'janus-idp__backstage-showcase__.ibm__pipelines__resources__config_map__rbac-policy.csv': {
    errors: showcaseErrors,
    // role:default/team_a has p lines but no g line, and test2-role has a g line but
    // no p lines. bulk_import has only permissions this portal does not register.
    warnings: [2, 4, 20],
    decisions: showcaseDecisions,
  },
  'Kuadrant__kuadrant-backstage-plugin__e2e-tests__playwright__utils__authentication-providers__yamls__rbac-policy.csv':
    {
      errors: showcaseErrors,
      // As the showcase file, plus transitive-owner, assigned but without p lines.
      warnings: [2, 4, 20, 22],
      decisions: [
        ...showcaseDecisions,
        {
          user: 'user:default/child',
          groups: ['group:default/rhdh-qe-child-team', 'group:default/rhdh-qe-parent-team'],
          permission: READ,
          expected: 'DENY',
        },
      ],
    },
  'PatAKnight__rbac-backend-demo__rbac-policy.csv': {
    errors: [{ line: 4, reason: /permission 'catalog\.entity\.create' is not registered/ }],
    warnings: [],
    decisions: [
      { user: 'user:default/pataknight', permission: READ, expected: 'ALLOW' },
      { user: 'user:default/pataknight', permission: LOCATIONS, expected: 'DENY' },
      { user: 'user:default/someone-else', permission: READ, expected: 'DENY' },
    ],
  },
  'backstage__community-plugins__workspaces__rbac__examples__rbac-policy.csv': {
    errors: [4, 5, 6, 7, 8, 13, 14, 15, 16, 18, 19, 20, 21].map((line) => ({
      line,
      reason: NOT_REGISTERED,
    })),
    warnings: [],
    decisions: [
      { user: 'user:default/guest', permission: READ, expected: 'ALLOW' },
      { user: 'user:default/xyz', permission: READ, expected: 'ALLOW' },
      {
        user: 'user:default/ann',
        groups: ['group:default/admins'],
        permission: READ,
        expected: 'ALLOW',
      },
      { user: 'user:default/ann', permission: READ, expected: 'DENY' },
      { user: 'user:default/guest', permission: LOCATIONS, expected: 'DENY' },
    ],
  },
  'backstage__community-plugins__workspaces__rbac__plugins__rbac-backend____fixtures____data__hierarchy__rbac-policy.csv':
    {
      // Every scenario of this file is checked against the catalog in hierarchy.test.ts.
      errors: [],
      warnings: [],
      decisions: [
        { user: 'user:default/ant_man', permission: READ, expected: 'ALLOW' },
        { user: 'user:default/hulk', permission: READ, expected: 'DENY' },
        { user: 'user:default/psylocke', permission: READ, expected: 'ALLOW' },
        {
          user: 'user:default/cable',
          groups: ['group:default/cable_group_0'],
          permission: READ,
          expected: 'ALLOW',
        },
      ],
    },
  'backstage__community-plugins__workspaces__rbac__plugins__rbac-backend____fixtures____data__invalid-csv__malformed-unquoted-quote.csv':
    {
      errors: [{ line: 2, reason: /not valid CSV: field 3 'catalog-entity"fuzz'/ }],
      warnings: [],
      decisions: [{ user: 'user:default/alice', permission: READ, expected: 'ALLOW' }],
    },
  'backstage__community-plugins__workspaces__rbac__plugins__rbac-backend____fixtures____data__valid-csv__uppercase-policy.csv':
    {
      errors: [{ line: 2, reason: /permission 'test\.resource\.deny' is not registered/ }],
      // known_role is assigned, but its one permission does not exist here.
      warnings: [4],
      decisions: [
        { user: 'user:default/tom', permission: READ, expected: 'ALLOW' },
        { user: 'user:default/TOM', permission: READ, expected: 'ALLOW' },
        {
          user: 'user:default/reader',
          groups: ['group:default/reader-group'],
          permission: READ,
          expected: 'ALLOW',
        },
        { user: 'user:default/known_user', permission: READ, expected: 'DENY' },
      ],
    },
  'backstage__community-plugins__workspaces__rbac__plugins__rbac-backend____fixtures____data__valid-conditions__conditions.yaml':
    {
      assignments: 'g, user:default/ada, role:default/test\n',
      // This portal registers no update or delete permission for catalog entities.
      errors: [
        { line: 7, document: 0, reason: /no permission with action 'update'/ },
        { line: 21, document: 1, reason: /no permission with action 'delete'/ },
      ],
      warnings: [],
      decisions: [
        {
          user: 'user:default/ada',
          permission: READ,
          resource: ownedBy('a', 'group:default/team-a'),
          expected: 'ALLOW',
        },
        {
          user: 'user:default/ada',
          permission: READ,
          resource: ownedBy('b', 'group:default/team-b'),
          expected: 'ALLOW',
        },
        {
          user: 'user:default/ada',
          permission: READ,
          resource: ownedBy('c', 'group:default/team-c'),
          expected: 'DENY',
        },
        {
          user: 'user:default/bob',
          permission: READ,
          resource: ownedBy('a', 'group:default/team-a'),
          expected: 'DENY',
        },
      ],
    },
  'backstage__community-plugins__workspaces__rbac__plugins__rbac-backend____fixtures____data__valid-conditions__extra-delimiter-conditions.yaml':
    {
      assignments:
        'g, user:default/ada, role:default/test-3\ng, user:default/bob, role:default/test-2\n',
      errors: [
        { line: 7, document: 0, reason: /no permission with action 'update'/ },
        { line: 21, document: 1, reason: /no permission with action 'delete'/ },
      ],
      warnings: [],
      decisions: [
        {
          user: 'user:default/ada',
          permission: READ,
          resource: ownedBy('b', 'group:default/team-b'),
          expected: 'ALLOW',
        },
        {
          user: 'user:default/bob',
          permission: READ,
          resource: ownedBy('a', 'group:default/team-a'),
          expected: 'DENY',
        },
      ],
    },
};

function createRegistry(): PermissionRegistry {
  const registry = new PermissionRegistry();
  registry.registerPermissions(...catalogPermissions);
  registry.registerRules(...catalogPermissionRules);
  return registry;
}

function principal(user: string, groups: string[] = []): Principal {
  return { userEntityRef: user, groupEntityRefs: groups, ownershipEntityRefs: [user, ...groups] };
}

describe('RBAC corpus import', () => {
  test('every corpus file has a case', () => {
    const files = readdirSync(RBAC_CORPUS).filter((file) => file !== 'SOURCES.tsv');

    assert.deepEqual(files.sort(), Object.keys(CASES).sort());
  });

  for (const [name, corpusCase] of Object.entries(CASES)) {
    describe(name, () => {
      const registry = createRegistry();
      const file = path.join(RBAC_CORPUS, name);
      const isConditions = name.endsWith('.yaml');
      let csv = file;
      if (isConditions) {
        csv = path.join(folder, `${name}.csv`);
        writeFileSync(csv, corpusCase.assignments ?? '');
      }
      const result = importRbacFiles(isConditions ? { csv, conditions: file } : { csv }, registry);
      const issuesOf = (severity: string) =>
        result.issues.filter(
          (issue) => issue.severity === severity && issue.file === (isConditions ? file : csv),
        );

      test('explains each line not converted', () => {
        const errors = issuesOf('error');
        assert.deepEqual(
          errors.map((issue) => [issue.line, issue.document]),
          corpusCase.errors.map((error) => [error.line, error.document]),
        );
        corpusCase.errors.forEach((expected, index) => {
          assert.match(errors[index]?.message ?? '', expected.reason);
        });
      });

      test('warns where decisions need a look', () => {
        assert.deepEqual(
          issuesOf('warning').map((issue) => issue.line),
          corpusCase.warnings,
        );
      });

      test('authorizes the listed users', () => {
        const output = path.join(folder, `${name}.roles.yaml`);
        writeFileSync(output, formatImportedRoles(result, [csv]));
        const policy = new Policy(loadRolesFile(output, registry), registry);

        for (const decision of corpusCase.decisions) {
          const actual = policy.authorize(
            principal(decision.user, decision.groups),
            decision.permission,
            decision.resource,
          ).result;
          assert.equal(
            actual,
            decision.expected,
            `${decision.user} ${decision.permission} ${decision.resource?.metadata.name ?? ''}`,
          );
        }
      });
    });
  }
});
