import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lintRolesFile } from './lint.js';
import { ANY_MEMBER_REF, buildOrganisation, principalOfGroupMember } from './organisation.js';
import { formatPolicyPlan, planPolicyChange } from './plan.js';
import { Policy } from './policy.js';
import { PermissionRegistry } from './registry.js';
import { parseRolesFile } from './roles-file.js';
import { isKind } from './test-registry.js';

function createRegistry(): PermissionRegistry {
  const registry = new PermissionRegistry();
  registry.registerPermissions(
    { name: 'item.read', resourceType: 'item', action: 'read', description: 'Read items' },
    { name: 'item.delete', resourceType: 'item', action: 'delete', description: 'Delete items' },
    { name: 'report.use', action: 'use', description: 'Run reports' },
  );
  registry.registerRules(isKind);
  return registry;
}

// engineering ⊃ team-a, team-b; 60 users in team-a so engineering is large.
const organisation = buildOrganisation({
  groups: [
    { ref: 'group:default/engineering', parentRefs: [] },
    { ref: 'group:default/team-a', parentRefs: ['group:default/engineering'] },
    { ref: 'group:default/team-b', parentRefs: ['group:default/engineering'] },
  ],
  users: [
    { ref: 'user:default/ada', groupRefs: ['group:default/team-a'] },
    { ref: 'user:default/bob', groupRefs: ['group:default/team-b'] },
    ...Array.from({ length: 58 }, (_, index) => ({
      ref: `user:default/u${index}`,
      groupRefs: ['group:default/team-a'],
    })),
  ],
});

function lint(lines: string[]) {
  return lintRolesFile('roles.yaml', `${lines.join('\n')}\n`, {
    registry: createRegistry(),
    organisation,
  });
}

describe('policy lint', () => {
  test('reports schema faults as errors', () => {
    const report = lint([
      'roles:',
      '  - name: r',
      '    members: [user:ada]',
      '    grants: [{ permission: item.write }]',
    ]);
    assert.equal(report.errors, 1);
    assert.equal(report.findings[0]?.code, 'invalid-roles-file');
    assert.match(report.findings[0]?.path ?? '', /^roles\.yaml:4: /);
  });

  test('reports each kind of warning once', () => {
    const report = lint([
      'roles:',
      '  - name: lonely',
      '    grants: [{ permission: report.use }]',
      '  - name: ghosts',
      '    members: [user:nobody, group:no-such-team]',
      '    grants: [{ permission: report.use }]',
      '  - name: readers',
      '    members: [group:team-b]',
      '    grants: [{ permission: item.read }]',
      '  - name: no-read',
      '    members: [user:bob]',
      '    grants: [{ permission: item.read, effect: deny }]',
      '  - name: cleaners',
      '    members: [group:engineering]',
      '    grants: [{ permission: item.delete }]',
      '  - name: root',
      '    members: [user:ada]',
      "    grants: [{ permission: '*', acknowledgeWildcard: true }]",
      '  - name: everyone',
      '    allSignedInUsers: true',
      '    grants: [{ permission: item.delete, conditions: { rule: IS_KIND, params: { kinds: [tmp] } } }]',
    ]);

    const summary = report.findings.map((finding) => `${finding.code} ${finding.path}`);
    assert.equal(report.errors, 0, summary.join('\n'));
    assert.deepEqual(summary, [
      'role-without-members roles.yaml:2: roles[0]',
      'unknown-member roles.yaml:5: roles[1].members[0]',
      'unknown-member roles.yaml:5: roles[1].members[1]',
      'broad-admin-grant roles.yaml:15: roles[4].grants[0]',
      'wildcard-grant roles.yaml:18: roles[5].grants[0]',
      'shadowed-grant roles.yaml:9: roles[2].grants[0]',
    ]);
    const broad = report.findings.find((finding) => finding.code === 'broad-admin-grant');
    assert.match(
      broad?.message ?? '',
      /item\.delete without conditions to group:default\/engineering/,
    );
  });
});

describe('policy plan', () => {
  const registry = createRegistry();
  const policyOf = (lines: string[]) =>
    new Policy(parseRolesFile('roles.yaml', `${lines.join('\n')}\n`, registry), registry);
  const before = policyOf([
    'roles:',
    '  - name: readers',
    '    members: [group:engineering]',
    '    grants: [{ permission: item.read, conditions: { rule: IS_KIND, params: { kinds: [box] } } }]',
    '  - name: reporters',
    '    members: [user:bob]',
    '    grants: [{ permission: report.use }]',
  ]);
  const after = policyOf([
    'roles:',
    '  - name: readers',
    '    members: [group:engineering]',
    '    grants: [{ permission: item.read, conditions: { rule: IS_KIND, params: { kinds: [box, crate] } } }]',
    '  - name: cleaners',
    '    members: [group:team-a]',
    '    grants: [{ permission: item.delete }]',
  ]);
  const plan = planPolicyChange(before, after, {
    registry,
    organisation,
    transitiveGroupOwnership: true,
  });

  test('lists gains, losses and changes per user', () => {
    const ada = plan.users.find((subject) => subject.subject === 'user:default/ada');
    assert.deepEqual(
      ada?.gained.map((change) => [change.permission, change.after.result]),
      [['item.delete', 'ALLOW']],
    );
    assert.deepEqual(ada?.lost, []);
    assert.deepEqual(
      ada?.changed.map((change) => change.permission),
      ['item.read'],
    );

    const bob = plan.users.find((subject) => subject.subject === 'user:default/bob');
    assert.deepEqual(bob?.gained, []);
    assert.deepEqual(
      bob?.lost.map((change) => change.permission),
      ['report.use'],
    );
    assert.equal(plan.usersCompared, 60);
  });

  test('lists what membership of each group grants', () => {
    const groups = Object.fromEntries(
      plan.groups.map((subject) => [
        subject.subject,
        subject.gained.map((change) => change.permission),
      ]),
    );
    assert.deepEqual(groups, {
      'group:default/engineering': [],
      'group:default/team-a': ['item.delete'],
      'group:default/team-b': [],
    });
  });

  test('prints one line per change', () => {
    const text = formatPolicyPlan(plan);
    assert.match(text, /^User user:default\/bob\n {2}- report\.use \(held on every resource\)$/m);
    assert.match(
      text,
      /^ {2}~ item\.read where IS_KIND\(kinds=\["box","crate"\]\) \(was where IS_KIND\(kinds=\["box"\]\)\)$/m,
    );
    assert.match(text, /Changes for 60 of 60 users and 3 of 3 groups\.\n$/);
  });
});

describe('group member principal', () => {
  test('owns through ancestors only when transitive', () => {
    const transitive = principalOfGroupMember(organisation, 'group:default/team-a', true);
    const direct = principalOfGroupMember(organisation, 'group:default/Team-A', false);

    assert.deepEqual(transitive.ownershipEntityRefs, [
      ANY_MEMBER_REF,
      'group:default/team-a',
      'group:default/engineering',
    ]);
    assert.deepEqual(direct.ownershipEntityRefs, [ANY_MEMBER_REF, 'group:default/team-a']);
    assert.deepEqual(direct.groupEntityRefs, transitive.groupEntityRefs);
  });
});
