import type { Entity } from '@backstage/catalog-model';
import type { ExecutionContext, ExecutionResult, RequestExecutor } from '../types.js';
import { RetryableExecutionError } from '../types.js';
import { type DeploymentOrder, readDeploymentOrder } from './deployment-request.js';
import {
  type DeliveryResponse,
  describeEndpoint,
  ExecutionFailedError,
  postForDelivery,
} from './http-delivery.js';

/** Entity annotation naming the workflow that deploys it: `owner/repo/workflow-file-or-id`. */
export const GITHUB_WORKFLOW_ANNOTATION = 'backstage-luigi.io/github-workflow';

/** The REST API version this executor is written against, sent as X-GitHub-Api-Version. */
export const GITHUB_API_VERSION = '2022-11-28';

export interface DeploymentGithubConfig {
  apiUrl: string;
  /** Never logged and never part of a message. */
  token: string;
  /** The default `owner/repo` for entities without the annotation. */
  repository?: string | undefined;
  /** The default workflow file name or id. */
  workflow?: string | undefined;
  /** The branch or tag to run the workflow from when the request names no gitRef. */
  ref: string;
  timeoutSeconds: number;
}

export interface DeploymentGithubOptions {
  config: DeploymentGithubConfig;
  /** Reads a catalog entity by its reference; resolves to undefined when it does not exist. */
  readEntity(entityRef: string): Promise<Entity | undefined>;
  /** Milliseconds since the epoch; tests pass a fixed clock. */
  now?: () => number;
}

/** A workflow to dispatch: `POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches`. */
export interface GithubWorkflowTarget {
  owner: string;
  repo: string;
  /** A workflow file name such as deploy.yml, or the workflow's numeric id. */
  workflow: string;
}

/** The JSON body of the dispatch call. */
export interface GithubDispatchBody {
  ref: string;
  inputs: {
    entity: string;
    environment: string;
    /** The requested version, or the gitRef when the request names no version. */
    version: string;
    request_id: string;
    idempotency_key: string;
  };
}

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPOSITORY = /^[A-Za-z0-9_.-]{1,100}$/;
const WORKFLOW = /^(?:[A-Za-z0-9_.-]+\.ya?ml|[0-9]+)$/;

/**
 * Parses `owner/repo/workflow`, such as `acme/orders/deploy.yml`. Returns a
 * message that names the fault, or the target.
 */
export function parseGithubWorkflow(value: string): GithubWorkflowTarget | string {
  const parts = value.trim().split('/');
  if (parts.length !== 3) {
    return `'${value}' must have three parts, owner/repo/workflow, such as acme/orders/deploy.yml`;
  }

  const [owner = '', repo = '', workflow = ''] = parts;
  if (!OWNER.test(owner)) {
    return `owner '${owner}' in '${value}' is invalid: use letters, digits and '-'`;
  }
  if (!REPOSITORY.test(repo) || repo === '.' || repo === '..') {
    return `repository '${repo}' in '${value}' is invalid: use letters, digits, '-', '_' and '.'`;
  }
  if (!WORKFLOW.test(workflow)) {
    return `workflow '${workflow}' in '${value}' is invalid: use a file name ending in .yml or .yaml, or a numeric workflow id`;
  }
  return { owner, repo, workflow };
}

/**
 * Creates the executor of `deployment` requests that starts a GitHub Actions
 * workflow through a workflow_dispatch event. The workflow comes from the
 * entity's backstage-luigi.io/github-workflow annotation, else from
 * `repository` and `workflow` in the config. It runs automatically once a
 * request is approved and expects 204; it does not ask for the run's details
 * (`return_run_details`), which older GitHub Enterprise Server versions reject,
 * but accepts a 200 as well. A timeout, a refused connection, 429, 5xx and a 403 for an
 * exhausted rate limit are retryable; any other status fails the request.
 *
 * NOTE: GitHub takes no idempotency key on this endpoint, so a retry after a
 * timed-out call that GitHub did accept starts a second run. The key is passed
 * as the `idempotency_key` input for the workflow to check.
 */
export function createDeploymentGithubExecutor(options: DeploymentGithubOptions): RequestExecutor {
  const { config, readEntity } = options;
  const now = options.now ?? Date.now;
  const apiUrl = config.apiUrl.replace(/\/+$/, '');
  const timeoutMs = Math.round(config.timeoutSeconds * 1000);

  const defaultTarget = readDefaultTarget(config);

  const findTarget = async (order: DeploymentOrder): Promise<GithubWorkflowTarget> => {
    let entity: Entity | undefined;
    try {
      entity = await readEntity(order.entityRef);
    } catch (error) {
      throw new RetryableExecutionError(
        `reading entity ${order.entityRef} for its ${GITHUB_WORKFLOW_ANNOTATION} annotation failed`,
        { cause: error },
      );
    }

    const annotation = entity?.metadata.annotations?.[GITHUB_WORKFLOW_ANNOTATION];
    if (annotation !== undefined) {
      const parsed = parseGithubWorkflow(annotation);
      if (typeof parsed === 'string') {
        throw new ExecutionFailedError(
          `entity ${order.entityRef} has an invalid ${GITHUB_WORKFLOW_ANNOTATION} annotation: ${parsed}`,
        );
      }
      return parsed;
    }

    if (defaultTarget) {
      return defaultTarget;
    }
    const found = entity ? 'has no' : 'is not in the catalog, so it has no';
    throw new ExecutionFailedError(
      `entity ${order.entityRef} ${found} ${GITHUB_WORKFLOW_ANNOTATION} annotation and workflows.deployment.githubActions sets no default: add the annotation, such as acme/orders/deploy.yml, or set repository and workflow`,
    );
  };

  return {
    type: 'deployment',
    trigger: 'automatic',

    async execute(context: ExecutionContext): Promise<ExecutionResult> {
      const order = readDeploymentOrder(context);
      const target = await findTarget(order);
      const ref = order.gitRef ?? config.ref;
      const body: GithubDispatchBody = {
        ref,
        inputs: {
          entity: order.entityRef,
          environment: order.environment,
          version: order.version ?? order.gitRef ?? '',
          request_id: order.requestId,
          idempotency_key: order.idempotencyKey,
        },
      };
      const path = `/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(target.repo)}/actions/workflows/${encodeURIComponent(target.workflow)}/dispatches`;
      const workflowName = `${target.owner}/${target.repo}/${target.workflow}`;

      const response = await postForDelivery({
        target: `GitHub (workflow ${workflowName})`,
        url: `${apiUrl}${path}`,
        endpoint: describeEndpoint(`${apiUrl}${path}`),
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${config.token}`,
          'content-type': 'application/json',
          'user-agent': 'backstage-luigi',
          'x-github-api-version': GITHUB_API_VERSION,
        },
        body: JSON.stringify(body),
        timeoutMs,
        signal: context.signal,
      });
      checkGithubStatus(workflowName, ref, response);

      context.logger.info(
        {
          endpoint: describeEndpoint(apiUrl),
          workflow: workflowName,
          ref,
          status: response.status,
        },
        'deployment workflow dispatched',
      );
      return {
        result: {
          executor: 'github-actions',
          repository: `${target.owner}/${target.repo}`,
          workflow: target.workflow,
          ref,
          status: response.status,
          dispatchedAt: new Date(now()).toISOString(),
        },
      };
    },
  };
}

function readDefaultTarget(config: DeploymentGithubConfig): GithubWorkflowTarget | undefined {
  if (config.repository === undefined || config.workflow === undefined) {
    return undefined;
  }
  const parsed = parseGithubWorkflow(`${config.repository}/${config.workflow}`);
  // The factory checks the defaults before it creates this executor.
  return typeof parsed === 'string' ? undefined : parsed;
}

/**
 * Maps GitHub's status to the engine's errors. GitHub sends 403 both for a
 * token without permission and for an exhausted rate limit; only the second
 * is worth retrying.
 */
function checkGithubStatus(workflowName: string, ref: string, response: DeliveryResponse): void {
  const { status } = response;
  if (status === 204 || status === 200) {
    return;
  }

  const message = readGithubMessage(response.text);
  const said = message ? `: ${message}` : '';
  if (status === 429 || status >= 500 || (status === 403 && isRateLimited(response, message))) {
    throw new RetryableExecutionError(
      `GitHub responded with ${status} for workflow ${workflowName}${said}`,
    );
  }
  if (status === 401) {
    throw new ExecutionFailedError(
      `GitHub rejected the token with 401${said}: renew workflows.deployment.githubActions.token`,
    );
  }
  if (status === 403) {
    throw new ExecutionFailedError(
      `GitHub rejected the dispatch of workflow ${workflowName} with 403${said}: give the token the Actions write permission on the repository`,
    );
  }
  if (status === 404) {
    throw new ExecutionFailedError(
      `GitHub responded with 404 for workflow ${workflowName}: check the repository and workflow names, and that the token can see the repository`,
    );
  }
  if (status === 422) {
    throw new ExecutionFailedError(
      `GitHub rejected the dispatch of workflow ${workflowName} at ref '${ref}' with 422${said}: the workflow needs a workflow_dispatch trigger with the inputs entity, environment, version, request_id and idempotency_key`,
    );
  }
  throw new ExecutionFailedError(
    `GitHub responded with ${status} for workflow ${workflowName}${said}`,
  );
}

function isRateLimited(response: DeliveryResponse, message: string): boolean {
  return (
    response.headers.get('x-ratelimit-remaining') === '0' ||
    response.headers.has('retry-after') ||
    /rate limit/i.test(message)
  );
}

/** GitHub's error bodies are `{ "message": ..., "documentation_url": ... }`. */
function readGithubMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') {
      return parsed.message.replace(/\s+/g, ' ').slice(0, 300);
    }
  } catch {
    // Not JSON: quote the start of the text.
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
