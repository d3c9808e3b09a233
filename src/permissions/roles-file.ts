import { readFileSync } from 'node:fs';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { z } from 'zod';
import { countFaults, locateInYamlFiles, readYamlWithSchema } from '../config/index.js';
import { ConfigError, type ErrorDetail } from '../errors/index.js';
import { criteriaSchema, validateCriteria } from './conditions.js';
import type { PermissionRegistry } from './registry.js';
import type { ConditionCriteria, PermissionDefinition } from './types.js';

const memberSchema = z.string().transform((value, context) => {
  const ref = parseMemberRef(value);
  if (typeof ref === 'string') {
    return ref;
  }
  context.addIssue({ code: 'custom', message: ref.error });
  return z.NEVER;
});

/** Grants every registered permission. */
export const ALL_PERMISSIONS = '*';

const grantSchema = z
  .object({
    permission: z
      .string()
      .min(
        1,
        'must name a permission such as catalog.entity.read, a capability wildcard such as catalog.*, or *',
      ),
    effect: z
      .enum(['allow', 'deny'])
      .default('allow')
      .meta({ description: 'allow (the default) or deny; a deny wins over every allow' }),
    conditions: criteriaSchema.optional().meta({
      description:
        "Backstage's criteria shape: { rule, params }, or allOf / anyOf / not around more criteria. Only for permissions with a resource type.",
    }),
    /**
     * Confirms a wildcard grant (`*` or `capability.*`), which also covers
     * permissions that a later version of the portal registers.
     */
    acknowledgeWildcard: z.literal(true).optional().meta({
      description:
        'Required with a wildcard permission (* or capability.*), which also covers permissions added later',
    }),
  })
  .strict();

const roleSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9]+([-_.][a-z0-9]+)*$/,
        'must be lowercase letters and digits joined by single -, _ or . (for example platform-admin)',
      ),
    title: z.string().optional(),
    description: z.string().optional(),
    members: z.array(memberSchema).default([]).meta({
      description:
        'User and group references such as user:ada or group:default/team-a; a group covers every group below it',
    }),
    /** Makes every signed-in user a member; only this explicit flag does. */
    allSignedInUsers: z
      .literal(true)
      .optional()
      .meta({ description: 'Makes every signed-in user a member of the role' }),
    grants: z.array(grantSchema).min(1, 'must list at least one grant'),
  })
  .strict();

export const rolesFileSchema = z
  .object({
    roles: z.array(roleSchema),
  })
  .strict();

export type RoleGrant = z.infer<typeof grantSchema> & { conditions?: ConditionCriteria };
export type Role = z.infer<typeof roleSchema>;
export interface RolesFile {
  roles: Role[];
}

/** Parses `user:ada` or `group:default/team-a` into a lowercase reference, or says what is wrong. */
export function parseMemberRef(value: string): string | { error: string } {
  let ref: { kind: string; namespace: string; name: string };
  try {
    ref = parseEntityRef(value);
  } catch {
    return {
      error: `'${value}' is not a member reference: write user:<name> or group:<name>, optionally with a namespace (group:default/team-a)`,
    };
  }
  const kind = ref.kind.toLowerCase();
  if (kind !== 'user' && kind !== 'group') {
    return {
      error: `'${value}' has kind '${ref.kind}': members must be users (user:…) or groups (group:…)`,
    };
  }
  return stringifyEntityRef(ref);
}

/**
 * Reads and checks a roles file: its schema, that every permission is
 * registered, that conditions are given only for resource permissions and use
 * registered rules. Throws a ConfigError listing every fault.
 */
export function loadRolesFile(file: string, registry: PermissionRegistry): RolesFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Roles file ${file} cannot be read`, [
      {
        path: file,
        message: `${(error as Error).message}: check permission.rolesFile in the config`,
      },
    ]);
  }
  return parseRolesFile(file, text, registry);
}

/** Checks the text of a roles file; see loadRolesFile. */
export function parseRolesFile(
  file: string,
  text: string,
  registry: PermissionRegistry,
): RolesFile {
  const { data, yaml } = readYamlWithSchema(file, text, rolesFileSchema, 'Roles file');
  const locate = (path: readonly PropertyKey[]) => locateInYamlFiles([yaml], path);
  const faults: ErrorDetail[] = [];
  const seen = new Map<string, number>();

  data.roles.forEach((role, roleIndex) => {
    const earlier = seen.get(role.name);
    if (earlier !== undefined) {
      faults.push({
        path: locate(['roles', roleIndex, 'name']),
        value: role.name,
        message: `role '${role.name}' is already defined as roles[${earlier}]: give each role a unique name`,
      });
    }
    seen.set(role.name, roleIndex);

    role.grants.forEach((grant, grantIndex) => {
      const grantPath = ['roles', roleIndex, 'grants', grantIndex];
      if (isWildcardPermission(grant.permission)) {
        faults.push(
          ...checkWildcardGrant(grant, registry, (path) => locate([...grantPath, ...path])),
        );
        return;
      }
      if (grant.acknowledgeWildcard) {
        faults.push({
          path: locate([...grantPath, 'acknowledgeWildcard']),
          message: `permission '${grant.permission}' is not a wildcard, so there is nothing to acknowledge: remove acknowledgeWildcard`,
        });
      }
      const permission = registry.getPermission(grant.permission);
      if (!permission) {
        faults.push({
          path: locate([...grantPath, 'permission']),
          value: grant.permission,
          message: `permission '${grant.permission}' is not registered: see GET /api/permission/permissions for the list`,
        });
        return;
      }
      if (!grant.conditions) {
        return;
      }
      if (!permission.resourceType) {
        faults.push({
          path: locate([...grantPath, 'conditions']),
          message: `permission '${grant.permission}' has no resource type, so it cannot take conditions: remove them`,
        });
        return;
      }
      faults.push(
        ...validateCriteria(grant.conditions, permission.resourceType, registry, locate, [
          ...grantPath,
          'conditions',
        ]),
      );
    });
  });

  if (faults.length > 0) {
    throw new ConfigError(`Roles file ${file} is invalid (${countFaults(faults.length)})`, faults);
  }
  return data;
}

/** Returns true for `*` and for capability wildcards such as `catalog.*`. */
export function isWildcardPermission(permission: string): boolean {
  return permission === ALL_PERMISSIONS || permission.endsWith('.*');
}

/** Lists the registered permissions that a grant's permission (a name or a wildcard) covers. */
export function expandGrantPermission(
  permission: string,
  registry: PermissionRegistry,
): PermissionDefinition[] {
  if (permission === ALL_PERMISSIONS) {
    return registry.listPermissions();
  }
  if (permission.endsWith('.*')) {
    const prefix = permission.slice(0, -1);
    return registry.listPermissions().filter((definition) => definition.name.startsWith(prefix));
  }
  const definition = registry.getPermission(permission);
  return definition ? [definition] : [];
}

/**
 * Checks a wildcard grant: it must be acknowledged, must cover at least one
 * permission, and may take conditions only when every permission it covers
 * has the same resource type.
 */
function checkWildcardGrant(
  grant: RoleGrant,
  registry: PermissionRegistry,
  locate: (path: readonly PropertyKey[]) => string,
): ErrorDetail[] {
  const faults: ErrorDetail[] = [];
  const wildcard = grant.permission;
  const covered = expandGrantPermission(wildcard, registry);
  const scope =
    wildcard === ALL_PERMISSIONS
      ? 'every permission of every capability'
      : `every permission of the ${wildcard.slice(0, -2)} capability`;

  if (!grant.acknowledgeWildcard) {
    faults.push({
      path: locate(['permission']),
      value: wildcard,
      message: `'${wildcard}' grants ${scope}, including permissions added later: list the permissions one by one, or add acknowledgeWildcard: true to this grant`,
    });
  }
  if (covered.length === 0) {
    faults.push({
      path: locate(['permission']),
      value: wildcard,
      message: `'${wildcard}' matches no registered permission: see GET /api/permission/permissions for the list`,
    });
    return faults;
  }
  if (!grant.conditions) {
    return faults;
  }

  const resourceTypes = new Set(covered.map((definition) => definition.resourceType ?? '(none)'));
  const [resourceType] = resourceTypes;
  if (resourceTypes.size !== 1 || resourceType === '(none)') {
    faults.push({
      path: locate(['conditions']),
      message: `'${wildcard}' covers permissions of the resource types ${[...resourceTypes].sort().join(', ')}, so it cannot take conditions: grant the resource permissions one by one`,
    });
    return faults;
  }
  faults.push(
    ...validateCriteria(grant.conditions, resourceType as string, registry, locate, ['conditions']),
  );
  return faults;
}
