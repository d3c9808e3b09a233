import type { Entity } from '@backstage/catalog-model';
import type { Logger } from 'pino';
import type { AuditTrail } from './audit/index.js';
import type { AppConfig } from './config/index.js';
import type { DatabaseHandle } from './database/index.js';
import type { PermissionService } from './permissions/index.js';
import { createRoleElevationStore, type RoleElevationStore } from './workflows/elevations.js';
import { createAwsCredentialsExecutor } from './workflows/executors/aws-credentials.js';
import { createDeploymentExecutor } from './workflows/executors/deployment-executor.js';
import { createRoleElevationExecutor } from './workflows/executors/role-elevation.js';
import { createRequestNotifier, type WebhookRequestNotifier } from './workflows/notifications.js';
import type { RequestExecutor } from './workflows/types.js';

export interface ConfiguredWorkflowParts {
  /** The executors that the config sets up: role elevation always, the others when configured. */
  executors: RequestExecutor[];
  /** The Slack-compatible notifier of `workflows.notifications`, or undefined when it is not set. */
  notifier: WebhookRequestNotifier | undefined;
  /** The store of role elevations, which feeds the permission engine's temporary members. */
  elevations: RoleElevationStore;
}

export interface ConfiguredWorkflowOptions {
  config: AppConfig;
  database: DatabaseHandle;
  audit: AuditTrail;
  permissions: PermissionService;
  logger: Logger;
  readEntity(entityRef: string): Promise<Entity | undefined>;
}

/**
 * Creates the executors and the notifier that `workflows` in the config
 * describes. A request type without a configured executor stays approved
 * with a message that names the missing setting.
 */
export function createConfiguredWorkflowParts(
  options: ConfiguredWorkflowOptions,
): ConfiguredWorkflowParts {
  const { config, database, audit, permissions, logger } = options;
  const elevations = createRoleElevationStore({ database, audit, permissions, logger });
  const executors: RequestExecutor[] = [
    createRoleElevationExecutor({ store: elevations, permissions }),
  ];
  if (config.workflows.deployment) {
    executors.push(
      createDeploymentExecutor(config.workflows.deployment, { readEntity: options.readEntity }),
    );
  }
  if (config.workflows.awsCredentials) {
    executors.push(createAwsCredentialsExecutor(config.workflows.awsCredentials));
  }
  const notifier = config.workflows.notifications
    ? createRequestNotifier(config.workflows.notifications, {
        baseUrl: config.app.baseUrl,
        logger,
      })
    : undefined;
  return { executors, notifier, elevations };
}
