import { InputError } from '../../errors/index.js';
import type { PermissionService } from '../../permissions/index.js';
import type { RoleElevationStore } from '../elevations.js';
import type { ExecutionContext, ExecutionResult, RequestExecutor } from '../types.js';

/** Duration of an elevation whose request and rule set none: one hour. */
export const DEFAULT_ELEVATION_SECONDS = 3_600;

export interface RoleElevationExecutorOptions {
  store: Pick<RoleElevationStore, 'grant'>;
  /** The roles file in force names the roles that can be granted. */
  permissions: Pick<PermissionService, 'currentPolicy'>;
  /** The clock that elevations start by; the system clock by default. */
  now?: () => Date;
}

/**
 * Throws InputError when the roles file in force defines no role named
 * `role`; the message lists the roles it defines. The request engine can
 * call it when a request is created, so a typo fails before approval.
 */
export function checkElevationRole(
  permissions: Pick<PermissionService, 'currentPolicy'>,
  role: unknown,
): string {
  const names = elevationRoleNames(permissions);
  if (typeof role !== 'string' || !names.includes(role)) {
    throw new InputError(
      `Role ${JSON.stringify(role)} is not defined in the roles file: request one of ${names.join(', ') || '(none defined)'}`,
      { details: [{ path: 'parameters.role', value: role, message: 'unknown role' }] },
    );
  }
  return role;
}

/** Returns the names of the roles that the roles file in force defines, sorted. */
export function elevationRoleNames(
  permissions: Pick<PermissionService, 'currentPolicy'>,
): string[] {
  return permissions
    .currentPolicy()
    .roles.roles.map((defined) => defined.name)
    .sort();
}

/**
 * Creates the executor of `role-elevation` requests. It runs as soon as a
 * request is approved and makes the requester a member of the role for the
 * requested duration, capped by the rule's maximum. The role's grants apply
 * with their conditions, as for its permanent members.
 */
export function createRoleElevationExecutor(
  options: RoleElevationExecutorOptions,
): RequestExecutor {
  const now = options.now ?? (() => new Date());

  return {
    type: 'role-elevation',
    trigger: 'automatic',
    checkParameters(parameters) {
      checkElevationRole(options.permissions, parameters.role);
    },
    parameterChoices() {
      return { role: elevationRoleNames(options.permissions) };
    },
    async execute(context: ExecutionContext): Promise<ExecutionResult> {
      const { request } = context;
      const role = checkElevationRole(options.permissions, request.parameters.role);
      const durationSeconds = elevationSeconds(
        request.parameters.durationSeconds,
        context.maxDurationSeconds,
      );

      const { elevation, created } = await options.store.grant({
        requestId: request.id,
        member: request.requester,
        role,
        expiresAt: new Date(now().getTime() + durationSeconds * 1000),
        reason: request.reason,
      });
      if (!created) {
        context.logger.info({ role }, 'role elevation already granted by an earlier attempt');
      }

      return {
        result: {
          role: elevation.role,
          member: elevation.member,
          grantedAt: elevation.grantedAt.toISOString(),
          expiresAt: elevation.expiresAt.toISOString(),
          durationSeconds: Math.round(
            (elevation.expiresAt.getTime() - elevation.grantedAt.getTime()) / 1000,
          ),
        },
      };
    },
  };
}

/** Returns the requested duration, or the rule's maximum or one hour without one, capped by the rule. */
function elevationSeconds(requested: unknown, maxDurationSeconds: number | undefined): number {
  if (requested !== undefined && (!Number.isInteger(requested) || (requested as number) < 1)) {
    throw new InputError(
      `durationSeconds ${JSON.stringify(requested)} is invalid: use a whole number of seconds, at least 1`,
      { details: [{ path: 'parameters.durationSeconds', value: requested, message: 'invalid' }] },
    );
  }
  const duration =
    (requested as number | undefined) ?? maxDurationSeconds ?? DEFAULT_ELEVATION_SECONDS;
  return maxDurationSeconds === undefined ? duration : Math.min(duration, maxDurationSeconds);
}
