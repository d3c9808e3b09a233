export { connectDatabase, type DatabaseHandle, type DialectName } from './connect.js';
export { autoIncrement, type MigrationSet, migrateToLatest } from './migrate.js';
