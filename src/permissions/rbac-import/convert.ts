import { formatFieldPath } from '../../config/index.js';
import { validateCriteria } from '../conditions.js';
import type { PermissionRegistry } from '../registry.js';
import type { RoleGrant, RolesFile } from '../roles-file.js';
import type { ConditionCriteria } from '../types.js';
import type { ConditionalPolicies, ConditionalPolicyDocument } from './conditional-policy.js';
import type { RbacCsv, RbacGroupingLine, RbacPolicyLine } from './csv-policy.js';
import { type ImportIssue, sortImportIssues } from './import-issue.js';
import { describePermissions, mapPolicyObject, mapResourceType } from './permission-mapping.js';
import { parseRbacRef, type RbacRef, roleNameFor } from './rbac-refs.js';

/** The source of a converted grant: file, line and document, for comments in the roles file. */
export interface ImportOrigin {
  file: string;
  line: number;
  document?: number;
}

export interface ImportedRole {
  /** The RBAC role, user or group the role stands for, lowercase. */
  subject: string;
  /** The source of each grant, by grant index. */
  grantOrigins: ImportOrigin[];
}

export interface RbacImportResult {
  rolesFile: RolesFile;
  /** One entry per role of `rolesFile`, in the same order. */
  roles: ImportedRole[];
  /** Errors (not converted) and warnings (converted, read them), by file and line. */
  issues: ImportIssue[];
  counts: {
    csvLines: number;
    csvLinesConverted: number;
    documents: number;
    documentsConverted: number;
  };
}

interface DraftGrant extends ImportOrigin {
  permission: string;
  effect: 'allow' | 'deny';
  conditions?: ConditionCriteria;
  /** The form in which the RBAC policy named the permission. */
  form: 'permission' | 'resource-type' | 'conditions';
}

interface DraftRole {
  name: string;
  subject: RbacRef;
  members: string[];
  /** The first line that named the role. */
  origin: ImportOrigin;
  /** The first `g` line that assigned the role. */
  assignedAt?: ImportOrigin;
  /** `p` lines and conditional documents that give the role permissions, converted or not. */
  sources: number;
  grants: DraftGrant[];
}

/**
 * Converts parsed RBAC policies into a roles file. A line or document that
 * cannot be converted becomes an error and is left out; every other one is
 * converted. The registry decides which permissions and rules exist.
 */
export function convertRbacPolicies(
  input: { csv: RbacCsv; conditions?: ConditionalPolicies },
  registry: PermissionRegistry,
): RbacImportResult {
  const converter = new Converter(registry);
  let csvLinesConverted = 0;
  for (const line of input.csv.lines) {
    const converted =
      line.type === 'p'
        ? converter.addPolicyLine(input.csv.file, line)
        : converter.addGroupingLine(input.csv.file, line);
    if (converted) {
      csvLinesConverted += 1;
    }
  }

  let documentsConverted = 0;
  const conditions = input.conditions;
  for (const document of conditions?.documents ?? []) {
    if (conditions && converter.addConditionalPolicy(conditions.file, document)) {
      documentsConverted += 1;
    }
  }

  const { rolesFile, roles } = converter.finish();
  const files = [input.csv.file, ...(input.conditions ? [input.conditions.file] : [])];
  return {
    rolesFile,
    roles,
    issues: sortImportIssues(
      [...input.csv.issues, ...(input.conditions?.issues ?? []), ...converter.issues],
      files,
    ),
    counts: {
      csvLines: input.csv.policyLineCount,
      csvLinesConverted,
      documents: input.conditions?.documentCount ?? 0,
      documentsConverted,
    },
  };
}

class Converter {
  readonly issues: ImportIssue[] = [];
  private readonly roles = new Map<string, DraftRole>();
  private readonly roleNames = new Map<string, string>();

  constructor(private readonly registry: PermissionRegistry) {}

  addPolicyLine(file: string, line: RbacPolicyLine): boolean {
    const origin = { file, line: line.line };
    const subject = parseRbacRef(line.subject, ['role', 'user', 'group'], 'subject');
    if ('error' in subject) {
      this.error(origin, `${subject.error}${denyWarning(line)}`);
      return false;
    }
    const role = this.roleFor(subject, origin, denyWarning(line));
    if (!role) {
      return false;
    }
    role.sources += 1;

    const mapping = mapPolicyObject(line.object, line.action, this.registry);
    if ('error' in mapping) {
      this.error(origin, mapping.error);
      return false;
    }
    const form = this.registry.getPermission(line.object) ? 'permission' : 'resource-type';
    for (const permission of mapping.permissions) {
      addGrant(role, { ...origin, permission: permission.name, effect: line.effect, form });
    }
    return true;
  }

  addGroupingLine(file: string, line: RbacGroupingLine): boolean {
    const origin = { file, line: line.line };
    const member = parseRbacRef(line.member, ['user', 'group'], 'member');
    if ('error' in member) {
      this.error(origin, member.error);
      return false;
    }
    const roleRef = parseRbacRef(line.role, ['role'], 'role');
    if ('error' in roleRef) {
      this.error(origin, roleRef.error);
      return false;
    }
    const role = this.roleFor(roleRef, origin);
    if (!role) {
      return false;
    }

    role.assignedAt ??= origin;
    if (!role.members.includes(member.ref)) {
      role.members.push(member.ref);
    }
    return true;
  }

  /**
   * Adds the conditions of one document to its role, once per permission of
   * the mapped actions. Returns true when every action converted.
   */
  addConditionalPolicy(file: string, document: ConditionalPolicyDocument): boolean {
    const at = (path: readonly PropertyKey[]): ImportOrigin & { field?: string } => ({
      file,
      line: document.lineOf(path),
      document: document.index,
      ...(path.length > 0 ? { field: formatFieldPath(path) } : {}),
    });

    const roleRef = parseRbacRef(document.roleEntityRef, ['role'], 'roleEntityRef');
    if ('error' in roleRef) {
      this.error(at(['roleEntityRef']), roleRef.error);
      return false;
    }
    const mapping = mapResourceType(document.pluginId, document.resourceType, this.registry);
    if ('error' in mapping) {
      this.error(at([mapping.field]), mapping.error);
      return false;
    }

    const paths: (readonly PropertyKey[])[] = [];
    const faults = validateCriteria(
      document.conditions,
      document.resourceType,
      this.registry,
      (path) => {
        paths.push(path);
        return String(paths.length - 1);
      },
      ['conditions'],
    );
    for (const fault of faults) {
      const path = paths[Number(fault.path)] ?? ['conditions'];
      this.error(at(path), fault.message);
    }
    if (faults.length > 0) {
      return false;
    }

    const role = this.roleFor(roleRef, at([]));
    if (!role) {
      return false;
    }
    role.sources += 1;

    let complete = true;
    document.permissionMapping.forEach((action, index) => {
      const path = ['permissionMapping', index];
      const permissions = mapping.permissions.filter((item) => item.action === action);
      if (permissions.length === 0) {
        this.error(
          at(path),
          `resource type '${document.resourceType}' has no permission with action '${action}' in this portal, only ${describePermissions(mapping.permissions)}`,
        );
        complete = false;
        return;
      }
      for (const permission of permissions) {
        const earlier = role.grants.find(
          (grant) => grant.form === 'conditions' && grant.permission === permission.name,
        );
        if (earlier) {
          this.error(
            at(path),
            `role '${roleRef.ref}' already has conditions for ${permission.name} from document ${earlier.document} (line ${earlier.line}), and the RBAC plugin keeps one conditional policy per role and permission: join the two with anyOf`,
          );
          complete = false;
          continue;
        }
        addGrant(role, {
          ...at([]),
          permission: permission.name,
          effect: 'allow',
          conditions: document.conditions,
          form: 'conditions',
        });
      }
    });
    return complete;
  }

  /** Builds the roles file: roles with grants, in the order the files first named them. */
  finish(): { rolesFile: RolesFile; roles: ImportedRole[] } {
    const rolesFile: RolesFile = { roles: [] };
    const roles: ImportedRole[] = [];
    for (const role of this.roles.values()) {
      if (!this.checkRole(role)) {
        continue;
      }
      this.checkPrecedence(role);
      rolesFile.roles.push({
        name: role.name,
        description: describeSubject(role.subject),
        members: role.members,
        grants: role.grants.map(toRoleGrant),
      });
      roles.push({
        subject: role.subject.ref,
        grantOrigins: role.grants.map(({ file, line, document }) =>
          document === undefined ? { file, line } : { file, line, document },
        ),
      });
    }
    return { rolesFile, roles };
  }

  /**
   * Warns about a role that grants nothing or has no member. Returns whether
   * the role goes into the file.
   */
  private checkRole(role: DraftRole): boolean {
    const ref = role.subject.ref;
    if (role.grants.length === 0) {
      // A user's or group's own role has no g line; its errors explain it already.
      if (role.subject.kind === 'role' && role.members.length > 0) {
        const reason =
          role.sources === 0
            ? 'no p line or conditional policy gives it a permission'
            : 'none of its permissions converted (see the errors)';
        this.warning(
          role.assignedAt ?? role.origin,
          `role '${ref}' is assigned, but ${reason}, so it grants nothing and is left out`,
        );
      }
      return false;
    }
    if (role.subject.kind === 'role' && role.members.length === 0) {
      this.warning(
        role.origin,
        `role '${ref}' has permissions but no g line assigns it to a user or group, so it applies to nobody: check the role's name in the g lines`,
      );
    }
    return true;
  }

  /**
   * Warns where one role's grants of a permission would be decided by the
   * RBAC plugin differently: it prefers conditions over a plain allow, and a
   * line that names the permission over one that names its resource type.
   * This portal applies every grant and lets a deny win.
   */
  private checkPrecedence(role: DraftRole): void {
    const ref = role.subject.ref;
    for (const conditional of role.grants.filter((grant) => grant.form === 'conditions')) {
      const plain = role.grants.find(
        (grant) =>
          grant.form !== 'conditions' &&
          grant.permission === conditional.permission &&
          grant.effect === 'allow',
      );
      if (plain) {
        this.warning(
          conditional,
          `role '${ref}' also allows ${conditional.permission} without conditions (${plain.file}:${plain.line}), so here the conditions narrow nothing, while the RBAC plugin (with its default policyDecisionPrecedence) would apply only the conditions: remove that p line to keep them`,
        );
      }
    }

    for (const named of role.grants.filter((grant) => grant.form === 'permission')) {
      const typed = role.grants.find(
        (grant) =>
          grant.form === 'resource-type' &&
          grant.permission === named.permission &&
          grant.effect !== named.effect,
      );
      if (typed) {
        this.warning(
          typed,
          `role '${ref}' names ${named.permission} with effect ${named.effect} (${named.file}:${named.line}) and its resource type with effect ${typed.effect}: the RBAC plugin would apply only the named line, this portal applies both and a deny wins`,
        );
      }
    }
  }

  /** Finds or creates the role of a subject; `suffix` ends the message when its name is unusable. */
  private roleFor(subject: RbacRef, origin: ImportOrigin, suffix = ''): DraftRole | undefined {
    const existing = this.roles.get(subject.ref);
    if (existing) {
      return existing;
    }

    const name = roleNameFor(subject);
    if (typeof name !== 'string') {
      this.error(origin, `${name.error}${suffix}`);
      return undefined;
    }
    const holder = this.roleNames.get(name);
    if (holder !== undefined) {
      this.error(
        origin,
        `'${subject.ref}' and '${holder}' both become the role name '${name}': rename one of them in the RBAC policy${suffix}`,
      );
      return undefined;
    }

    const role: DraftRole = { name, subject, members: [], origin, sources: 0, grants: [] };
    if (subject.kind !== 'role') {
      role.members.push(subject.ref);
    }
    this.roles.set(subject.ref, role);
    this.roleNames.set(name, subject.ref);
    return role;
  }

  private error(origin: ImportOrigin & { field?: string }, message: string): void {
    this.issues.push(issueOf('error', origin, message));
  }

  private warning(origin: ImportOrigin, message: string): void {
    this.issues.push(issueOf('warning', origin, message));
  }
}

function issueOf(
  severity: ImportIssue['severity'],
  origin: ImportOrigin & { field?: string },
  message: string,
): ImportIssue {
  const issue: ImportIssue = { severity, file: origin.file, line: origin.line, message };
  if (origin.document !== undefined) {
    issue.document = origin.document;
  }
  if (origin.field !== undefined) {
    issue.field = origin.field;
  }
  return issue;
}

/** Adds a grant unless the role already has the same one (a repeated line). */
function addGrant(role: DraftRole, grant: DraftGrant): void {
  const same = role.grants.some(
    (existing) =>
      existing.permission === grant.permission &&
      existing.effect === grant.effect &&
      JSON.stringify(existing.conditions) === JSON.stringify(grant.conditions),
  );
  if (!same) {
    role.grants.push(grant);
  }
}

function toRoleGrant(grant: DraftGrant): RoleGrant {
  return {
    permission: grant.permission,
    effect: grant.effect,
    ...(grant.conditions ? { conditions: grant.conditions } : {}),
  } as RoleGrant;
}

function describeSubject(subject: RbacRef): string {
  return subject.kind === 'role'
    ? `Imported from the RBAC role ${subject.ref}`
    : `Imported from the RBAC policies given directly to ${subject.ref}`;
}

/** Returns the note for a left-out deny line, because that deny may have narrowed an allow. */
function denyWarning(line: RbacPolicyLine): string {
  return line.effect === 'deny'
    ? ' (this deny is left out, so the roles file may allow more than the RBAC policy)'
    : '';
}
