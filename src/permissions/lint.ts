import { locateInYamlFiles, parseYamlFile } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import type { Organisation } from './organisation.js';
import type { PermissionRegistry } from './registry.js';
import {
  expandGrantPermission,
  isWildcardPermission,
  parseRolesFile,
  type RolesFile,
} from './roles-file.js';
import type { PermissionAction } from './types.js';

export interface LintFinding {
  severity: 'error' | 'warning';
  /** Stable name of the check, for filtering in CI. */
  code:
    | 'invalid-roles-file'
    | 'unknown-member'
    | 'role-without-members'
    | 'shadowed-grant'
    | 'wildcard-grant'
    | 'broad-admin-grant';
  /** File, line and field, such as `roles.yaml:12: roles[2].grants[0]`. */
  path: string;
  message: string;
}

export interface LintReport {
  findings: LintFinding[];
  errors: number;
  warnings: number;
  /** The parsed file, when it passed its schema and registry checks. */
  roles?: RolesFile;
}

export interface LintOptions {
  registry: PermissionRegistry;
  /** The catalog's users and groups; without it, member checks are left out. */
  organisation?: Organisation;
  /** A group with at least this many users counts as large for admin-level grants. */
  largeGroupSize?: number;
}

/** Default size from which a group counts as large: a department rather than a team. */
export const DEFAULT_LARGE_GROUP_SIZE = 50;

/** Actions that change things; granting them broadly is what a reviewer should see. */
const ADMIN_ACTIONS: ReadonlySet<PermissionAction> = new Set(['create', 'update', 'delete']);

/**
 * Checks a roles file as the server would load it. Then it looks for
 * mistakes that load fine: members missing from the catalog, roles without
 * members, allow grants that a deny cancels for everyone they reach,
 * wildcards, and admin-level grants to everyone or to large groups.
 */
export function lintRolesFile(file: string, text: string, options: LintOptions): LintReport {
  let roles: RolesFile;
  try {
    roles = parseRolesFile(file, text, options.registry);
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
    const findings = error.details.map(
      (detail): LintFinding => ({
        severity: 'error',
        code: 'invalid-roles-file',
        path: detail.path ?? file,
        message: detail.message,
      }),
    );
    return summarise(findings);
  }

  const { yaml } = parseYamlFile(file, text);
  const locate = (path: readonly PropertyKey[]) => locateInYamlFiles([yaml], path);
  const findings: LintFinding[] = [];
  const organisation = options.organisation;
  const largeGroupSize = options.largeGroupSize ?? DEFAULT_LARGE_GROUP_SIZE;

  roles.roles.forEach((role, roleIndex) => {
    const rolePath = ['roles', roleIndex];
    if (role.members.length === 0 && !role.allSignedInUsers) {
      findings.push({
        severity: 'warning',
        code: 'role-without-members',
        path: locate(rolePath),
        message: `role '${role.name}' has no members, so its grants apply to nobody: add members, or remove the role`,
      });
    }
    if (organisation) {
      role.members.forEach((member, memberIndex) => {
        if (!memberExists(organisation, member)) {
          findings.push({
            severity: 'warning',
            code: 'unknown-member',
            path: locate([...rolePath, 'members', memberIndex]),
            message: `member '${member}' of role '${role.name}' is not in the catalog: check the spelling, or add the ${member.startsWith('user:') ? 'User' : 'Group'} entity`,
          });
        }
      });
    }

    role.grants.forEach((grant, grantIndex) => {
      const grantPath = [...rolePath, 'grants', grantIndex];
      if (isWildcardPermission(grant.permission) && grant.effect === 'allow') {
        findings.push({
          severity: 'warning',
          code: 'wildcard-grant',
          path: locate(grantPath),
          message: `role '${role.name}' is granted '${grant.permission}', which will also cover permissions added later: prefer listing the permissions`,
        });
      }
      if (grant.effect !== 'allow' || grant.conditions) {
        return;
      }
      const adminPermissions = expandGrantPermission(grant.permission, options.registry)
        .filter((definition) => ADMIN_ACTIONS.has(definition.action))
        .map((definition) => definition.name);
      if (adminPermissions.length === 0) {
        return;
      }
      const broadMembers = role.allSignedInUsers
        ? ['every signed-in user']
        : organisation
          ? role.members.filter(
              (member) =>
                member.startsWith('group:') &&
                (organisation.usersOfGroup.get(member)?.size ?? 0) >= largeGroupSize,
            )
          : [];
      if (broadMembers.length > 0) {
        findings.push({
          severity: 'warning',
          code: 'broad-admin-grant',
          path: locate(grantPath),
          message: `role '${role.name}' gives ${adminPermissions.join(', ')} without conditions to ${broadMembers.join(', ')}: narrow it with conditions or to a smaller group`,
        });
      }
    });
  });

  findings.push(...findShadowedGrants(roles, options, locate));
  return { ...summarise(findings), roles };
}

/**
 * Finds allow grants that an unconditional deny cancels for every member
 * they reach. With the organisation, that means every user the role covers.
 * Without it, the deny must list every member of the allow's role.
 */
function findShadowedGrants(
  roles: RolesFile,
  options: LintOptions,
  locate: (path: readonly PropertyKey[]) => string,
): LintFinding[] {
  const findings: LintFinding[] = [];
  const denies = roles.roles.flatMap((role) =>
    role.grants
      .filter((grant) => grant.effect === 'deny' && !grant.conditions)
      .map((grant) => ({
        role,
        permissions: new Set(
          expandGrantPermission(grant.permission, options.registry).map((item) => item.name),
        ),
      })),
  );
  if (denies.length === 0) {
    return findings;
  }

  roles.roles.forEach((role, roleIndex) => {
    const reached = usersReached(role, options.organisation);
    role.grants.forEach((grant, grantIndex) => {
      if (grant.effect !== 'allow') {
        return;
      }
      for (const permission of expandGrantPermission(grant.permission, options.registry)) {
        const cancelling = denies.filter(
          (deny) =>
            deny.permissions.has(permission.name) && covers(deny.role, role, reached, options),
        );
        if (cancelling.length > 0) {
          findings.push({
            severity: 'warning',
            code: 'shadowed-grant',
            path: locate(['roles', roleIndex, 'grants', grantIndex]),
            message: `allow of ${permission.name} in role '${role.name}' never takes effect: the deny in role '${cancelling[0]?.role.name}' covers every member it reaches`,
          });
          return;
        }
      }
    });
  });
  return findings;
}

type RoleOf = RolesFile['roles'][number];

/** Users a role reaches through its members, or undefined when it cannot be known. */
function usersReached(role: RoleOf, organisation?: Organisation): Set<string> | undefined {
  if (!organisation || role.allSignedInUsers) {
    return undefined;
  }
  const users = new Set<string>();
  for (const member of role.members) {
    if (member.startsWith('user:')) {
      users.add(member);
    } else {
      for (const user of organisation.usersOfGroup.get(member) ?? []) {
        users.add(user);
      }
    }
  }
  return users;
}

/** Returns true when the deny role's members include everyone the allow role reaches. */
function covers(
  denyRole: RoleOf,
  allowRole: RoleOf,
  reached: Set<string> | undefined,
  options: LintOptions,
): boolean {
  if (denyRole.allSignedInUsers) {
    return true;
  }
  if (allowRole.allSignedInUsers) {
    return false;
  }
  const denyMembers = new Set(denyRole.members);
  if (
    allowRole.members.length > 0 &&
    allowRole.members.every((member) => denyMembers.has(member))
  ) {
    return true;
  }
  const organisation = options.organisation;
  if (!organisation || !reached || reached.size === 0) {
    return false;
  }
  const denied = usersReached(denyRole, organisation) ?? new Set<string>();
  for (const user of reached) {
    if (!denied.has(user)) {
      return false;
    }
  }
  return true;
}

function memberExists(organisation: Organisation, member: string): boolean {
  return member.startsWith('user:')
    ? organisation.groupsOfUser.has(member)
    : organisation.groupAndAncestors.has(member);
}

function summarise(findings: LintFinding[]): LintReport {
  const errors = findings.filter((finding) => finding.severity === 'error').length;
  return { findings, errors, warnings: findings.length - errors };
}

/** Formats a lint report: one line per finding, then a summary. */
export function formatLintReport(file: string, report: LintReport): string {
  const lines = report.findings.map(
    (finding) => `${finding.severity}: ${finding.path}: ${finding.message} [${finding.code}]`,
  );
  lines.push(
    `${file}: ${report.errors} error${report.errors === 1 ? '' : 's'}, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}`,
  );
  return `${lines.join('\n')}\n`;
}
