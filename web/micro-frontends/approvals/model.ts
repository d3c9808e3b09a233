import type { WorkflowRequest } from '../common/workflow-api.js';

/** The trigger of a type's executor: the portal at once, the requester, or null for no executor. */
export type ExecutorTrigger = 'automatic' | 'requester' | null;

/**
 * Returns the line that a card shows after its approver decided, from the
 * request that the API returned. A stored message, such as the one for a
 * type without executor, wins over the generic text. `trigger` is undefined
 * when the request types could not be loaded.
 */
export function describeDecisionOutcome(
  decision: 'approve' | 'deny',
  request: WorkflowRequest,
  trigger: ExecutorTrigger | undefined,
): string {
  if (decision === 'deny') {
    return 'You denied this request.';
  }
  if (request.state === 'submitted') {
    return `Your approval is recorded: ${request.approvalsReceived} of ${request.approvalsRequired}. The request waits for more approvals.`;
  }

  const approved = 'You approved this request.';
  const message = request.result?.message;
  if (typeof message === 'string') {
    return `${approved} ${message}`;
  }
  if (request.state !== 'approved') {
    return `${approved} It is ${request.state} now.`;
  }
  if (trigger === 'automatic') {
    return `${approved} The portal runs it now.`;
  }
  if (trigger === 'requester') {
    return `${approved} The requester runs it from the Requests view.`;
  }
  return approved;
}
