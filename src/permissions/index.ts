export {
  CURRENT_USER_ALIAS,
  criteriaSchema,
  evaluateCriteria,
  expandAliases,
  mapConditions,
  OWNER_REFS_ALIAS,
  reduceCriteria,
  validateCriteria,
} from './conditions.js';
export { Policy } from './policy.js';
export { type AnyPermissionRule, PermissionRegistry, type PermissionRule } from './registry.js';
export {
  loadRolesFile,
  parseMemberRef,
  parseRolesFile,
  type Role,
  type RoleGrant,
  type RolesFile,
  rolesFileSchema,
} from './roles-file.js';
export { registerPermissionRoutes } from './routes.js';
export { PermissionService } from './service.js';
export type {
  ConditionCriteria,
  Decision,
  DecisionSource,
  PermissionAction,
  PermissionCondition,
  PermissionCriteria,
  PermissionDefinition,
  Principal,
} from './types.js';
