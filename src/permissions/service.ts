import { Policy } from './policy.js';
import type { PermissionRegistry } from './registry.js';
import { loadRolesFile } from './roles-file.js';
import type { Decision, Principal } from './types.js';

/** The server's one decision point; holds the policy in force and swaps it on reload. */
export class PermissionService {
  private policy: Policy;

  constructor(
    readonly registry: PermissionRegistry,
    private readonly rolesFile: string,
  ) {
    this.policy = new Policy(loadRolesFile(rolesFile, registry), registry);
  }

  /** Decides one permission for the principal; see Policy.authorize. */
  authorize(principal: Principal, permission: string, resource?: unknown): Decision {
    return this.policy.authorize(principal, permission, resource);
  }

  /** Re-reads the roles file. On a fault it throws and the policy in force stays. */
  reload(): void {
    this.policy = new Policy(loadRolesFile(this.rolesFile, this.registry), this.registry);
  }

  currentPolicy(): Policy {
    return this.policy;
  }
}
