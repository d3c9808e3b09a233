import { PortalError } from '../errors/index.js';
import { canonicalJson } from './canonical.js';
import { DETAIL_LIMITS, redactText, sanitizeDetails } from './redact.js';

export type AuditOutcome = 'succeeded' | 'failed' | 'denied';

export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['succeeded', 'failed', 'denied'];

/** The origin of a request, as requestContext reads it from Fastify. */
export interface AuditRequestContext {
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

/** An event that a capability records. Secrets anywhere in it are redacted before it is stored. */
export interface AuditEvent {
  /** The actor, such as `user:default/alice` or `service:ci`, or undefined for an anonymous caller. */
  actor?: string | undefined;
  /** Stable dotted name of the action, such as `auth.sign-in` or `permission.denied`. */
  action: string;
  /** The subject of the action: an entity reference or another reference. */
  target?: string | undefined;
  outcome: AuditOutcome;
  /** The reason for a failure or denial, or another short explanation. */
  reason?: string | undefined;
  request?: AuditRequestContext | undefined;
  /** More facts as JSON; credentials at any depth are replaced with [redacted]. */
  details?: Record<string, unknown> | undefined;
}

/** A stored record of the chain. */
export interface AuditRecord {
  sequence: number;
  /** ISO 8601 in UTC with milliseconds, from the portal server's clock when it was appended. */
  time: string;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  reason: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  previousHash: string;
  hash: string;
}

/** An audit event that breaks the rules of its fields: a programming error in the caller. */
export class AuditEventError extends PortalError {
  constructor(message: string) {
    super('AUDIT_EVENT_INVALID', message);
  }
}

/** An event checked, redacted and ready to hash: every field as its column stores it. */
export interface NormalizedEvent {
  actor: string | null;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  reason: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: string;
}

const ACTION = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

/**
 * Checks an event and makes it storable: redacts secrets, cuts long texts
 * and writes the details as canonical JSON. Throws AuditEventError for a
 * missing or malformed action or outcome.
 */
export function normalizeEvent(event: AuditEvent): NormalizedEvent {
  if (typeof event.action !== 'string' || !ACTION.test(event.action) || event.action.length > 128) {
    throw new AuditEventError(
      `Audit action '${String(event.action)}' is invalid: use up to 128 characters of dotted lowercase words, such as auth.sign-in`,
    );
  }
  if (!AUDIT_OUTCOMES.includes(event.outcome)) {
    throw new AuditEventError(
      `Audit outcome '${String(event.outcome)}' of ${event.action} is invalid: use ${AUDIT_OUTCOMES.join(', ')}`,
    );
  }

  let details = canonicalJson(sanitizeDetails(event.details));
  if (details.length > DETAIL_LIMITS.totalLength) {
    details = canonicalJson({
      '[cut]': `the details were ${details.length} characters long, over the limit of ${DETAIL_LIMITS.totalLength}`,
    });
  }

  return {
    actor: optionalText(event.actor, 512),
    action: event.action,
    target: optionalText(event.target, 2_048),
    outcome: event.outcome,
    reason: optionalText(event.reason, DETAIL_LIMITS.stringLength),
    ip: optionalText(event.request?.ip, 64),
    userAgent: optionalText(event.request?.userAgent, 512),
    requestId: optionalText(event.request?.requestId, 128),
    details,
  };
}

function optionalText(value: unknown, maxLength: number): string | null {
  if (value === undefined || value === null) {
    return null;
  }
  const text = redactText(String(value), maxLength);
  return text === '' ? null : text;
}
