import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../errors/index.js';
import { unmetMinimums } from './approvers.js';
import { type ApproverMinimum, parseApprovalRules } from './rules-file.js';

/** Per-source minimum approvals: how rules files write them and how approvals meet them. */

const SECURITY = 'group:default/security-team';
const OWNERS_AND_SECURITY: ApproverMinimum[] = [
  { source: 'owners', count: 1 },
  { source: { group: SECURITY }, count: 1 },
];

const cases: Array<{
  name: string;
  minimums: ApproverMinimum[];
  approvals: string[][];
  missing: Record<string, number>;
}> = [
  {
    name: 'two owners leave security missing',
    minimums: OWNERS_AND_SECURITY,
    approvals: [['owners'], ['owners']],
    missing: { [SECURITY]: 1 },
  },
  {
    name: 'owner and security meet both',
    minimums: OWNERS_AND_SECURITY,
    approvals: [['owners'], [SECURITY]],
    missing: {},
  },
  {
    name: 'one person in both sources counts once',
    minimums: OWNERS_AND_SECURITY,
    approvals: [['owners', SECURITY]],
    missing: { [SECURITY]: 1 },
  },
  {
    name: 'an earlier approver moves to fill a later need',
    minimums: OWNERS_AND_SECURITY,
    approvals: [['owners', SECURITY], ['owners']],
    missing: {},
  },
  {
    name: 'approvals before sources were stored count for none',
    minimums: OWNERS_AND_SECURITY,
    approvals: [[], []],
    missing: { owners: 1, [SECURITY]: 1 },
  },
  {
    name: 'a minimum of two needs two people',
    minimums: [{ source: { group: SECURITY }, count: 2 }],
    approvals: [[SECURITY], ['owners']],
    missing: { [SECURITY]: 1 },
  },
  {
    name: 'no minimums are always met',
    minimums: [],
    approvals: [],
    missing: {},
  },
];

for (const item of cases) {
  test(`unmet minimums: ${item.name}`, () => {
    const unmet = unmetMinimums(item.minimums, item.approvals);
    const missing = Object.fromEntries(
      unmet.map((entry) => [
        entry.source === 'owners' ? 'owners' : entry.source.group,
        entry.missing,
      ]),
    );
    assert.deepEqual(missing, item.missing);
  });
}

function parseRule(approvals: string) {
  const text = [
    'rules:',
    '  - id: personal-data',
    '    match: { types: [deployment] }',
    `    approvals: ${approvals}`,
  ].join('\n');
  return parseApprovalRules('rules.yaml', text, ['deployment']).rules[0]?.approvals;
}

test('rules file reads source minimums', () => {
  const approvals = parseRule(
    '{ from: [{ owners: true, min: 1 }, { group: security-team, min: 1 }] }',
  );
  assert.deepEqual(approvals, {
    count: 2,
    from: ['owners', { group: SECURITY }],
    minimums: OWNERS_AND_SECURITY,
  });
});

test('rules file keeps plain sources', () => {
  const approvals = parseRule('{ count: 2, from: [owners, { group: security-team }] }');
  assert.deepEqual(approvals, {
    count: 2,
    from: ['owners', { group: SECURITY }],
    minimums: [],
  });
  assert.equal(parseRule('{ from: [owners] }')?.count, 1);
});

test('rules file rejects count below the minimums', () => {
  assert.throws(
    () =>
      parseRule('{ count: 1, from: [{ owners: true, min: 1 }, { group: security-team, min: 1 }] }'),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.details.some((detail) =>
        /count 1 is less than the 2 approvals that the sources' min values need/.test(
          detail.message,
        ),
      ),
  );
  assert.throws(() => parseRule('{ from: [{ owners: false }] }'), ConfigError);
  assert.throws(() => parseRule('{ from: [{ group: security-team, min: 0 }] }'), ConfigError);
});
