import type { Entity } from '@backstage/catalog-model';
import type { WorkflowsConfig } from '../../config/index.js';
import { ConfigError, type ErrorDetail } from '../../errors/index.js';
import type { RequestExecutor } from '../types.js';
import { createDeploymentGithubExecutor, parseGithubWorkflow } from './deployment-github.js';
import { createDeploymentWebhookExecutor } from './deployment-webhook.js';

/** `workflows.deployment` after the config schema parsed it. */
export type DeploymentExecutorConfig = NonNullable<WorkflowsConfig['deployment']>;

export interface DeploymentExecutorOptions {
  /**
   * Reads a catalog entity by its reference, or resolves to undefined. The
   * GitHub Actions executor reads the entity's workflow annotation with it.
   */
  readEntity(entityRef: string): Promise<Entity | undefined>;
  /** Milliseconds since the epoch; tests pass a fixed clock. */
  now?: () => number;
}

/**
 * Creates the `deployment` executor that `workflows.deployment` configures:
 * a signed webhook or a GitHub Actions workflow dispatch. Throws a
 * ConfigError when both are set, or when githubActions sets only one of
 * repository and workflow.
 */
export function createDeploymentExecutor(
  config: DeploymentExecutorConfig,
  options: DeploymentExecutorOptions,
): RequestExecutor {
  const faults = checkDeploymentConfig(config);
  if (faults.length > 0) {
    throw new ConfigError('workflows.deployment is invalid', faults);
  }

  const clock = options.now ? { now: options.now } : {};
  if (config.webhook) {
    return createDeploymentWebhookExecutor({ config: config.webhook, ...clock });
  }
  if (config.githubActions) {
    return createDeploymentGithubExecutor({
      config: config.githubActions,
      readEntity: options.readEntity,
      ...clock,
    });
  }
  // The schema requires one of the two.
  throw new ConfigError('workflows.deployment is invalid', [
    { path: 'workflows.deployment', message: 'set exactly one of webhook or githubActions' },
  ]);
}

/** Checks what the schema leaves out, because its messages would quote the secret or token. */
function checkDeploymentConfig(config: DeploymentExecutorConfig): ErrorDetail[] {
  if (config.webhook && config.githubActions) {
    return [
      {
        path: 'workflows.deployment',
        message: 'both webhook and githubActions are set: keep exactly one',
      },
    ];
  }

  const github = config.githubActions;
  if (!github) {
    return [];
  }
  if (github.repository === undefined && github.workflow === undefined) {
    return [];
  }
  if (github.repository === undefined || github.workflow === undefined) {
    const missing = github.repository === undefined ? 'repository' : 'workflow';
    return [
      {
        path: `workflows.deployment.githubActions.${missing}`,
        message: `is required when ${missing === 'repository' ? 'workflow' : 'repository'} is set: set both as the default for entities without the annotation, or neither`,
      },
    ];
  }

  const parsed = parseGithubWorkflow(`${github.repository}/${github.workflow}`);
  if (typeof parsed === 'string') {
    return [{ path: 'workflows.deployment.githubActions', message: parsed }];
  }
  return [];
}
