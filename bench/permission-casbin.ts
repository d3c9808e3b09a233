import { type Enforcer, newEnforcer, newModelFromString, StringAdapter } from 'casbin';
import type { PermissionDefinition, RolesFile } from '../src/permissions/index.js';
import type { PermissionOrganisation } from './permission-organisation.js';

/**
 * The casbin model of Backstage's community RBAC plugin
 * (backstage/community-plugins, workspaces/rbac/plugins/rbac-backend/src/service/permission-model.ts):
 * role inheritance through `g`, allow unless a matching line denies.
 */
const RBAC_PLUGIN_MODEL = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act, eft

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[role_definition]
g = _, _

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
`;

/**
 * Translates the roles and the organisation into the RBAC plugin's policy
 * lines: a `p` line per unconditional grant on `role:default/<name>`, and `g`
 * lines from users to their groups, from groups to their parents and from
 * members to roles. Grants with conditions have no `p` line, because the
 * plugin keeps conditions outside casbin.
 */
export function createCasbinPolicy(
  roles: RolesFile,
  organisation: PermissionOrganisation,
  permissions: ReadonlyMap<string, PermissionDefinition>,
): string {
  const lines: string[] = [];
  for (const role of roles.roles) {
    const roleRef = `role:default/${role.name}`;
    for (const grant of role.grants) {
      if (grant.conditions) {
        continue;
      }
      const action = permissions.get(grant.permission)?.action;
      if (!action) {
        throw new Error(`Permission ${grant.permission} of role ${role.name} is not registered`);
      }
      lines.push(`p, ${roleRef}, ${grant.permission}, ${action}, ${grant.effect}`);
    }
    for (const member of role.members) {
      lines.push(`g, ${member.toLowerCase()}, ${roleRef}`);
    }
  }
  for (const user of organisation.users) {
    for (const group of user.groupRefs) {
      lines.push(`g, ${user.ref}, ${group}`);
    }
  }
  for (const group of organisation.groups) {
    for (const parent of group.parentRefs) {
      lines.push(`g, ${group.ref}, ${parent}`);
    }
  }
  return lines.join('\n');
}

/** Loads the policy lines into an enforcer with the RBAC plugin's model. */
export async function createCasbinEnforcer(policy: string): Promise<Enforcer> {
  return newEnforcer(newModelFromString(RBAC_PLUGIN_MODEL), new StringAdapter(policy));
}
