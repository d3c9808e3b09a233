import type { ExecutionContext } from '../types.js';
import { ExecutionFailedError } from './http-delivery.js';

/** The request type that the deployment executors run. */
export const DEPLOYMENT_REQUEST_TYPE = 'deployment';

/** The fields of a deployment request that the executors send on. */
export interface DeploymentOrder {
  requestId: string;
  /** The catalog entity to deploy, such as `component:default/orders`. */
  entityRef: string;
  environment: string;
  version: string | undefined;
  gitRef: string | undefined;
  requester: string;
  /** User entity references of the approvers; empty for an automatic approval or when the engine passes none. */
  approvers: string[];
  idempotencyKey: string;
  attempt: number;
}

/**
 * Reads the deployment from an execution context. The request type's schema
 * has already checked the parameters, so a missing field here means the
 * request is not a deployment, and the request fails.
 */
export function readDeploymentOrder(context: ExecutionContext): DeploymentOrder {
  const { request } = context;
  if (request.type !== DEPLOYMENT_REQUEST_TYPE) {
    throw new ExecutionFailedError(
      `request ${request.id} has type '${request.type}', but this executor runs only '${DEPLOYMENT_REQUEST_TYPE}' requests`,
    );
  }

  const entityRef = request.entityRef ?? optionalString(request.parameters.entity);
  if (!entityRef) {
    throw new ExecutionFailedError(
      `deployment request ${request.id} names no entity: the request type must require parameters.entity`,
    );
  }

  const environment = optionalString(request.parameters.environment);
  if (!environment) {
    throw new ExecutionFailedError(
      `deployment request ${request.id} has no parameters.environment: the request type must require it`,
    );
  }

  const version = optionalString(request.parameters.version);
  const gitRef = optionalString(request.parameters.gitRef);
  if (!version && !gitRef) {
    throw new ExecutionFailedError(
      `deployment request ${request.id} has neither parameters.version nor parameters.gitRef: the request type must require one`,
    );
  }

  return {
    requestId: request.id,
    entityRef,
    environment,
    version,
    gitRef,
    requester: request.requester,
    approvers: readApprovers(context),
    idempotencyKey: context.idempotencyKey,
    attempt: context.attempt,
  };
}

/** Reads the approvers from the context, or else from a `result.approvers` list stored on the request. */
function readApprovers(context: ExecutionContext): string[] {
  if (context.approvers) {
    return [...context.approvers];
  }
  const stored = context.request.result?.approvers;
  if (Array.isArray(stored)) {
    return stored.filter((approver): approver is string => typeof approver === 'string');
  }
  return [];
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
