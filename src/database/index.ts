export {
  connectDatabase,
  type DatabaseHandle,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  type DialectName,
  isStatementTimeout,
} from './connect.js';
export { autoIncrement, type MigrationSet, migrateToLatest } from './migrate.js';
