import type { PermissionRegistry } from './registry.js';
import { expandGrantPermission, type RolesFile } from './roles-file.js';
import type { ConditionCriteria, DecisionSource } from './types.js';

/** One grant of a roles file, as the index stores it under each permission it covers. */
export interface IndexedGrant {
  /** Frozen, because decisions share it. */
  source: DecisionSource;
  conditions?: ConditionCriteria;
  /** Lowercase user and group references of the role's members. */
  members: ReadonlySet<string>;
  /** The role sets `allSignedInUsers: true`, so the grant applies to every principal. */
  everyone: boolean;
  /** Position of the grant in the roles file, counting every grant of every role. */
  position: number;
}

/** The grants of one permission by member. */
export interface PermissionGrants {
  /** Grants of roles that set `allSignedInUsers: true`. */
  everyone: IndexedGrant[];
  /** Grants by lowercase member reference; a grant is listed under each member of its role. */
  byMember: Map<string, IndexedGrant[]>;
  /** Grants by role name, for temporary members of a role. */
  byRole: Map<string, IndexedGrant[]>;
  /** Grants by the position of their role in the roles file, from 0. */
  byRoleIndex: Map<number, IndexedGrant[]>;
}

/**
 * Indexes every grant under each permission it covers (a wildcard grant
 * counts as a grant of each) and, within a permission, by member.
 */
export function indexGrants(
  roles: RolesFile,
  registry: PermissionRegistry,
): Map<string, PermissionGrants> {
  const index = new Map<string, PermissionGrants>();
  let position = 0;

  roles.roles.forEach((role, roleIndex) => {
    const members = new Set(role.members.map((member) => member.toLowerCase()));
    const everyone = role.allSignedInUsers === true;

    role.grants.forEach((grant, grantIndex) => {
      const indexed: IndexedGrant = {
        source: Object.freeze({ role: role.name, grant: grantIndex, effect: grant.effect }),
        members,
        everyone,
        position: position++,
        ...(grant.conditions ? { conditions: grant.conditions } : {}),
      };

      for (const permission of expandGrantPermission(grant.permission, registry)) {
        let grants = index.get(permission.name);
        if (!grants) {
          grants = { everyone: [], byMember: new Map(), byRole: new Map(), byRoleIndex: new Map() };
          index.set(permission.name, grants);
        }
        appendTo(grants.byRoleIndex, roleIndex, indexed);
        appendTo(grants.byRole, role.name, indexed);
        if (everyone) {
          grants.everyone.push(indexed);
        }
        for (const member of members) {
          appendTo(grants.byMember, member, indexed);
        }
      }
    });
  });
  return index;
}

/** Adds the item to the list under the key, starting the list when there is none. */
export function appendTo<K, V>(map: Map<K, V[]>, key: K, item: V): void {
  const listed = map.get(key);
  if (listed) {
    listed.push(item);
  } else {
    map.set(key, [item]);
  }
}

/**
 * Lists the grants that apply to a principal with the given lowercase user
 * and group references: grants to everyone, grants whose role lists one of
 * the references, and grants of the roles the principal holds temporarily,
 * each once, in roles file order.
 */
export function grantsOfIdentities(
  grants: PermissionGrants | undefined,
  identities: readonly string[],
  temporaryRoles: Iterable<string> = [],
): IndexedGrant[] {
  if (!grants) {
    return [];
  }
  const found = new Set<IndexedGrant>(grants.everyone);
  for (const identity of identities) {
    for (const grant of grants.byMember.get(identity) ?? []) {
      found.add(grant);
    }
  }
  for (const role of temporaryRoles) {
    for (const grant of grants.byRole.get(role) ?? []) {
      found.add(grant);
    }
  }
  return [...found].sort((a, b) => a.position - b.position);
}
