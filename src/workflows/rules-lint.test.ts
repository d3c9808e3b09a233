import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../test/support/portal.js';
import { ConfigError } from '../errors/index.js';
import { buildOrganisation } from '../permissions/organisation.js';
import { parseApprovalRules } from './rules-file.js';
import { lintApprovalRules } from './rules-lint.js';
import { formatRulesPlan, planApprovalRules } from './rules-plan.js';
import { approvalRulesJsonSchema } from './rules-schema.js';

const TYPES = ['aws-credentials', 'deployment', 'role-elevation'];

const organisation = buildOrganisation({
  users: [
    { ref: 'user:default/ines', groupRefs: ['group:default/sre-team'] },
    { ref: 'user:default/mateo', groupRefs: ['group:default/sre-team'] },
    { ref: 'user:default/sofia', groupRefs: ['group:default/platform-team'] },
  ],
  groups: [
    { ref: 'group:default/sre-team', parentRefs: [] },
    { ref: 'group:default/platform-team', parentRefs: [] },
    { ref: 'group:default/empty-team', parentRefs: [] },
  ],
});

const lint = (text: string) =>
  lintApprovalRules('rules.yaml', text, { knownTypes: TYPES, organisation });

test('example rules lint clean', () => {
  const file = path.join(PROJECT_ROOT, 'examples', 'approval-rules.yaml');
  const report = lintApprovalRules(file, readFileSync(file, 'utf8'), {
    knownTypes: TYPES,
    organisation: buildOrganisation({
      users: [],
      groups: ['sre-team', 'security-team', 'platform-team'].map((name) => ({
        ref: `group:default/${name}`,
        parentRefs: [],
      })),
    }),
  });
  assert.equal(report.errors, 0, JSON.stringify(report.findings));
});

test('unknown request type is an error', () => {
  const report = lint('rules:\n  - id: a\n    match: { types: [coffee] }\n    autoApprove: true\n');
  assert.equal(report.errors, 1);
  assert.match(report.findings[0]?.message ?? '', /unknown request type 'coffee'/);
  assert.match(report.findings[0]?.path ?? '', /rules\.yaml:3/);
});

test('group smaller than its min is an error', () => {
  const report = lint(
    [
      'rules:',
      '  - id: a',
      '    approvals: { from: [{ group: sre-team, min: 3 }] }',
      '  - id: b',
      '    approvals: { from: [{ owners: true, min: 1 }, { group: sre-team, min: 2 }] }',
    ].join('\n'),
  );
  assert.equal(report.errors, 1, JSON.stringify(report.findings));
  const finding = report.findings.find((item) => item.severity === 'error');
  assert.equal(finding?.rule, 'a');
  assert.match(finding?.message ?? '', /group:default\/sre-team has 2 users, fewer than its min 3/);
});

test('missing and empty groups', () => {
  const report = lint(
    [
      'rules:',
      '  - id: a',
      '    approvals: { from: [{ group: ghost-team }] }',
      '  - id: b',
      '    approvals: { from: [{ group: empty-team }] }',
    ].join('\n'),
  );
  const messages = report.findings.map((finding) => `${finding.severity} ${finding.message}`);
  assert.ok(
    messages.some((message) =>
      /^error approver group group:default\/ghost-team is not in the catalog/.test(message),
    ),
  );
  assert.ok(
    messages.some((message) =>
      /^warning approver group group:default\/empty-team has no users/.test(message),
    ),
  );
});

test('shadowed and empty rules never match', () => {
  const report = lint(
    [
      'rules:',
      '  - id: all-deployments',
      '    match: { types: [deployment] }',
      '    approvals: { from: [owners] }',
      '  - id: production',
      '    match: { types: [deployment], environments: [production] }',
      '    autoApprove: true',
      '  - id: nothing',
      '    match: { environments: [] }',
      '    autoApprove: true',
      '  - id: rest',
      '    autoApprove: true',
    ].join('\n'),
  );
  const byRule = new Map(report.findings.map((finding) => [finding.rule, finding.message]));
  assert.match(byRule.get('production') ?? '', /earlier rule all-deployments/);
  assert.match(byRule.get('nothing') ?? '', /empty list/);
  assert.equal(byRule.get('rest'), undefined);
});

test('owner-only rule does not shadow', () => {
  const report = lint(
    [
      'rules:',
      '  - id: owners',
      '    match: { types: [deployment], requesterOwnsEntity: true }',
      '    autoApprove: true',
      '  - id: others',
      '    match: { types: [deployment] }',
      '    approvals: { from: [owners] }',
      '  - id: rest',
      '    approvals: { from: [owners] }',
    ].join('\n'),
  );
  assert.equal(report.findings.length, 0, JSON.stringify(report.findings));
});

test('uncovered type is a warning', () => {
  const report = lint(
    'rules:\n  - id: a\n    match: { types: [deployment] }\n    autoApprove: true\n',
  );
  assert.equal(report.warnings, 2);
});

test('bad rule shapes name the field', () => {
  const cases: Array<[string, RegExp]> = [
    ['rules:\n  - id: a\n', /either autoApprove: true or approvals/],
    [
      'rules:\n  - id: a\n    autoApprove: true\n    breakGlass: true\n',
      /breakGlass needs approvals/,
    ],
    ['rules:\n  - id: a\n    autoApprove: true\n    maxDuration: 1w\n', /unit s, m, h or d/],
    ['rules:\n  - id: a\n    autoApprove: true\n  - id: a\n    autoApprove: true\n', /used twice/],
    ['rules:\n  - id: a\n    autoApprove: true\n    colour: red\n', /unknown key 'colour'/],
  ];
  for (const [text, expected] of cases) {
    assert.throws(
      () => parseApprovalRules('rules.yaml', text, TYPES),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.details.map((detail) => detail.message).join('\n'), expected);
        return true;
      },
    );
  }
});

test('durations parse to seconds', () => {
  const rules = parseApprovalRules(
    'rules.yaml',
    'rules:\n  - id: a\n    approvals: { from: [owners] }\n    maxDuration: 90m\n    pendingLifetime: 3600\n',
    TYPES,
  );
  assert.equal(rules.rules[0]?.maxDuration, 5400);
  assert.equal(rules.rules[0]?.pendingLifetime, 3600);
});

test('plan shows approvers gained and lost', () => {
  const from = parseApprovalRules(
    'old.yaml',
    [
      'rules:',
      '  - id: prod',
      '    approvals: { from: [{ group: sre-team }] }',
      '  - id: gone',
      '    autoApprove: true',
    ].join('\n'),
    TYPES,
  );
  const to = parseApprovalRules(
    'new.yaml',
    [
      'rules:',
      '  - id: prod',
      '    approvals: { count: 2, from: [{ group: platform-team }] }',
      '  - id: fresh',
      '    autoApprove: true',
      '    maxDuration: 1h',
    ].join('\n'),
    TYPES,
  );
  const plan = planApprovalRules(from, to, organisation);
  const prod = plan.changes.find((change) => change.rule === 'prod');
  assert.deepEqual(prod?.approversGained, ['user:default/sofia']);
  assert.deepEqual(prod?.approversLost, ['user:default/ines', 'user:default/mateo']);
  assert.equal(plan.changes.find((change) => change.rule === 'gone')?.change, 'removed');
  assert.equal(plan.changes.find((change) => change.rule === 'fresh')?.change, 'added');
  const text = formatRulesPlan(plan);
  assert.match(
    text,
    /1 approval from group:default\/sre-team -> 2 approvals from group:default\/platform-team/,
  );
  assert.match(text, /auto-approve, at most 1h/);
});

test('plan shows a new source minimum', () => {
  const rules = (approvals: string) =>
    parseApprovalRules(
      'rules.yaml',
      ['rules:', '  - id: prod', `    approvals: ${approvals}`].join('\n'),
      TYPES,
    );
  const plan = planApprovalRules(
    rules('{ count: 2, from: [owners, { group: sre-team }] }'),
    rules('{ count: 2, from: [owners, { group: sre-team, min: 1 }] }'),
    organisation,
  );
  assert.equal(plan.changes.length, 1);
  assert.match(
    formatRulesPlan(plan),
    /2 approvals from the owners or group:default\/sre-team -> 2 approvals from the owners or group:default\/sre-team \(at least 1 from group:default\/sre-team\)/,
  );
});

test('published JSON Schema is current', () => {
  const published = JSON.parse(
    readFileSync(path.join(PROJECT_ROOT, 'docs', 'approval-rules.schema.json'), 'utf8'),
  ) as unknown;
  assert.deepEqual(published, approvalRulesJsonSchema());
});
