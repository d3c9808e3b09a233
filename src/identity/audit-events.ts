import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AuditEvent, AuditTrail } from '../audit/index.js';
import type { SessionWriteStep } from './sessions.js';

/** The identity capability's recorder of sign-ins and sign-outs. */
export interface IdentityAudit {
  /**
   * Appends a record in a transaction of its own, for an outcome that writes
   * nothing else, such as a failed sign-in. A failure to append is logged and
   * not thrown, so the person signing in still gets the page that explains
   * their failure.
   */
  record(event: AuditEvent): Promise<void>;
  /** Returns a session write step that appends the record in the session's transaction. */
  within(event: AuditEvent): SessionWriteStep;
}

/** Creates the identity capability's audit recorder; without a trail, it records nothing. */
export function createIdentityAudit(
  audit: AuditTrail | undefined,
  // biome-ignore lint/suspicious/noExplicitAny: the audit trail appends to its own tables.
  db: Kysely<any>,
  logger: Logger,
): IdentityAudit {
  if (!audit) {
    return {
      record: async () => {},
      within: () => async () => {},
    };
  }
  return {
    async record(event) {
      try {
        await audit.append(db, event);
      } catch (error) {
        logger.error({ err: error, action: event.action }, 'audit record could not be appended');
      }
    },
    within: (event) => (transaction) => audit.append(transaction, event),
  };
}
