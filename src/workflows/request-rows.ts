import type { Kysely } from 'kysely';
import type { ApprovalRule } from './rules-file.js';
import type { WorkflowApprovalRow, WorkflowRequestRow, WorkflowTables } from './tables.js';
import type { RequestState, WorkflowRequest } from './types.js';

/** One approver's decision on a request. */
export interface RequestDecision {
  approver: string;
  decision: 'approve' | 'deny';
  comment: string | null;
  /** ISO 8601 UTC. */
  time: string;
}

/** Review of a break-glass request: pending until someone with request.review marks it. */
export interface RequestReview {
  pending: boolean;
  reviewedBy: string | null;
  reviewedAt: string | null;
  comment: string | null;
}

/** A request with what the API shows beside it: the rule that matched, decisions and review. */
export interface RequestDetails extends WorkflowRequest {
  environment: string | null;
  /** The matching rule as it read at submission, durations in seconds. */
  rule: ApprovalRule | null;
  /** Approvals counted so far and approvals needed; 0 needed for an auto-approved request. */
  approvalsReceived: number;
  approvalsRequired: number;
  decisions: RequestDecision[];
  review: RequestReview | null;
}

export type WorkflowDatabase = Kysely<WorkflowTables>;

export function toWorkflowRequest(row: WorkflowRequestRow): WorkflowRequest {
  return {
    id: row.id,
    type: row.type,
    requester: row.requester,
    entityRef: row.entity_ref,
    parameters: JSON.parse(row.parameters) as Record<string, unknown>,
    reason: row.reason,
    state: row.state as RequestState,
    ruleId: row.rule_id,
    breakGlass: row.break_glass === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
    attempts: row.attempts,
    result: row.result === null ? null : (JSON.parse(row.result) as Record<string, unknown>),
  };
}

export function ruleOfRow(row: WorkflowRequestRow): ApprovalRule | null {
  return row.rule === null ? null : (JSON.parse(row.rule) as ApprovalRule);
}

export function toRequestDetails(
  row: WorkflowRequestRow,
  approvals: readonly WorkflowApprovalRow[],
): RequestDetails {
  const rule = ruleOfRow(row);
  return {
    ...toWorkflowRequest(row),
    environment: row.environment,
    rule,
    approvalsReceived: approvals.filter((approval) => approval.decision === 'approve').length,
    approvalsRequired: rule?.approvals?.count ?? 0,
    decisions: approvals.map((approval) => ({
      approver: approval.approver,
      decision: approval.decision,
      comment: approval.comment,
      time: approval.created_at,
    })),
    review:
      row.break_glass === 1
        ? {
            pending: row.review_pending === 1,
            reviewedBy: row.reviewed_by,
            reviewedAt: row.reviewed_at,
            comment: row.review_comment,
          }
        : null,
  };
}

export async function findRequestRow(
  db: WorkflowDatabase,
  id: string,
): Promise<WorkflowRequestRow | undefined> {
  return await db
    .selectFrom('workflow_requests')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Loads the decisions of the requests, oldest first, grouped by request id. */
export async function findApprovals(
  db: WorkflowDatabase,
  ids: readonly string[],
): Promise<Map<string, WorkflowApprovalRow[]>> {
  const grouped = new Map<string, WorkflowApprovalRow[]>();
  if (ids.length === 0) {
    return grouped;
  }
  const rows = await db
    .selectFrom('workflow_approvals')
    .selectAll()
    .where('request_id', 'in', [...ids])
    .orderBy('created_at')
    .orderBy('approver')
    .execute();
  for (const row of rows) {
    const list = grouped.get(row.request_id) ?? [];
    list.push(row);
    grouped.set(row.request_id, list);
  }
  return grouped;
}

/** Loads rows with their decisions as RequestDetails, in the order given. */
export async function withDecisions(
  db: WorkflowDatabase,
  rows: readonly WorkflowRequestRow[],
): Promise<RequestDetails[]> {
  const approvals = await findApprovals(
    db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => toRequestDetails(row, approvals.get(row.id) ?? []));
}
