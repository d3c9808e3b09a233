export {
  type BatchedAppender,
  createBatchedAppender,
  MAX_EVENTS_PER_BATCH,
} from './batched-append.js';
export {
  canonicalJson,
  canonicalRecord,
  GENESIS_HASH,
  hashRecord,
  RECORD_FORMAT,
} from './canonical.js';
export type { AuditExecutor } from './chain.js';
export { type AuditCheckpoint, CHECKPOINT_FORMAT, checkpointPayload } from './checkpoint.js';
export {
  AUDIT_OUTCOMES,
  type AuditEvent,
  AuditEventError,
  type AuditOutcome,
  type AuditRecord,
  type AuditRequestContext,
} from './event.js';
export {
  DEFAULT_EVENTS_PAGE_SIZE,
  decodeEventsCursor,
  type EventsQuery,
  encodeEventsCursor,
  MAX_EVENTS_PAGE_SIZE,
  parseEventsQuery,
} from './events-query.js';
export {
  type AuditForwarder,
  type AuditForwarderOptions,
  createAuditForwarder,
  type ForwardAttempt,
  type ForwardBatch,
} from './forward.js';
export {
  type AuditForwardTables,
  auditForwardMigrations,
  FORWARD_STATE_ID,
} from './forward-migrations.js';
export { auditMigrations } from './migrations.js';
export { AUDIT_EVENT_READ, auditPermissions } from './permissions.js';
export { type AuditRecordQuery, listAuditRecords, MAX_RECORDS_PER_QUERY } from './records.js';
export { isSecretKey, REDACTED, redactText, sanitizeDetails } from './redact.js';
export { requestContext } from './request-context.js';
export { type AuditPruneResult, parseRetention } from './retention.js';
export { type AuditEventsPage, registerAuditRoutes } from './routes.js';
export {
  type AuditKeys,
  type AuditSigner,
  defaultSigningKeyFile,
  keyIdOf,
  loadAuditKeys,
  publicKeyPem,
} from './signing.js';
export type { AuditTables } from './tables.js';
export { type AuditTrail, type AuditTrailOptions, createAuditTrail } from './trail.js';
export {
  type AuditProblem,
  type AuditProblemKind,
  type AuditVerifyReport,
  verifyAuditTrail,
} from './verify.js';
