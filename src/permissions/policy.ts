import { NotAllowedError } from '../errors/index.js';
import { evaluateCriteria, expandAliases } from './conditions.js';
import type { PermissionRegistry } from './registry.js';
import { expandGrantPermission, type RolesFile } from './roles-file.js';
import type { ConditionCriteria, Decision, DecisionSource, Principal } from './types.js';

interface CompiledGrant {
  source: DecisionSource;
  conditions?: ConditionCriteria;
  /** Lowercase user and group references of the role's members. */
  members: ReadonlySet<string>;
  /** The role sets `allSignedInUsers: true`, so the grant applies to every principal. */
  everyone: boolean;
}

/** A grant that applies to a principal, with the reason it applies. */
export interface ApplicableGrant {
  source: DecisionSource;
  conditions?: ConditionCriteria;
  /** The principal's user and group references that are members of the grant's role. */
  via: string[];
  /** The role sets `allSignedInUsers: true`, so the grant applies to every principal. */
  allSignedInUsers: boolean;
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
      const everyone = role.allSignedInUsers === true;
      role.grants.forEach((grant, index) => {
        const compiled: CompiledGrant = {
          source: { role: role.name, grant: index, effect: grant.effect },
          members,
          everyone,
          ...(grant.conditions ? { conditions: grant.conditions } : {}),
        };
        // A wildcard grant counts as a grant of each permission it covers.
        for (const permission of expandGrantPermission(grant.permission, registry)) {
          const list = this.grantsByPermission.get(permission.name) ?? [];
          list.push(compiled);
          this.grantsByPermission.set(permission.name, list);
        }
      });
    }
  }

  /**
   * Lists the grants of a permission that apply to the principal, in roles
   * file order, each with the principal's references that made it a member.
   * Conditions are returned as written, with their aliases not expanded.
   */
  applicableGrants(principal: Principal, permissionName: string): ApplicableGrant[] {
    const identities = new Set([
      principal.userEntityRef.toLowerCase(),
      ...principal.groupEntityRefs.map((ref) => ref.toLowerCase()),
    ]);
    const applicable: ApplicableGrant[] = [];
    for (const grant of this.grantsByPermission.get(permissionName) ?? []) {
      const via = [...identities].filter((identity) => grant.members.has(identity)).sort();
      if (!grant.everyone && via.length === 0) {
        continue;
      }
      applicable.push({
        source: grant.source,
        via,
        allSignedInUsers: grant.everyone,
        ...(grant.conditions ? { conditions: grant.conditions } : {}),
      });
    }
    return applicable;
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

    const grants = this.applicableGrants(principal, permissionName);

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
