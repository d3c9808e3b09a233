export {
  type AuthorizeResponseItem,
  authorizeBatch,
  toBackstageConditions,
} from './authorize-batch.js';
export {
  type AuthorizeRequestItem,
  MAX_AUTHORIZE_ITEMS,
  MAX_AUTHORIZE_RESOURCE_REFS,
  parseAuthorizeRequest,
} from './authorize-request.js';
export {
  type ClaimsWithAliases,
  CURRENT_USER_ALIAS,
  criteriaSchema,
  evaluateCriteria,
  expandAliases,
  mapConditions,
  OWNER_REFS_ALIAS,
  parseRuleParams,
  reduceCriteria,
  splitClaimAliases,
  validateCriteria,
} from './conditions.js';
export {
  type ExplainedCriteria,
  type ExplainedGrant,
  type Explanation,
  explainDecision,
} from './explain.js';
export { type ApplicableGrant, Policy } from './policy.js';
export { PERMISSION_POLICY_READ, policyPermissions } from './policy-permissions.js';
export {
  type AnyPermissionRule,
  PermissionRegistry,
  type PermissionResourceType,
  type PermissionRule,
} from './registry.js';
export {
  loadRolesFile,
  parseMemberRef,
  parseRolesFile,
  type Role,
  type RoleGrant,
  type RolesFile,
  rolesFileSchema,
} from './roles-file.js';
export { type PermissionRouteOptions, registerPermissionRoutes } from './routes.js';
export { PermissionService, type PermissionServiceOptions } from './service.js';
export { type TemporaryMember, TemporaryMembers } from './temporary-members.js';
export type {
  CompilablePermissionRule,
  ConditionCriteria,
  Decision,
  DecisionSource,
  PermissionAction,
  PermissionCondition,
  PermissionCriteria,
  PermissionDefinition,
  Principal,
  PrincipalClaims,
} from './types.js';
