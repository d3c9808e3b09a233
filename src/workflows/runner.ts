import { randomUUID } from 'node:crypto';
import type { Kysely, Updateable } from 'kysely';
import type { Logger } from 'pino';
import type { AuditEvent, AuditRequestContext } from '../audit/index.js';
import type { WorkflowsConfig } from '../config/index.js';
import type { DatabaseHandle } from '../database/index.js';
import { ConflictError, NotAllowedError, NotFoundError } from '../errors/index.js';
import type { Principal } from '../permissions/index.js';
import {
  auditFacts,
  ENGINE_ACTOR,
  type RequestAuditTrail,
  type RequestEngine,
  requestTarget,
} from './engine.js';
import { missingExecutorHint } from './missing-executor.js';
import type { WorkflowRegistry } from './registry.js';
import {
  findRequestRow,
  type RequestDetails,
  ruleOfRow,
  toWorkflowRequest,
  type WorkflowDatabase,
} from './request-rows.js';
import type { WorkflowRequestRow, WorkflowTables } from './tables.js';
import { type ExecutionResult, type RequestExecutor, RetryableExecutionError } from './types.js';

export type EngineSettings = WorkflowsConfig['engine'];

export interface ExecutionRunnerOptions {
  database: DatabaseHandle;
  registry: WorkflowRegistry;
  engine: RequestEngine;
  audit: RequestAuditTrail;
  settings: EngineSettings;
  /** Builds the requester's principal at execution time. */
  resolvePrincipal(userRef: string): Promise<Principal | undefined>;
  logger: Logger;
  now?: () => Date;
}

/** The response to a requester who collects a request: the request and, once, its secret. */
export interface CollectedRequest {
  request: RequestDetails;
  secret?: Record<string, unknown> | undefined;
}

/** Returns the idempotency key of a request: the same for every attempt, on every replica. */
export function idempotencyKeyOf(requestId: string): string {
  return `workflow-request-${requestId}`;
}

/** Wait before attempt `attempt + 1` after attempt `attempt` failed: base × 2^(attempt−1), capped. */
export function retryDelayMs(settings: EngineSettings, attempt: number): number {
  return Math.min(
    settings.retryBaseDelayMs * 2 ** Math.max(0, attempt - 1),
    settings.retryMaxDelayMs,
  );
}

type AttemptOutcome =
  | { kind: 'succeeded'; result: ExecutionResult }
  | { kind: 'retry'; error: Error; delayMs: number }
  | { kind: 'failed'; error: Error }
  | { kind: 'lost' };

/**
 * Runs approved requests. Each attempt first claims the request with a
 * conditional UPDATE that sets a lease, so two replicas never run one request
 * at once, and a replica that restarts, or another one, takes over a request
 * whose lease has run out. Every attempt passes the same idempotency key.
 */
export class ExecutionRunner {
  /** Identifies this process's leases. */
  readonly owner = `runner-${randomUUID()}`;
  private readonly db: WorkflowDatabase;
  private readonly now: () => Date;
  private readonly controller = new AbortController();
  private readonly running = new Map<string, Promise<void>>();
  private readonly collecting = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private stopped = false;

  constructor(private readonly options: ExecutionRunnerOptions) {
    this.db = options.database.db as Kysely<WorkflowTables>;
    this.now = options.now ?? (() => new Date());
  }

  /** Picks up approved and abandoned requests now and then at every poll interval. */
  start(): void {
    if (this.timer || this.stopped) {
      return;
    }
    this.options.logger.info(
      { owner: this.owner, pollIntervalSeconds: this.options.settings.pollIntervalSeconds },
      'request execution runner started',
    );
    this.timer = setInterval(
      () => this.scanSoon(),
      this.options.settings.pollIntervalSeconds * 1000,
    );
    this.timer.unref();
    this.scanSoon();
  }

  /** Stops scanning, aborts running executions and waits for them to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    this.controller.abort();
    await this.scanning;
    await Promise.allSettled([...this.running.values()]);
    this.options.logger.info({ owner: this.owner }, 'request execution runner stopped');
  }

  /** Called when a request is approved: runs it at once when its type has an automatic executor. */
  approved(request: { id: string; type: string }): void {
    // A type without executor needs nothing here: the engine stored the
    // missing-executor message with the approval.
    const executor = this.options.registry.getExecutor(request.type);
    if (executor?.trigger === 'automatic' && !this.stopped && this.timer) {
      this.track(request.id, () => this.runToEnd(request.id, executor));
    }
  }

  /** Scans once for requests to run and waits until the runs it started have ended; for tests and benchmarks. */
  async drain(): Promise<void> {
    await this.scanOnce();
    while (this.running.size > 0) {
      await Promise.allSettled([...this.running.values()]);
    }
  }

  private scanSoon(): void {
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = this.scanOnce()
      .catch((error: unknown) =>
        this.options.logger.error({ err: error }, 'scanning for approved requests failed'),
      )
      .finally(() => {
        this.scanning = undefined;
        if (this.rescan && !this.stopped) {
          this.rescan = false;
          this.scanSoon();
        }
      });
  }

  private async scanOnce(): Promise<void> {
    const types = this.options.registry.automaticTypes();
    if (types.length === 0 || this.stopped) {
      return;
    }
    const nowIso = this.now().toISOString();
    const rows = await this.db
      .selectFrom('workflow_requests')
      .select(['id', 'type'])
      .where('type', 'in', types)
      .where((eb) =>
        eb.or([
          eb('state', '=', 'approved'),
          eb.and([eb('state', '=', 'executing'), eb('lease_until', '<', nowIso)]),
        ]),
      )
      .where((eb) =>
        eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', nowIso)]),
      )
      .orderBy('updated_at')
      .limit(100)
      .execute();

    for (const row of rows) {
      const executor = this.options.registry.getExecutor(row.type);
      if (executor) {
        this.track(row.id, () => this.runToEnd(row.id, executor));
      }
    }
  }

  private track(id: string, run: () => Promise<void>): void {
    if (this.running.has(id)) {
      return;
    }
    const promise = run()
      .catch((error: unknown) =>
        this.options.logger.error(
          { err: error, requestId: id },
          'request execution failed unexpectedly',
        ),
      )
      .finally(() => this.running.delete(id));
    this.running.set(id, promise);
  }

  /** Runs attempts of one automatic request until it succeeds, fails or another replica takes its lease. */
  private async runToEnd(id: string, executor: RequestExecutor): Promise<void> {
    while (!this.stopped) {
      const outcome = await this.attempt(id, executor, undefined);
      if (outcome.kind !== 'retry') {
        return;
      }
      await sleep(outcome.delayMs, this.controller.signal);
    }
  }

  /**
   * Runs a request whose executor waits for its requester, in the requester's
   * HTTP request, and returns the secret part of the result to them only.
   */
  async collect(
    principal: Principal,
    id: string,
    context?: AuditRequestContext,
  ): Promise<CollectedRequest> {
    const row = await findRequestRow(this.db, id);
    if (!row) {
      throw new NotFoundError(`Request ${id} does not exist`);
    }
    if (row.requester !== principal.userEntityRef) {
      throw new NotAllowedError(`Only the requester ${row.requester} may collect request ${id}`);
    }
    const executor = this.options.registry.getExecutor(row.type);
    if (!executor) {
      throw new ConflictError(
        `Request ${id} cannot run yet: no executor is registered for ${row.type} requests${missingExecutorHint(row.type)}`,
      );
    }
    if (executor.trigger !== 'requester') {
      throw new ConflictError(
        `Request ${id} runs automatically once approved: ${row.type} requests are not collected`,
      );
    }
    if (row.state !== 'approved' && row.state !== 'executing') {
      throw new ConflictError(
        `Request ${id} is ${row.state}: only an approved request can be collected`,
      );
    }

    // Leases are per process, so a second collect in this process is stopped here.
    if (this.collecting.has(id)) {
      throw new ConflictError(`Request ${id} is being collected in another response: wait for it`);
    }
    this.collecting.add(id);
    try {
      return await this.collectAttempts(id, executor, context);
    } finally {
      this.collecting.delete(id);
    }
  }

  private async collectAttempts(
    id: string,
    executor: RequestExecutor,
    context: AuditRequestContext | undefined,
  ): Promise<CollectedRequest> {
    while (true) {
      const outcome = await this.attempt(id, executor, context);
      if (outcome.kind === 'lost') {
        throw new ConflictError(
          `Request ${id} is being collected in another response or has finished: reload it`,
        );
      }
      if (outcome.kind === 'retry') {
        await sleep(outcome.delayMs, this.controller.signal);
        continue;
      }
      const request = await this.options.engine.find(id);
      if (!request) {
        throw new NotFoundError(`Request ${id} does not exist`);
      }
      return outcome.kind === 'succeeded'
        ? { request, secret: outcome.result.secret }
        : { request };
    }
  }

  /** Reads the users whose approvals decided the request, oldest first; none for an automatic approval. */
  private async approversOf(id: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('workflow_approvals')
      .select('approver')
      .where('request_id', '=', id)
      .where('decision', '=', 'approve')
      .orderBy('created_at')
      .execute();
    return rows.map((row) => row.approver);
  }

  /** Claims the request, runs one attempt and records its outcome. */
  private async attempt(
    id: string,
    executor: RequestExecutor,
    context: AuditRequestContext | undefined,
  ): Promise<AttemptOutcome> {
    const claimed = await this.claim(id, context);
    if (!claimed) {
      return { kind: 'lost' };
    }
    const request = toWorkflowRequest(claimed);
    const logger = this.options.logger.child({
      requestId: id,
      type: request.type,
      attempt: request.attempts,
    });

    const requester = await this.options.resolvePrincipal(request.requester);
    if (!requester) {
      const error = new Error(
        `The requester ${request.requester} is no longer in the catalog, so the request cannot run`,
      );
      await this.finish(claimed, { kind: 'failed', error }, context);
      return { kind: 'failed', error };
    }

    const approvers = await this.approversOf(id);
    let outcome: AttemptOutcome;
    try {
      const result = await executor.execute({
        request,
        idempotencyKey: idempotencyKeyOf(id),
        attempt: request.attempts,
        requester,
        maxDurationSeconds: ruleOfRow(claimed)?.maxDuration,
        approvers,
        signal: this.controller.signal,
        logger,
      });
      outcome = { kind: 'succeeded', result };
    } catch (error) {
      const fault = error instanceof Error ? error : new Error(String(error));
      if (this.controller.signal.aborted) {
        // Shutting down: the lease runs out and a later start resumes the request.
        logger.info({ err: fault }, 'request execution interrupted by shutdown');
        return { kind: 'lost' };
      }
      if (
        error instanceof RetryableExecutionError &&
        request.attempts < this.options.settings.maxAttempts
      ) {
        outcome = {
          kind: 'retry',
          error: fault,
          delayMs: retryDelayMs(this.options.settings, request.attempts),
        };
      } else {
        outcome = { kind: 'failed', error: fault };
      }
    }

    const recorded = await this.finish(claimed, outcome, context);
    return recorded ? outcome : { kind: 'lost' };
  }

  /** Takes the lease with a conditional UPDATE and records the start of the attempt. */
  private async claim(
    id: string,
    context: AuditRequestContext | undefined,
  ): Promise<WorkflowRequestRow | undefined> {
    const now = this.now();
    const nowIso = now.toISOString();
    const leaseUntil = new Date(
      now.getTime() + this.options.settings.leaseSeconds * 1000,
    ).toISOString();

    return await this.db.transaction().execute(async (trx) => {
      const before = await findRequestRow(trx, id);
      if (!before) {
        return undefined;
      }
      const changed = await trx
        .updateTable('workflow_requests')
        .set((eb) => ({
          state: 'executing',
          lease_owner: this.owner,
          lease_until: leaseUntil,
          next_attempt_at: null,
          attempts: eb('attempts', '+', 1),
          updated_at: nowIso,
        }))
        .where('id', '=', id)
        .where((eb) =>
          eb.or([
            eb('state', '=', 'approved'),
            eb.and([
              eb('state', '=', 'executing'),
              // This runner's own lease covers its wait between attempts.
              eb.or([eb('lease_until', '<', nowIso), eb('lease_owner', '=', this.owner)]),
            ]),
          ]),
        )
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) === 0) {
        return undefined;
      }
      const row = await findRequestRow(trx, id);
      if (!row) {
        return undefined;
      }

      const resumed = before.state === 'executing' && before.lease_owner !== this.owner;
      if (before.state === 'approved' || resumed) {
        await this.options.audit.append(trx, {
          actor: ENGINE_ACTOR,
          action: 'request.executing',
          target: requestTarget(id),
          outcome: 'succeeded',
          reason: resumed ? 'resumed after the previous lease ran out' : undefined,
          request: context,
          details: { ...auditFacts(row), attempt: row.attempts, resumed },
        });
      }
      return row;
    });
  }

  /** Records an attempt's outcome if this runner still holds the lease; false when it does not. */
  private async finish(
    claimed: WorkflowRequestRow,
    outcome: AttemptOutcome,
    context: AuditRequestContext | undefined,
  ): Promise<boolean> {
    const now = this.now();
    const nowIso = now.toISOString();
    const id = claimed.id;
    const facts = { ...auditFacts(claimed), attempt: claimed.attempts };
    const logger = this.options.logger;

    const recorded = await this.db.transaction().execute(async (trx) => {
      const base = trx
        .updateTable('workflow_requests')
        .where('id', '=', id)
        .where('state', '=', 'executing')
        .where('lease_owner', '=', this.owner);

      // Stores the outcome and its audit record, or nothing when the lease is lost.
      const store = async (
        values: Omit<Updateable<WorkflowRequestRow>, 'updated_at'>,
        record: Pick<AuditEvent, 'action' | 'outcome' | 'reason' | 'details'>,
      ): Promise<boolean> => {
        const changed = await base.set({ ...values, updated_at: nowIso }).executeTakeFirst();
        if (Number(changed.numUpdatedRows) === 0) {
          return false;
        }
        await this.options.audit.append(trx, {
          actor: ENGINE_ACTOR,
          target: requestTarget(id),
          request: context,
          ...record,
        });
        return true;
      };

      if (outcome.kind === 'succeeded') {
        return store(
          {
            state: 'succeeded',
            result: JSON.stringify(outcome.result.result),
            lease_owner: null,
            lease_until: null,
          },
          {
            action: 'request.succeeded',
            outcome: 'succeeded',
            details: { ...facts, result: outcome.result.result },
          },
        );
      }

      if (outcome.kind === 'retry') {
        const nextAttempt = new Date(now.getTime() + outcome.delayMs);
        return store(
          {
            result: JSON.stringify({ error: outcome.error.message, retrying: true }),
            next_attempt_at: nextAttempt.toISOString(),
            lease_until: new Date(
              nextAttempt.getTime() + this.options.settings.leaseSeconds * 1000,
            ).toISOString(),
          },
          {
            action: 'request.attempt-failed',
            outcome: 'failed',
            reason: outcome.error.message,
            details: { ...facts, retryInMs: outcome.delayMs },
          },
        );
      }

      if (outcome.kind === 'failed') {
        return store(
          {
            state: 'failed',
            result: JSON.stringify({ error: outcome.error.message }),
            lease_owner: null,
            lease_until: null,
          },
          {
            action: 'request.failed',
            outcome: 'failed',
            reason: outcome.error.message,
            details: facts,
          },
        );
      }
      return false;
    });

    if (!recorded) {
      logger.warn(
        { requestId: id, owner: this.owner },
        'request lease lost before its outcome was stored',
      );
      return false;
    }
    if (outcome.kind === 'retry') {
      logger.warn(
        {
          err: outcome.error,
          requestId: id,
          attempt: claimed.attempts,
          retryInMs: outcome.delayMs,
        },
        'request execution attempt failed; retrying',
      );
      return true;
    }
    if (outcome.kind === 'failed') {
      logger.warn(
        { err: outcome.error, requestId: id, attempt: claimed.attempts },
        'request execution failed',
      );
    } else {
      logger.info({ requestId: id, attempt: claimed.attempts }, 'request executed');
    }
    const request = await this.options.engine.find(id);
    if (request) {
      this.options.engine.notify('result', request);
    }
    return true;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
