import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeDecisionOutcome } from '../../web/micro-frontends/approvals/model.js';
import {
  describeRule,
  type WorkflowRequest,
} from '../../web/micro-frontends/common/workflow-api.js';

/** The line that an Approvals card shows after a decision, from the request the API returned. */

function request(overrides: Partial<WorkflowRequest>): WorkflowRequest {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    type: 'deployment',
    requester: 'user:default/amara.okafor',
    entityRef: 'component:default/booking-api',
    environment: 'production',
    parameters: { version: '1.0.0' },
    reason: null,
    state: 'approved',
    ruleId: 'deploy-production',
    rule: null,
    breakGlass: false,
    createdAt: '2026-12-05T07:00:00.000Z',
    updatedAt: '2026-12-05T07:01:00.000Z',
    expiresAt: null,
    attempts: 0,
    result: null,
    approvalsReceived: 1,
    approvalsRequired: 1,
    decisions: [],
    review: null,
    ...overrides,
  };
}

const MISSING =
  'No executor is registered for deployment requests, so the request stays approved until the portal runs with one: configure workflows.deployment';

const cases: Array<{
  name: string;
  decision: 'approve' | 'deny';
  request: WorkflowRequest;
  trigger: 'automatic' | 'requester' | null | undefined;
  expected: string;
}> = [
  {
    name: 'missing executor shows the stored message',
    decision: 'approve',
    request: request({ result: { message: MISSING } }),
    trigger: null,
    expected: `You approved this request. ${MISSING}`,
  },
  {
    name: 'automatic executor runs it now',
    decision: 'approve',
    request: request({}),
    trigger: 'automatic',
    expected: 'You approved this request. The portal runs it now.',
  },
  {
    name: 'requester executor waits for the requester',
    decision: 'approve',
    request: request({ type: 'aws-credentials' }),
    trigger: 'requester',
    expected: 'You approved this request. The requester runs it from the Requests view.',
  },
  {
    name: 'unknown trigger promises nothing',
    decision: 'approve',
    request: request({}),
    trigger: undefined,
    expected: 'You approved this request.',
  },
  {
    name: 'already running names the state',
    decision: 'approve',
    request: request({ state: 'executing' }),
    trigger: 'automatic',
    expected: 'You approved this request. It is executing now.',
  },
  {
    name: 'partial approval counts from the response',
    decision: 'approve',
    request: request({ state: 'submitted', approvalsReceived: 1, approvalsRequired: 2 }),
    trigger: 'automatic',
    expected: 'Your approval is recorded: 1 of 2. The request waits for more approvals.',
  },
  {
    name: 'denial',
    decision: 'deny',
    request: request({ state: 'denied' }),
    trigger: 'automatic',
    expected: 'You denied this request.',
  },
];

for (const item of cases) {
  test(`decision outcome: ${item.name}`, () => {
    assert.equal(describeDecisionOutcome(item.decision, item.request, item.trigger), item.expected);
  });
}

test('rule description names source minimums', () => {
  const rule = {
    id: 'deploy-personal-data-production',
    autoApprove: false,
    reasonRequired: true,
    breakGlass: false,
    approvals: {
      count: 2,
      from: ['owners' as const, { group: 'group:default/security-team' }],
      minimums: [
        { source: 'owners' as const, count: 1 },
        { source: { group: 'group:default/security-team' }, count: 1 },
      ],
    },
  };
  assert.equal(
    describeRule(rule),
    '2 approvals from the owners of the entity or group:default/security-team, at least 1 from the owners of the entity and 1 from group:default/security-team',
  );
  assert.equal(
    describeRule({ ...rule, approvals: { count: 1, from: ['owners'] } }),
    '1 approval from the owners of the entity',
  );
});
