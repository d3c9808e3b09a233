import type { PermissionDefinition } from './types.js';

/** Lets a user read the policy in force: the explain route, for any user. */
export const PERMISSION_POLICY_READ = 'permission.policy.read';

/** The permissions of the permission capability itself. */
export const policyPermissions: PermissionDefinition[] = [
  {
    name: PERMISSION_POLICY_READ,
    action: 'read',
    description: "Read the policy: explain any user's decision and the roles and grants behind it",
  },
];
