import type { Logger } from 'pino';
import type { z } from 'zod';
import { PortalError } from '../errors/index.js';
import type { Principal } from '../permissions/index.js';

/**
 * States of a request. A request starts `submitted`, is decided into
 * `approved`, `denied`, `expired` or `cancelled`, and an approved request
 * runs through `executing` into `succeeded` or `failed`.
 */
export type RequestState =
  | 'submitted'
  | 'approved'
  | 'denied'
  | 'expired'
  | 'cancelled'
  | 'executing'
  | 'succeeded'
  | 'failed';

export const REQUEST_STATES: readonly RequestState[] = [
  'submitted',
  'approved',
  'denied',
  'expired',
  'cancelled',
  'executing',
  'succeeded',
  'failed',
];

/** A stored request, as the engine hands it to executors and the API returns it. */
export interface WorkflowRequest {
  /** A random UUID. */
  id: string;
  /** The registered request type, such as `deployment`. */
  type: string;
  /** The requester's user entity reference, lowercase. */
  requester: string;
  /** The catalog entity the request is about, lowercase; null for types without one. */
  entityRef: string | null;
  /** The parameters after the type's schema parsed them. */
  parameters: Record<string, unknown>;
  reason: string | null;
  state: RequestState;
  /** The id of the approval rule that matched at submission. */
  ruleId: string | null;
  /** True when the requester approved it under a break-glass rule. */
  breakGlass: boolean;
  /** ISO 8601 UTC times. */
  createdAt: string;
  updatedAt: string;
  /** When a request still `submitted` becomes `expired`; null when it never expires. */
  expiresAt: string | null;
  /** Execution attempts so far. */
  attempts: number;
  /** Public, secret-free result of the execution, or the last error message. */
  result: Record<string, unknown> | null;
}

/** The input of one execution attempt. */
export interface ExecutionContext {
  request: WorkflowRequest;
  /**
   * The same value for every attempt of one request. Executors pass it to the
   * system they call (a header, a client token) so a retried call acts once.
   */
  idempotencyKey: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** The requester's principal: user, groups and ownership references. */
  requester: Principal;
  /** The maximum duration that the matching rule allows, in seconds, or undefined when the rule sets none. */
  maxDurationSeconds: number | undefined;
  /**
   * User entity references of the approvals that decided the request, such
   * as `user:default/grace`; empty or undefined for an automatic approval.
   */
  approvers?: readonly string[] | undefined;
  /** Aborted when the server shuts down. */
  signal: AbortSignal;
  /** Bound to `requestId`, `type` and `attempt` already, so log calls must not add them again. */
  logger: Logger;
}

/** The output of a successful execution. */
export interface ExecutionResult {
  /** Stored with the request and recorded in the audit trail: never a secret. */
  result: Record<string, unknown>;
  /**
   * Returned to the requester in the response that ran the execution, once,
   * and never stored or logged, such as temporary AWS credentials.
   */
  secret?: Record<string, unknown> | undefined;
}

/**
 * The moment an approved request runs. `automatic` runs it in the background
 * as soon as it is approved. `requester` waits until the requester collects
 * it, so a secret result reaches only them, in that response.
 */
export type ExecutionTrigger = 'automatic' | 'requester';

/** Carries out approved requests of one type. */
export interface RequestExecutor {
  /** The request type this executor runs. */
  type: string;
  trigger: ExecutionTrigger;
  /**
   * Runs one attempt. Throw RetryableExecutionError for a fault that a later
   * attempt may not meet, such as a timeout, a 5xx or a refused connection.
   * Any other error fails the request without retrying.
   */
  execute(context: ExecutionContext): Promise<ExecutionResult>;
  /**
   * Checks the parsed parameters of a new request against what this executor
   * can carry out, such as a configured role, and throws InputError naming
   * the field otherwise, so a typo fails before anyone approves it.
   */
  checkParameters?(parameters: Record<string, unknown>): void;
  /**
   * Returns the values that string parameters accept now, by parameter
   * name, such as the roles of the roles file; GET /api/workflows/types
   * offers them as the `enum` of the parameter's JSON Schema.
   */
  parameterChoices?(): Record<string, readonly string[]>;
}

/** A request type that a capability registers with the engine. */
export interface RequestTypeDefinition<TParameters extends Record<string, unknown>> {
  /** Lowercase, dashed: `deployment`, `aws-credentials`, `role-elevation`. */
  name: string;
  description: string;
  /** Validates the `parameters` of a new request; each issue becomes a 400 naming the field. */
  parameters: z.ZodType<TParameters>;
  /**
   * The permission that allows creating a request of this type, such as
   * `deployment.request.create`. For a type with an entity it is a
   * catalog-entity resource permission, so roles can restrict it with conditions.
   */
  createPermission: string;
  /**
   * The permission that allows approving a request of this type; by default
   * `<name>.request.approve`. A catalog-entity resource permission when the
   * type has an entity, decided for the request's entity.
   */
  approvePermission?: string;
  /**
   * Whether requests of this type name a catalog entity: always, sometimes
   * (`optional`) or never (unset). It decides whether the create and approve
   * permissions are catalog-entity resource permissions.
   */
  entity?: 'required' | 'optional';
  /** True when every request of this type needs a reason, whatever the matching rule requires. */
  reasonRequired?: boolean;
  /** The catalog entity the request is about, from its parameters, or undefined. */
  entityRef(parameters: TParameters): string | undefined;
  /** The environment that approval rules match on, such as `production`, or undefined. */
  environment(parameters: TParameters): string | undefined;
  /** The requested duration in seconds, or undefined for types without one. */
  durationSeconds(parameters: TParameters): number | undefined;
}

/** An execution fault that a later attempt may not meet; the engine retries with backoff. */
export class RetryableExecutionError extends PortalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EXECUTION_RETRYABLE', message, options);
  }
}

/** A moment in a request's life that notifications report. */
export type RequestNotificationKind = 'submitted' | 'decided' | 'result';

/** Sends notifications about requests, such as to a Slack-compatible webhook. */
export interface RequestNotifier {
  /**
   * Sends one notification. It must not throw: delivery faults are logged
   * and retried by the notifier, never passed back to the request engine.
   */
  notify(kind: RequestNotificationKind, request: WorkflowRequest): Promise<void>;
}
