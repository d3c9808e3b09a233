/** The workflow tables as Kysely types them. Times are ISO 8601 UTC text, booleans 0 or 1. */
export interface WorkflowTables {
  workflow_requests: WorkflowRequestRow;
  workflow_approvals: WorkflowApprovalRow;
}

export interface WorkflowRequestRow {
  id: string;
  type: string;
  requester: string;
  entity_ref: string | null;
  environment: string | null;
  /** The parsed parameters as JSON. */
  parameters: string;
  reason: string | null;
  state: string;
  rule_id: string | null;
  /** The matching rule as JSON, as it read when the request was submitted. */
  rule: string | null;
  break_glass: number;
  /** 1 while a break-glass request waits for review. */
  review_pending: number;
  reviewed_by: string | null;
  reviewed_at: string | null;
  review_comment: string | null;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  attempts: number;
  /** The secret-free result as JSON. */
  result: string | null;
  /** The replica that executes the request, and the end of its lease. */
  lease_owner: string | null;
  lease_until: string | null;
  /** Earliest time of the next attempt, after a retryable fault. */
  next_attempt_at: string | null;
}

export interface WorkflowApprovalRow {
  request_id: string;
  approver: string;
  decision: 'approve' | 'deny';
  comment: string | null;
  created_at: string;
  /** JSON array of the keys of the rule's sources that the approver belonged to; null before 0002. */
  sources: string | null;
}
