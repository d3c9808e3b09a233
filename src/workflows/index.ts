import type { Entity } from '@backstage/catalog-model';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { WorkflowsConfig } from '../config/index.js';
import type { DatabaseHandle } from '../database/index.js';
import { PortalError } from '../errors/index.js';
import type { PermissionDefinition, Principal } from '../permissions/index.js';
import type { RequestAuthorizer } from './approvers.js';
import { ENGINE_ACTOR, type RequestAuditTrail, RequestEngine } from './engine.js';
import { ExpirySweeper } from './expiry-sweeper.js';
import { requestTypePermissions, workflowBasePermissions } from './permissions.js';
import { WorkflowRegistry } from './registry.js';
import { builtInRequestTypes } from './request-types.js';
import { registerWorkflowRoutes } from './routes.js';
import type { ApprovalRulesFile } from './rules-file.js';
import { ApprovalRulesSource, type RulesReload } from './rules-watch.js';
import { ExecutionRunner } from './runner.js';
import type { RequestNotifier } from './types.js';

export { checkApprover, describeApprovers, type RequestAuthorizer } from './approvers.js';
export { formatDuration, parseDuration } from './duration.js';
export {
  type CreateRequestInput,
  ENGINE_ACTOR,
  type InboxItem,
  RequestEngine,
  type ReviewItem,
  requestTarget,
} from './engine.js';
export { ExpirySweeper, runExclusively } from './expiry-sweeper.js';
export { workflowMigrations } from './migrations.js';
export {
  approvePermissionOf,
  REQUEST_READ,
  REQUEST_REVIEW,
  requestTypePermissions,
  workflowBasePermissions,
} from './permissions.js';
export { type AnyRequestType, parametersJsonSchema, WorkflowRegistry } from './registry.js';
export type { RequestDecision, RequestDetails, RequestReview } from './request-rows.js';
export {
  type AwsCredentialsParameters,
  awsCredentialsRequestType,
  builtInRequestTypes,
  type DeploymentParameters,
  deploymentRequestType,
  type RoleElevationParameters,
  roleElevationRequestType,
} from './request-types.js';
export { findMatchingRule, isOwner, ownersOf, type RequestFacts } from './rule-matching.js';
export {
  type ApprovalRule,
  type ApprovalRulesFile,
  type ApproverSource,
  approvalRulesFileSchema,
  loadApprovalRules,
  parseApprovalRules,
  type RuleMatch,
} from './rules-file.js';
export {
  type CollectedRequest,
  ExecutionRunner,
  idempotencyKeyOf,
  retryDelayMs,
} from './runner.js';
export * from './types.js';

/** Creates the registry with the built-in request types: deployment, aws-credentials, role-elevation. */
export function createWorkflowRegistry(): WorkflowRegistry {
  const registry = new WorkflowRegistry();
  registry.registerTypes(...builtInRequestTypes);
  return registry;
}

/** Returns the permissions of the request engine for the types of a registry. */
export function workflowPermissions(registry: WorkflowRegistry): PermissionDefinition[] {
  return [...workflowBasePermissions, ...registry.listTypes().flatMap(requestTypePermissions)];
}

export interface CreateWorkflowsOptions {
  config: WorkflowsConfig & { rulesFile: string };
  database: DatabaseHandle;
  registry: WorkflowRegistry;
  permissions: RequestAuthorizer;
  audit: RequestAuditTrail;
  loadEntity(ref: string): Promise<Entity | undefined>;
  resolvePrincipal(userRef: string): Promise<Principal | undefined>;
  notifier?: RequestNotifier | undefined;
  logger: Logger;
  now?: () => Date;
}

/** The request engine with its rules, execution runner and expiry sweeper. */
export interface Workflows {
  registry: WorkflowRegistry;
  engine: RequestEngine;
  runner: ExecutionRunner;
  sweeper: ExpirySweeper;
  /** The approval rules in force. */
  rules(): ApprovalRulesFile;
  registerRoutes(app: FastifyInstance): Promise<void>;
  /**
   * Starts the runner; also, unless turned off, the expiry sweeper and the
   * reload of the rules file when it changes.
   */
  start(options?: { sweeper?: boolean; watchRules?: boolean }): void;
  stop(): Promise<void>;
}

/**
 * Creates the request engine. Register executors with `registry` before
 * calling start(). Throws ConfigError when the rules file is missing or invalid.
 */
export function createWorkflows(options: CreateWorkflowsOptions): Workflows {
  const { config, database, registry, logger } = options;
  const rules = new ApprovalRulesSource(config.rulesFile, () => registry.typeNames());
  let runner: ExecutionRunner | undefined;

  const engine = new RequestEngine({
    database,
    registry,
    permissions: options.permissions,
    audit: options.audit,
    rules: () => rules.current(),
    rulesFile: config.rulesFile,
    loadEntity: options.loadEntity,
    notifier: options.notifier,
    logger,
    onApproved: (request) => runner?.approved(request),
    now: options.now,
  });
  runner = new ExecutionRunner({
    database,
    registry,
    engine,
    audit: options.audit,
    settings: config.engine,
    resolvePrincipal: options.resolvePrincipal,
    logger,
    now: options.now,
  });
  const sweeper = new ExpirySweeper({
    database,
    engine,
    intervalSeconds: config.engine.expirySweepIntervalSeconds,
    logger,
  });
  const started = runner;

  return {
    registry,
    engine,
    runner: started,
    sweeper,
    rules: () => rules.current(),
    registerRoutes: (app) =>
      registerWorkflowRoutes(app, { engine, runner: started, permissions: options.permissions }),
    start(startOptions = {}) {
      started.start();
      if (startOptions.sweeper ?? true) {
        sweeper.start();
      }
      if (startOptions.watchRules ?? true) {
        rules.watch(logger, (reload) => recordRulesReload(options, reload));
      }
    },
    async stop() {
      rules.stopWatching();
      await sweeper.stop();
      await started.stop();
    },
  };
}

/**
 * Records a reload of the watched rules file as `approval-rules.reloaded`,
 * with the rule ids when it succeeded or the faults when the last good rules
 * stayed in force.
 */
async function recordRulesReload(
  options: CreateWorkflowsOptions,
  reload: RulesReload,
): Promise<void> {
  const base = {
    actor: ENGINE_ACTOR,
    action: 'approval-rules.reloaded',
    target: options.config.rulesFile,
  };
  if (reload.result === 'reloaded') {
    await options.audit.append(options.database.db, {
      ...base,
      outcome: 'succeeded',
      details: { rules: reload.rules.rules.map((rule) => rule.id) },
    });
    return;
  }
  const error = reload.error;
  await options.audit.append(options.database.db, {
    ...base,
    outcome: 'failed',
    reason: `${error instanceof Error ? error.message : String(error)}; the previous rules stay in force`,
    details: { faults: error instanceof PortalError ? error.details : [] },
  });
}
