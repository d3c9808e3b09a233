import { randomUUID } from 'node:crypto';
import type { Entity } from '@backstage/catalog-model';
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type {
  AuditEvent,
  AuditExecutor,
  AuditRecord,
  AuditRequestContext,
} from '../audit/index.js';
import { CATALOG_ENTITY_READ } from '../catalog/api/index.js';
import { detailsFromZodIssues } from '../config/index.js';
import type { DatabaseHandle } from '../database/index.js';
import { ConflictError, InputError, NotAllowedError, NotFoundError } from '../errors/index.js';
import type { Principal } from '../permissions/index.js';
import {
  approvalWouldCount,
  checkApprover,
  type RequestAuthorizer,
  sourceKey,
  unmetMinimums,
} from './approvers.js';
import { formatDuration } from './duration.js';
import { missingExecutorResult } from './missing-executor.js';
import { approvePermissionOf, REQUEST_REVIEW } from './permissions.js';
import type { AnyRequestType, WorkflowRegistry } from './registry.js';
import {
  findApprovals,
  findRequestRow,
  type RequestDetails,
  ruleOfRow,
  toRequestDetails,
  toWorkflowRequest,
  type WorkflowDatabase,
  withDecisions,
} from './request-rows.js';
import { findMatchingRule } from './rule-matching.js';
import type { ApprovalRule, ApprovalRulesFile } from './rules-file.js';
import type { WorkflowRequestRow, WorkflowTables } from './tables.js';
import type {
  RequestNotificationKind,
  RequestNotifier,
  RequestState,
  WorkflowRequest,
} from './types.js';

/** The actor of transitions that no user makes: expiry and execution. */
export const ENGINE_ACTOR = 'service:request-engine';

/** Maximum length of a reason or comment, in characters. */
export const MAX_TEXT_LENGTH = 2000;

/** Maximum number of requests one list returns. */
export const MAX_LIST_LIMIT = 200;

/** Appends audit records inside a transaction; the portal's audit trail. */
export interface RequestAuditTrail {
  append(executor: AuditExecutor, event: AuditEvent): Promise<AuditRecord>;
}

export interface RequestEngineOptions {
  database: DatabaseHandle;
  registry: WorkflowRegistry;
  permissions: RequestAuthorizer;
  audit: RequestAuditTrail;
  /** The approval rules in force; called for each request, so a reload applies at once. */
  rules(): ApprovalRulesFile;
  /** The rules file, for messages. */
  rulesFile: string;
  /** Finds a catalog entity by its lowercase reference, with its relations. */
  loadEntity(ref: string): Promise<Entity | undefined>;
  notifier?: RequestNotifier | undefined;
  logger: Logger;
  /** Called after a transaction that approved a request committed. */
  onApproved?: (request: WorkflowRequest) => void;
  now?: () => Date;
}

/** The body of a create call. */
export interface CreateRequestInput {
  type: string;
  parameters: unknown;
  reason?: string | undefined;
}

/** A submitted request that the caller may approve, with the rule that applies. */
export interface InboxItem extends RequestDetails {
  /** Whether the caller may approve it as a break-glass self-approval (the caller is the requester). */
  selfApproval: boolean;
}

/** A break-glass request of the review queue. */
export interface ReviewItem extends RequestDetails {
  /** Whether the caller requested it, so another reviewer must mark it reviewed. */
  ownRequest: boolean;
}

export interface ListQuery {
  states?: RequestState[] | undefined;
  limit?: number | undefined;
}

/**
 * The request engine: creates requests, records decisions, cancels, expires
 * and reviews them. Every state change is one transaction with a conditional
 * UPDATE on the current state and its audit record, so concurrent callers
 * get exactly one outcome.
 */
export class RequestEngine {
  private readonly db: WorkflowDatabase;
  private readonly now: () => Date;

  constructor(private readonly options: RequestEngineOptions) {
    this.db = options.database.db as Kysely<WorkflowTables>;
    this.now = options.now ?? (() => new Date());
  }

  get registry(): WorkflowRegistry {
    return this.options.registry;
  }

  /** Validates, authorises and stores a new request; auto-approves it under an auto-approve rule. */
  async create(
    principal: Principal,
    input: CreateRequestInput,
    context?: AuditRequestContext,
  ): Promise<RequestDetails> {
    const type = this.requireType(input.type);
    const parsed = type.parameters.safeParse(input.parameters ?? {});
    if (!parsed.success) {
      throw new InputError(`The parameters of the ${type.name} request are invalid`, {
        details: detailsFromZodIssues(parsed.error.issues, input.parameters, (path) =>
          ['parameters', ...path].map(String).join('.'),
        ),
      });
    }
    const parameters = parsed.data as Record<string, unknown>;
    this.options.registry.getExecutor(type.name)?.checkParameters?.(parameters);
    const reason = normalizeText(input.reason, 'reason');

    const entityRef = type.entityRef(parameters);
    const entity = entityRef ? await this.loadReadableEntity(principal, entityRef) : undefined;
    if (entityRef && !entity) {
      // An entity the caller may not read gets the same error as a missing
      // one, as in the catalog API, so no request can probe the catalog.
      throw new InputError(`Entity ${entityRef} is not in the catalog or you may not read it`, {
        details: [
          {
            path: 'parameters.entity',
            value: entityRef,
            message:
              'not found: use the reference of a catalog entity that you can see in the catalog, such as component:default/booking-api',
          },
        ],
      });
    }

    const decision = this.options.permissions.authorize(principal, type.createPermission, entity);
    if (decision.result !== 'ALLOW') {
      await this.recordDenial(principal, type.createPermission, entityRef ?? type.name, context, {
        type: type.name,
      });
      throw new NotAllowedError(
        `Permission ${type.createPermission} is not granted to ${principal.userEntityRef}${entityRef ? ` for ${entityRef}` : ''}`,
      );
    }

    const environment = type.environment(parameters);
    const rule = findMatchingRule(this.options.rules(), {
      type: type.name,
      environment,
      entity,
      requester: principal,
    });
    if (!rule) {
      throw new InputError(
        `No approval rule matches this ${type.name} request${environment ? ` for environment ${environment}` : ''}${entityRef ? ` of ${entityRef}` : ''}, so it is rejected: ask a platform engineer to add a rule to ${this.options.rulesFile}`,
        { code: 'REQUEST_NO_RULE' },
      );
    }
    this.checkAgainstRule(type, rule, parameters, reason);

    const now = this.now();
    const row: WorkflowRequestRow = {
      id: randomUUID(),
      type: type.name,
      requester: principal.userEntityRef,
      entity_ref: entityRef ?? null,
      environment: environment ?? null,
      parameters: JSON.stringify(parameters),
      reason,
      state: 'submitted',
      rule_id: rule.id,
      rule: JSON.stringify(rule),
      break_glass: 0,
      review_pending: 0,
      reviewed_by: null,
      reviewed_at: null,
      review_comment: null,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      expires_at:
        rule.pendingLifetime === undefined
          ? null
          : new Date(now.getTime() + rule.pendingLifetime * 1000).toISOString(),
      attempts: 0,
      result: null,
      lease_owner: null,
      lease_until: null,
      next_attempt_at: null,
    };

    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('workflow_requests').values(row).execute();
      await this.options.audit.append(trx, {
        actor: principal.userEntityRef,
        action: 'request.submitted',
        target: requestTarget(row.id),
        outcome: 'succeeded',
        request: context,
        details: { ...auditFacts(row), rule: rule.id, autoApprove: rule.autoApprove },
      });

      if (rule.autoApprove) {
        row.result = this.resultOnApproval(type.name);
        await trx
          .updateTable('workflow_requests')
          .set({ state: 'approved', result: row.result, updated_at: now.toISOString() })
          .where('id', '=', row.id)
          .where('state', '=', 'submitted')
          .execute();
        row.state = 'approved';
        await this.options.audit.append(trx, {
          actor: ENGINE_ACTOR,
          action: 'request.approved',
          target: requestTarget(row.id),
          outcome: 'succeeded',
          reason: `rule ${rule.id} approves it automatically`,
          request: context,
          details: { ...auditFacts(row), rule: rule.id, autoApprove: true },
        });
      }
    });

    const created = toRequestDetails(row, []);
    this.notify('submitted', created);
    if (row.state === 'approved') {
      this.notify('decided', created);
      this.options.onApproved?.(created);
    }
    return created;
  }

  /** Loads a request that the principal may see: their own, one they may approve, or any with request.read. */
  async view(principal: Principal, id: string, canReadAll: boolean): Promise<RequestDetails> {
    const row = await this.requireRow(id);
    if (!canReadAll && row.requester !== principal.userEntityRef) {
      const check = await this.checkApproverOf(principal, row);
      if (!check.allowed) {
        throw new NotAllowedError(
          `Request ${id} is not yours: reading it needs permission request.read or the right to approve it`,
        );
      }
    }
    const approvals = await findApprovals(this.db, [id]);
    return toRequestDetails(row, approvals.get(id) ?? []);
  }

  /** Loads a request without any access check; undefined when it does not exist. */
  async find(id: string): Promise<RequestDetails | undefined> {
    const row = await findRequestRow(this.db, id);
    if (!row) {
      return undefined;
    }
    const approvals = await findApprovals(this.db, [id]);
    return toRequestDetails(row, approvals.get(id) ?? []);
  }

  /** Lists the principal's own requests, newest first. */
  async listMine(principal: Principal, query: ListQuery = {}): Promise<RequestDetails[]> {
    let select = this.db
      .selectFrom('workflow_requests')
      .selectAll()
      .where('requester', '=', principal.userEntityRef);
    if (query.states && query.states.length > 0) {
      select = select.where('state', 'in', query.states);
    }
    const rows = await select
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(clampLimit(query.limit))
      .execute();
    return await withDecisions(this.db, rows);
  }

  /**
   * Lists the submitted requests that the principal may decide now: those
   * of others that they may approve, and their own under a break-glass rule.
   * A request they have already decided is left out.
   */
  async inbox(principal: Principal, limit?: number): Promise<InboxItem[]> {
    // NOTE: the approver check runs per pending request in memory; a queue of
    // many thousands of pending requests would need the rule sources in SQL.
    const rows = await this.db
      .selectFrom('workflow_requests')
      .selectAll()
      .where('state', '=', 'submitted')
      .orderBy('created_at')
      .orderBy('id')
      .limit(2000)
      .execute();
    const decided = await this.db
      .selectFrom('workflow_approvals')
      .select('request_id')
      .where('approver', '=', principal.userEntityRef)
      .where('request_id', 'in', rows.length > 0 ? rows.map((row) => row.id) : [''])
      .execute();
    const decidedIds = new Set(decided.map((row) => row.request_id));
    const approvalSources = new Map<string, string[][]>();
    const approvals = await this.db
      .selectFrom('workflow_approvals')
      .select(['request_id', 'sources'])
      .where('decision', '=', 'approve')
      .where('request_id', 'in', rows.length > 0 ? rows.map((row) => row.id) : [''])
      .execute();
    for (const approval of approvals) {
      const list = approvalSources.get(approval.request_id) ?? [];
      list.push(parseSources(approval.sources));
      approvalSources.set(approval.request_id, list);
    }
    const nowIso = this.now().toISOString();

    const selected: Array<{ row: WorkflowRequestRow; selfApproval: boolean }> = [];
    const entities = new Map<string, Entity | undefined>();
    for (const row of rows) {
      if (decidedIds.has(row.id) || (row.expires_at !== null && row.expires_at <= nowIso)) {
        continue;
      }
      if (row.requester === principal.userEntityRef) {
        if (ruleOfRow(row)?.breakGlass) {
          selected.push({ row, selfApproval: true });
        }
        continue;
      }
      const check = await this.checkApproverOf(principal, row, entities);
      // A request that only other sources can move forward is not this approver's to act on.
      const approvalRule = ruleOfRow(row)?.approvals;
      if (
        check.allowed &&
        (!approvalRule ||
          approvalWouldCount(
            approvalRule.minimums ?? [],
            approvalRule.count,
            approvalSources.get(row.id) ?? [],
            check.sources,
          ))
      ) {
        selected.push({ row, selfApproval: false });
      }
      if (selected.length >= clampLimit(limit)) {
        break;
      }
    }

    const details = await withDecisions(
      this.db,
      selected.map((item) => item.row),
    );
    return details.map((item, index) => ({
      ...item,
      selfApproval: selected[index]!.selfApproval,
    }));
  }

  /**
   * Records one approval or denial. One denial denies; the request is
   * approved when the approvals reach the rule's count. The requester may
   * approve only under a break-glass rule, with a comment, and the request is
   * then flagged for review.
   */
  async decide(
    principal: Principal,
    id: string,
    decision: 'approve' | 'deny',
    comment: string | undefined,
    context?: AuditRequestContext,
  ): Promise<RequestDetails> {
    const text = normalizeText(comment, 'comment');
    const row = await this.requireRow(id);
    const type = this.requireType(row.type);
    const rule = ruleOfRow(row);
    const permission = approvePermissionOf(type);
    this.requireState(row, ['submitted'], decision === 'approve' ? 'approved' : 'denied');

    const breakGlass = row.requester === principal.userEntityRef;
    let sources: string[] = [];
    if (breakGlass) {
      if (decision === 'deny') {
        throw new ConflictError(
          `Request ${id} is your own: cancel it with POST /api/workflows/requests/${id}/cancel instead of denying it`,
        );
      }
      if (!rule?.breakGlass) {
        await this.recordDenial(principal, permission, requestTarget(id), context, {
          reason: 'self-approval',
        });
        throw new NotAllowedError(
          `Request ${id} is your own, and the requester never counts as an approver; rule ${rule?.id ?? '(none)'} allows no break-glass self-approval`,
        );
      }
      if (!text) {
        throw new InputError('A break-glass self-approval needs a comment with the reason', {
          details: [
            {
              path: 'comment',
              message: 'missing: say why the request cannot wait for an approver',
            },
          ],
        });
      }
    } else {
      const check = await this.checkApproverOf(principal, row);
      if (!check.allowed) {
        await this.recordDenial(principal, permission, requestTarget(id), context, {
          reason: check.reason,
        });
        throw new NotAllowedError(`You may not decide request ${id}: ${check.reason}`);
      }
      sources = check.sources;
    }

    const nowIso = this.now().toISOString();
    const outcome = await this.db.transaction().execute(async (trx) => {
      // Locks the row first, so concurrent decisions queue here and each reads
      // the decisions committed before it.
      const locked = await trx
        .updateTable('workflow_requests')
        .set({ updated_at: nowIso })
        .where('id', '=', id)
        .where('state', '=', 'submitted')
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', nowIso)]))
        .executeTakeFirst();
      if (Number(locked.numUpdatedRows) === 0) {
        const current = await findRequestRow(trx, id);
        throw this.stateConflict(
          current ?? row,
          decision === 'approve' ? 'approved' : 'denied',
          nowIso,
        );
      }

      const earlier = await trx
        .selectFrom('workflow_approvals')
        .select('decision')
        .where('request_id', '=', id)
        .where('approver', '=', principal.userEntityRef)
        .executeTakeFirst();
      if (earlier) {
        throw new ConflictError(
          `You have already decided request ${id} (${earlier.decision}); a decision cannot be changed`,
        );
      }
      await trx
        .insertInto('workflow_approvals')
        .values({
          request_id: id,
          approver: principal.userEntityRef,
          decision,
          comment: text,
          created_at: nowIso,
          sources: JSON.stringify(sources),
        })
        .execute();

      const base = {
        actor: principal.userEntityRef,
        target: requestTarget(id),
        outcome: 'succeeded' as const,
        request: context,
      };
      if (decision === 'deny') {
        await setState(trx, id, 'denied', nowIso, { result: null });
        await this.options.audit.append(trx, {
          ...base,
          action: 'request.denied',
          reason: text ?? undefined,
          details: { ...auditFacts(row), rule: rule?.id },
        });
        return 'denied' as const;
      }

      if (breakGlass) {
        await setState(trx, id, 'approved', nowIso, {
          break_glass: 1,
          review_pending: 1,
          result: this.resultOnApproval(type.name),
        });
        await this.options.audit.append(trx, {
          ...base,
          action: 'request.approved',
          reason: text ?? undefined,
          details: { ...auditFacts(row), rule: rule?.id, breakGlass: true },
        });
        return 'approved' as const;
      }

      const approvals = await trx
        .selectFrom('workflow_approvals')
        .select('sources')
        .where('request_id', '=', id)
        .where('decision', '=', 'approve')
        .execute();
      const received = approvals.length;
      const required = rule?.approvals?.count ?? 1;
      const unmet = unmetMinimums(
        rule?.approvals?.minimums ?? [],
        approvals.map((approval) => parseSources(approval.sources)),
      );
      if (received < required || unmet.length > 0) {
        await this.options.audit.append(trx, {
          ...base,
          action: 'request.approval-added',
          reason: text ?? undefined,
          details: {
            ...auditFacts(row),
            rule: rule?.id,
            approvals: received,
            required,
            ...(unmet.length > 0
              ? {
                  missing: unmet.map((item) => ({
                    source: sourceKey(item.source),
                    approvals: item.missing,
                  })),
                }
              : {}),
          },
        });
        return 'pending' as const;
      }

      await setState(trx, id, 'approved', nowIso, { result: this.resultOnApproval(type.name) });
      await this.options.audit.append(trx, {
        ...base,
        action: 'request.approved',
        reason: text ?? undefined,
        details: { ...auditFacts(row), rule: rule?.id, approvals: received, required },
      });
      return 'approved' as const;
    });

    const details = await this.requireDetails(id);
    if (outcome !== 'pending') {
      this.notify('decided', details);
    }
    if (outcome === 'approved') {
      this.options.onApproved?.(details);
    }
    return details;
  }

  /** Cancels a request that is still submitted or approved and not yet executing; only its requester may. */
  async cancel(
    principal: Principal,
    id: string,
    context?: AuditRequestContext,
  ): Promise<RequestDetails> {
    const row = await this.requireRow(id);
    if (row.requester !== principal.userEntityRef) {
      await this.recordDenial(principal, 'request.cancel', requestTarget(id), context, {
        reason: 'not the requester',
      });
      throw new NotAllowedError(`Only the requester ${row.requester} may cancel request ${id}`);
    }
    this.requireState(row, ['submitted', 'approved'], 'cancelled');

    const nowIso = this.now().toISOString();
    await this.db.transaction().execute(async (trx) => {
      // A submitted request whose lifetime has ended is expired, even before
      // the sweeper records it, so it cannot be cancelled any more.
      const changed = await trx
        .updateTable('workflow_requests')
        // A result such as the missing-executor message or a retried
        // error no longer applies once the request will never run.
        .set({ state: 'cancelled', result: null, next_attempt_at: null, updated_at: nowIso })
        .where('id', '=', id)
        .where((eb) =>
          eb.or([
            eb('state', '=', 'approved'),
            eb.and([
              eb('state', '=', 'submitted'),
              eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', nowIso)]),
            ]),
          ]),
        )
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) === 0) {
        const current = await findRequestRow(trx, id);
        throw this.stateConflict(current ?? row, 'cancelled', nowIso);
      }
      await this.options.audit.append(trx, {
        actor: principal.userEntityRef,
        action: 'request.cancelled',
        target: requestTarget(id),
        outcome: 'succeeded',
        request: context,
        details: { ...auditFacts(row), from: row.state },
      });
    });

    const details = await this.requireDetails(id);
    this.notify('decided', details);
    return details;
  }

  /**
   * Lists break-glass requests, those still waiting for review first. Each
   * item states whether the principal requested it, because a requester may
   * not review their own request.
   */
  async reviewQueue(
    principal: Principal,
    query: { pendingOnly?: boolean; limit?: number } = {},
  ): Promise<ReviewItem[]> {
    let select = this.db.selectFrom('workflow_requests').selectAll().where('break_glass', '=', 1);
    if (query.pendingOnly ?? true) {
      select = select.where('review_pending', '=', 1);
    }
    const rows = await select
      .orderBy('review_pending', 'desc')
      .orderBy('created_at')
      .orderBy('id')
      .limit(clampLimit(query.limit))
      .execute();
    const details = await withDecisions(this.db, rows);
    return details.map((item) => ({
      ...item,
      ownRequest: item.requester === principal.userEntityRef,
    }));
  }

  /**
   * Marks a break-glass request reviewed; a request reviewed already is a
   * conflict, and the requester may never review their own request.
   */
  async markReviewed(
    principal: Principal,
    id: string,
    comment: string | undefined,
    context?: AuditRequestContext,
  ): Promise<RequestDetails> {
    const text = normalizeText(comment, 'comment');
    const row = await this.requireRow(id);
    if (row.requester === principal.userEntityRef) {
      await this.recordDenial(principal, REQUEST_REVIEW, requestTarget(id), context, {
        reason: 'own request',
      });
      throw new NotAllowedError(
        `Request ${id} is your own, and a requester may not review their own break-glass request: another member with permission request.review must review it`,
      );
    }
    if (row.break_glass !== 1) {
      throw new ConflictError(
        `Request ${id} was not approved under break-glass, so it needs no review`,
      );
    }

    const nowIso = this.now().toISOString();
    await this.db.transaction().execute(async (trx) => {
      const changed = await trx
        .updateTable('workflow_requests')
        .set({
          review_pending: 0,
          reviewed_by: principal.userEntityRef,
          reviewed_at: nowIso,
          review_comment: text,
        })
        .where('id', '=', id)
        .where('review_pending', '=', 1)
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) === 0) {
        throw new ConflictError(`Request ${id} has been reviewed already`);
      }
      await this.options.audit.append(trx, {
        actor: principal.userEntityRef,
        action: 'request.reviewed',
        target: requestTarget(id),
        outcome: 'succeeded',
        reason: text ?? undefined,
        request: context,
        details: auditFacts(row),
      });
    });
    return await this.requireDetails(id);
  }

  /** Expires every submitted request whose lifetime has ended, one transaction each; returns how many. */
  async expireDue(): Promise<number> {
    const nowIso = this.now().toISOString();
    const due = await this.db
      .selectFrom('workflow_requests')
      .selectAll()
      .where('state', '=', 'submitted')
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', nowIso)
      .orderBy('expires_at')
      .limit(500)
      .execute();

    let expired = 0;
    for (const row of due) {
      const changed = await this.db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('workflow_requests')
          .set({ state: 'expired', result: null, updated_at: nowIso })
          .where('id', '=', row.id)
          .where('state', '=', 'submitted')
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) {
          return false;
        }
        await this.options.audit.append(trx, {
          actor: ENGINE_ACTOR,
          action: 'request.expired',
          target: requestTarget(row.id),
          outcome: 'succeeded',
          reason: `no decision before ${row.expires_at}`,
          details: { ...auditFacts(row), rule: row.rule_id },
        });
        return true;
      });
      if (changed) {
        expired += 1;
        const details = await this.find(row.id);
        if (details) {
          this.notify('decided', details);
        }
      }
    }
    return expired;
  }

  /** Sends a notification after commit; a fault is logged, never thrown. */
  notify(kind: RequestNotificationKind, request: WorkflowRequest): void {
    const notifier = this.options.notifier;
    if (!notifier) {
      return;
    }
    // Through a promise, so a notifier that throws before it returns one is caught too.
    Promise.resolve()
      .then(() => notifier.notify(kind, request))
      .catch((error: unknown) => {
        this.options.logger.warn(
          { err: error, requestId: request.id, kind },
          'request notification failed',
        );
      });
  }

  /**
   * Returns the result stored with an approval: the missing-executor message
   * when the type has no executor, so the requester and approvers see why the
   * request does not run, and null otherwise.
   */
  private resultOnApproval(type: string): string | null {
    return this.options.registry.getExecutor(type)
      ? null
      : JSON.stringify(missingExecutorResult(type));
  }

  /** Loads an entity when it exists and the principal may read it; undefined otherwise. */
  private async loadReadableEntity(principal: Principal, ref: string): Promise<Entity | undefined> {
    const entity = await this.options.loadEntity(ref);
    if (!entity) {
      return undefined;
    }
    const read = this.options.permissions.authorize(principal, CATALOG_ENTITY_READ, entity);
    return read.result === 'ALLOW' ? entity : undefined;
  }

  private async checkApproverOf(
    principal: Principal,
    row: WorkflowRequestRow,
    entities?: Map<string, Entity | undefined>,
  ) {
    const type = this.requireType(row.type);
    let entity: Entity | undefined;
    if (row.entity_ref) {
      if (entities?.has(row.entity_ref)) {
        entity = entities.get(row.entity_ref);
      } else {
        entity = await this.options.loadEntity(row.entity_ref);
        entities?.set(row.entity_ref, entity);
      }
    }
    return checkApprover({
      principal,
      requester: row.requester,
      rule: ruleOfRow(row),
      entity,
      approvePermission: approvePermissionOf(type),
      permissions: this.options.permissions,
    });
  }

  private checkAgainstRule(
    type: AnyRequestType,
    rule: ApprovalRule,
    parameters: Record<string, unknown>,
    reason: string | null,
  ): void {
    if (!reason && (rule.reasonRequired || type.reasonRequired)) {
      throw new InputError(`A ${type.name} request needs a reason`, {
        details: [
          {
            path: 'reason',
            message: `missing: ${rule.reasonRequired ? `rule ${rule.id}` : `every ${type.name} request`} requires a reason`,
          },
        ],
      });
    }

    const duration = type.durationSeconds(parameters);
    if (duration !== undefined && rule.maxDuration !== undefined && duration > rule.maxDuration) {
      throw new InputError(`The requested duration is longer than rule ${rule.id} allows`, {
        details: [
          {
            path: 'parameters.durationSeconds',
            value: duration,
            message: `must be at most ${rule.maxDuration} seconds (${formatDuration(rule.maxDuration)}) under rule ${rule.id}`,
          },
        ],
      });
    }
  }

  private requireType(name: string): AnyRequestType {
    const type = this.options.registry.getType(name);
    if (!type) {
      throw new InputError(`Request type '${name}' is unknown`, {
        details: [
          {
            path: 'type',
            value: name,
            message: `unknown: use one of ${this.options.registry.typeNames().join(', ')}`,
          },
        ],
      });
    }
    return type;
  }

  private async requireRow(id: string): Promise<WorkflowRequestRow> {
    const row = await findRequestRow(this.db, id);
    if (!row) {
      throw new NotFoundError(`Request ${id} does not exist`);
    }
    return row;
  }

  private async requireDetails(id: string): Promise<RequestDetails> {
    const details = await this.find(id);
    if (!details) {
      throw new NotFoundError(`Request ${id} does not exist`);
    }
    return details;
  }

  private requireState(row: WorkflowRequestRow, from: RequestState[], to: RequestState): void {
    if (!from.includes(row.state as RequestState)) {
      throw this.stateConflict(row, to, this.now().toISOString());
    }
  }

  private stateConflict(row: WorkflowRequestRow, to: RequestState, nowIso: string): ConflictError {
    if (row.state === 'submitted' && row.expires_at !== null && row.expires_at <= nowIso) {
      return new ConflictError(
        `Request ${row.id} expired at ${row.expires_at}, so it cannot become ${to}`,
      );
    }
    return new ConflictError(`Request ${row.id} is ${row.state}, so it cannot become ${to}`, {
      details: [
        { path: 'state', value: row.state, message: `a ${row.state} request cannot become ${to}` },
      ],
    });
  }

  private async recordDenial(
    principal: Principal,
    permission: string,
    target: string,
    context: AuditRequestContext | undefined,
    details: Record<string, unknown>,
  ): Promise<void> {
    try {
      await this.options.audit.append(this.db, {
        actor: principal.userEntityRef,
        action: 'permission.denied',
        target,
        outcome: 'denied',
        request: context,
        details: { permission, ...details },
      });
    } catch (error) {
      this.options.logger.error(
        { err: error, permission, target },
        'recording a denied request failed',
      );
    }
  }
}

/** Returns the audit target of a request. */
export function requestTarget(id: string): string {
  return `workflow-request:${id}`;
}

/** Facts of a request that every audit record of it carries; never its parameters' secrets. */
export function auditFacts(row: WorkflowRequestRow): Record<string, unknown> {
  return {
    requestId: row.id,
    type: row.type,
    requester: row.requester,
    entityRef: row.entity_ref ?? undefined,
    environment: row.environment ?? undefined,
    parameters: JSON.parse(row.parameters) as unknown,
  };
}

async function setState(
  trx: Transaction<WorkflowTables>,
  id: string,
  state: RequestState,
  nowIso: string,
  extra: Partial<WorkflowRequestRow> = {},
): Promise<void> {
  await trx
    .updateTable('workflow_requests')
    .set({ ...extra, state, updated_at: nowIso })
    .where('id', '=', id)
    .execute();
}

/** Reads the stored source keys of an approval; an approval recorded before they were stored has none. */
function parseSources(stored: string | null): string[] {
  if (stored === null) {
    return [];
  }
  const parsed = JSON.parse(stored) as unknown;
  return Array.isArray(parsed) ? parsed.filter((key) => typeof key === 'string') : [];
}

/** C0 controls and DEL, except tab, line feed and carriage return. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it rejects.
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function normalizeText(value: unknown, field: string): string | null {
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'string') {
    throw new InputError(`${field} must be a string`, {
      details: [{ path: field, message: 'must be a string' }],
    });
  }
  const trimmed = value.trim();
  if (CONTROL_CHARACTER.test(trimmed)) {
    // PostgreSQL cannot store NUL in text, and no other control character
    // belongs in a sentence that approvers and the audit trail show.
    throw new InputError(`${field} contains a control character`, {
      details: [
        {
          path: field,
          message:
            'must not contain control characters such as NUL; write plain text, with line breaks if needed',
        },
      ],
    });
  }
  if (trimmed.length > MAX_TEXT_LENGTH) {
    throw new InputError(`${field} is too long`, {
      details: [{ path: field, message: `must be at most ${MAX_TEXT_LENGTH} characters` }],
    });
  }
  return trimmed === '' ? null : trimmed;
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) {
    return MAX_LIST_LIMIT;
  }
  return Math.min(Math.max(1, Math.floor(limit)), MAX_LIST_LIMIT);
}

/** Used by the runner and tests: the stored request without decisions. */
export async function loadRequest(
  db: WorkflowDatabase,
  id: string,
): Promise<WorkflowRequest | undefined> {
  const row = await findRequestRow(db, id);
  return row ? toWorkflowRequest(row) : undefined;
}
