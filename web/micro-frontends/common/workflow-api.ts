import { h } from './dom.js';

/** The states of a request, in the order the engine moves through them. */
export type RequestState =
  | 'submitted'
  | 'approved'
  | 'denied'
  | 'expired'
  | 'cancelled'
  | 'executing'
  | 'succeeded'
  | 'failed';

/** An approver source of a rule: the entity's owners, or the members of a group. */
export type ApproverSource = 'owners' | { group: string };

/** An approval rule as the API returns it, durations in seconds. */
export interface ApprovalRule {
  id: string;
  description?: string;
  autoApprove: boolean;
  /** `minimums`: approvals that must come from one source; absent on rules stored before minimums existed. */
  approvals?: {
    count: number;
    from: ApproverSource[];
    minimums?: Array<{ source: ApproverSource; count: number }>;
  };
  maxDuration?: number;
  reasonRequired: boolean;
  pendingLifetime?: number;
  breakGlass: boolean;
}

/** One approver's decision on a request. */
export interface RequestDecision {
  approver: string;
  decision: 'approve' | 'deny';
  comment: string | null;
  time: string;
}

/** The request object of the request API (docs/api.md, "The request object"). */
export interface WorkflowRequest {
  id: string;
  type: string;
  requester: string;
  entityRef: string | null;
  environment: string | null;
  parameters: Record<string, unknown>;
  reason: string | null;
  state: RequestState;
  ruleId: string | null;
  rule: ApprovalRule | null;
  breakGlass: boolean;
  createdAt: string;
  updatedAt: string;
  expiresAt: string | null;
  attempts: number;
  result: Record<string, unknown> | null;
  approvalsReceived: number;
  approvalsRequired: number;
  decisions: RequestDecision[];
  review: {
    pending: boolean;
    reviewedBy: string | null;
    reviewedAt: string | null;
    comment: string | null;
  } | null;
}

/** A request in the approver's inbox. */
export interface InboxItem extends WorkflowRequest {
  /** True for the caller's own request under a break-glass rule. */
  selfApproval: boolean;
}

/** A break-glass request in the review queue. */
export interface ReviewItem extends WorkflowRequest {
  /** True for the caller's own request, which another reviewer must mark reviewed. */
  ownRequest: boolean;
}

/** A registered request type from GET /api/workflows/types. */
export interface RequestType {
  name: string;
  description: string;
  createPermission: string;
  entity: 'required' | 'optional' | 'none';
  reasonRequired: boolean;
  /** `requester`: the requester collects the result, such as temporary credentials. */
  executor: 'automatic' | 'requester' | null;
  /** JSON Schema of the type's parameters. */
  parameters: JsonSchema;
}

/** The part of JSON Schema that the request form reads. */
export interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

const STATE_LABELS: Record<RequestState, string> = {
  submitted: 'Waiting for approval',
  approved: 'Approved',
  denied: 'Denied',
  expired: 'Expired',
  cancelled: 'Cancelled',
  executing: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
};

/** Renders a badge with the request's state, and the raw state in `data-state` for tests and styles. */
export function renderState(state: RequestState): HTMLElement {
  return h(
    'span',
    { class: `badge request-state state-${state}`, 'data-state': state },
    STATE_LABELS[state] ?? state,
  );
}

/** Formats an ISO 8601 time in the browser's locale, with the exact value as a tooltip. */
export function renderTime(iso: string | null): HTMLElement | string {
  if (!iso) {
    return '–';
  }
  const date = new Date(iso);
  return h('time', { datetime: iso, title: iso }, date.toLocaleString());
}

/** Formats seconds as the largest exact unit, such as 3600 as "1 h" and 90 as "90 s". */
export function formatSeconds(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** Describes who may approve under a rule, such as "1 approval from the owners or group:default/sre-team". */
export function describeRule(rule: ApprovalRule | null): string {
  if (!rule) {
    return 'No rule';
  }
  if (rule.autoApprove) {
    return 'Approved automatically';
  }
  const approvals = rule.approvals;
  if (!approvals) {
    return 'Approval required';
  }
  const name = (source: ApproverSource) =>
    source === 'owners' ? 'the owners of the entity' : source.group;
  const sources = approvals.from.map(name);
  const count = approvals.count === 1 ? '1 approval' : `${approvals.count} approvals`;
  const minimums = (approvals.minimums ?? []).map(
    (minimum) => `${minimum.count} from ${name(minimum.source)}`,
  );
  const atLeast = minimums.length > 0 ? `, at least ${minimums.join(' and ')}` : '';
  const breakGlass = rule.breakGlass ? '; break-glass self-approval allowed' : '';
  return `${count} from ${sources.join(' or ')}${atLeast}${breakGlass}`;
}

/** Renders the rule's id and description with who approves under it. */
export function renderRule(rule: ApprovalRule | null): HTMLElement {
  if (!rule) {
    return h('span', { class: 'muted' }, 'No rule');
  }
  return h(
    'span',
    { class: 'rule', 'data-rule': rule.id },
    h('code', null, rule.id),
    rule.description ? ` – ${rule.description}` : null,
    h('br'),
    h('span', { class: 'muted' }, describeRule(rule)),
  );
}

/** Describes what the request is for, such as "component:default/booking-api → production (version 1.4.2)". */
export function describeTarget(request: WorkflowRequest): string {
  const parameters = request.parameters;
  const parts: string[] = [];
  const subject =
    request.entityRef ??
    stringParameter(parameters, 'account') ??
    stringParameter(parameters, 'role');
  if (subject) {
    parts.push(request.environment ? `${subject} → ${request.environment}` : subject);
  } else if (request.environment) {
    parts.push(request.environment);
  }

  const extras: string[] = [];
  for (const [key, value] of Object.entries(parameters)) {
    if (key === 'entity' || key === 'environment' || key === 'account') continue;
    if (key === 'role' && subject === value) continue;
    if (key === 'durationSeconds' && typeof value === 'number') {
      extras.push(`for ${formatSeconds(value)}`);
      continue;
    }
    extras.push(`${key} ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  if (extras.length > 0) {
    parts.push(`(${extras.join(', ')})`);
  }
  return parts.join(' ');
}

function stringParameter(parameters: Record<string, unknown>, key: string): string | undefined {
  const value = parameters[key];
  return typeof value === 'string' ? value : undefined;
}

/** Renders the approval count and the decisions so far, oldest first, each with its approver and comment. */
export function renderDecisions(request: WorkflowRequest): HTMLElement {
  const summary = `${request.approvalsReceived} of ${request.approvalsRequired} approvals`;
  if (request.decisions.length === 0) {
    return h('span', { class: 'decisions' }, request.approvalsRequired > 0 ? summary : '–');
  }
  return h(
    'div',
    { class: 'decisions' },
    h('span', null, summary),
    h(
      'ul',
      { class: 'decision-list' },
      ...request.decisions.map((decision) =>
        h(
          'li',
          { 'data-decision': decision.decision },
          `${decision.decision === 'approve' ? 'Approved' : 'Denied'} by ${decision.approver}`,
          decision.comment ? `: “${decision.comment}”` : null,
        ),
      ),
    ),
  );
}

/** Renders the executor's stored result: its error, its message or its fields. The API never stores a secret there. */
export function renderResult(request: WorkflowRequest): HTMLElement | string {
  const result = request.result;
  if (!result) {
    return '–';
  }
  if (typeof result.error === 'string') {
    return h('span', { class: 'result-error' }, result.error);
  }
  if (typeof result.message === 'string') {
    return h('span', { class: 'muted' }, result.message);
  }
  return h(
    'ul',
    { class: 'result-fields' },
    ...Object.entries(result).map(([key, value]) =>
      h('li', null, `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`),
    ),
  );
}

/**
 * Describes a failed action for the person who tried it: 409 (the request
 * changed meanwhile), 403 (not allowed), 400 (invalid input) and others.
 */
export function describeFailure(
  result: { status: number; message: string },
  action: string,
): string {
  switch (result.status) {
    case 0:
      return `Could not ${action}: ${result.message}. Try again.`;
    case 401:
      return `Could not ${action}: your session has ended. Reload the page to sign in again.`;
    case 403:
      return `You are not allowed to ${action}: ${result.message}`;
    case 404:
      return `Could not ${action}: the request no longer exists (${result.message}).`;
    case 409:
      return `Could not ${action}, because the request was already decided or has changed: ${result.message}. Reload the list to see its state.`;
    default:
      return `Could not ${action}: the portal answered ${result.status}: ${result.message}`;
  }
}

/** Renders a request's facts as a definition list: type, target, requester, reason, times, rule and approvals. */
export function renderFacts(request: WorkflowRequest): HTMLElement {
  const rows: Array<[string, HTMLElement | string]> = [
    ['Type', request.type],
    ['Target', describeTarget(request)],
    ['Requester', request.requester],
    ['Reason', request.reason ?? '–'],
    ['Submitted', renderTime(request.createdAt)],
    ['State', renderState(request.state)],
    ['Rule', renderRule(request.rule)],
    ['Approvals', renderDecisions(request)],
  ];
  if (request.state === 'submitted' && request.expiresAt) {
    rows.splice(5, 0, ['Expires', renderTime(request.expiresAt)]);
  }
  return h(
    'dl',
    { class: 'facts' },
    ...rows.flatMap(([label, value]) => [h('dt', null, label), h('dd', null, value)]),
  );
}
