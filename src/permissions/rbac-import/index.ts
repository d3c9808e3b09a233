export {
  type ConditionalPolicies,
  type ConditionalPolicyDocument,
  parseConditionalPolicies,
} from './conditional-policy.js';
export {
  convertRbacPolicies,
  type ImportedRole,
  type ImportOrigin,
  type RbacImportResult,
} from './convert.js';
export {
  parseRbacCsv,
  RBAC_ACTIONS,
  type RbacAction,
  type RbacCsv,
  type RbacCsvLine,
  type RbacGroupingLine,
  type RbacPolicyLine,
} from './csv-policy.js';
export { formatImportIssue, type ImportIssue } from './import-issue.js';
export { importRbacFiles, type RbacPolicyFiles } from './import-rbac.js';
export { formatImportedRoles } from './roles-yaml.js';
