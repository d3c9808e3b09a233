import { NotAllowedError } from '../errors/index.js';
import { evaluateCriteria, expandAliases } from './conditions.js';
import type { PermissionRegistry } from './registry.js';
import type { RolesFile } from './roles-file.js';
import type { ConditionCriteria, Decision, DecisionSource, Principal } from './types.js';

interface CompiledGrant {
  source: DecisionSource;
  conditions?: ConditionCriteria;
  /** Lowercase user and group references of the role's members. */
  members: ReadonlySet<string>;
}

/**
 * The roles in force, compiled for lookups by permission. Default deny: a
 * permission that no role grants to the principal is denied, and a deny grant
 * wins over any allow grant.
 */
export class Policy {
  private readonly grantsByPermission = new Map<string, CompiledGrant[]>();

  constructor(
    readonly roles: RolesFile,
    private readonly registry: PermissionRegistry,
  ) {
    for (const role of roles.roles) {
      const members = new Set(role.members.map((member) => member.toLowerCase()));
      role.grants.forEach((grant, index) => {
        const compiled: CompiledGrant = {
          source: { role: role.name, grant: index, effect: grant.effect },
          members,
          ...(grant.conditions ? { conditions: grant.conditions } : {}),
        };
        const list = this.grantsByPermission.get(grant.permission) ?? [];
        list.push(compiled);
        this.grantsByPermission.set(grant.permission, list);
      });
    }
  }

  /**
   * Decides whether the principal holds the permission. With a resource, the
   * answer is ALLOW or DENY; without one, a resource permission granted under
   * conditions returns CONDITIONAL with the aliases expanded, for the owning
   * capability to turn into a query.
   */
  authorize(principal: Principal, permissionName: string, resource?: unknown): Decision {
    const permission = this.registry.getPermission(permissionName);
    if (!permission) {
      throw new NotAllowedError(`Permission ${permissionName} is not registered`);
    }

    const identities = new Set([
      principal.userEntityRef.toLowerCase(),
      ...principal.groupEntityRefs.map((ref) => ref.toLowerCase()),
    ]);
    const grants = (this.grantsByPermission.get(permissionName) ?? []).filter((grant) =>
      intersects(grant.members, identities),
    );

    const denies = grants.filter((grant) => grant.source.effect === 'deny');
    const allows = grants.filter((grant) => grant.source.effect === 'allow');

    const unconditionalDeny = denies.filter((grant) => !grant.conditions);
    if (unconditionalDeny.length > 0) {
      return { result: 'DENY', decidedBy: unconditionalDeny.map((grant) => grant.source) };
    }
    if (allows.length === 0) {
      return { result: 'DENY', decidedBy: [] };
    }

    const unconditionalAllow = allows.filter((grant) => !grant.conditions);
    const conditionalDeny = denies.map((grant) => expandAliases(grant.conditions!, principal));
    const allowCriteria: ConditionCriteria | undefined =
      unconditionalAllow.length > 0
        ? undefined
        : anyOf(allows.map((grant) => expandAliases(grant.conditions!, principal)));

    if (!allowCriteria && conditionalDeny.length === 0) {
      return { result: 'ALLOW', decidedBy: unconditionalAllow.map((grant) => grant.source) };
    }

    const parts: ConditionCriteria[] = [];
    if (allowCriteria) parts.push(allowCriteria);
    if (conditionalDeny.length > 0) parts.push({ not: anyOf(conditionalDeny) });
    const conditions = parts.length === 1 ? parts[0]! : { allOf: parts };
    const decidedBy = [
      ...(unconditionalAllow.length > 0 ? unconditionalAllow : allows),
      ...denies,
    ].map((grant) => grant.source);
    const resourceType = permission.resourceType!;

    if (resource === undefined) {
      return { result: 'CONDITIONAL', resourceType, conditions, decidedBy };
    }
    const allowed = evaluateCriteria(conditions, resource, resourceType, this.registry);
    return { result: allowed ? 'ALLOW' : 'DENY', decidedBy };
  }
}

function anyOf(items: ConditionCriteria[]): ConditionCriteria {
  return items.length === 1 ? items[0]! : { anyOf: items };
}

function intersects(members: ReadonlySet<string>, identities: ReadonlySet<string>): boolean {
  for (const identity of identities) {
    if (members.has(identity)) {
      return true;
    }
  }
  return false;
}
