export {
  countFaults,
  describeValue,
  detailsFromZodIssues,
  formatFieldPath,
  isSecretField,
  valueAtPath,
} from './issues.js';
export { type LoadConfigOptions, type LoadedConfig, loadConfig, mergeConfig } from './load.js';
export {
  type AppConfig,
  AUDIT_RETENTION_PATTERN,
  type AuditConfig,
  type AuditForwardConfig,
  type AuthConfig,
  appConfigSchema,
  type CatalogConfig,
  type CatalogLocationConfig,
  type DatabaseConfig,
  DEFAULT_CATALOG_FILE_MAX_BYTES,
  type DevelopmentUserConfig,
  type ScimConfig,
  type ShellNodeConfig,
  type WorkflowsConfig,
} from './schema.js';
export {
  lineOfPath,
  locateInYamlFiles,
  parseYamlFile,
  readYamlWithSchema,
  type YamlFile,
  yamlToJs,
} from './yaml-file.js';
