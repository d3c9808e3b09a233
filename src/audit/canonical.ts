import { createHash } from 'node:crypto';

/** The previous hash of record 1: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** First element of a record's canonical form; a new format gets a new tag. */
export const RECORD_FORMAT = 'backstage-luigi.audit.record.v1';

/** The stored fields of a record that its hash covers, as the columns hold them. */
export interface HashedFields {
  sequence: number;
  time: string;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: string;
  reason: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** Canonical JSON text of the details, exactly as stored. */
  details: string;
  previousHash: string;
}

/**
 * Writes a record's canonical form: a JSON array of the format tag and the
 * fields in a fixed order, absent values as null, without whitespace. The
 * previous record's hash is the last element, so each hash covers the chain
 * before it.
 */
export function canonicalRecord(fields: HashedFields): string {
  return JSON.stringify([
    RECORD_FORMAT,
    fields.sequence,
    fields.time,
    fields.actor,
    fields.action,
    fields.target,
    fields.outcome,
    fields.reason,
    fields.ip,
    fields.userAgent,
    fields.requestId,
    fields.details,
    fields.previousHash,
  ]);
}

/** Hashes a record: lowercase hex SHA-256 of the UTF-8 bytes of its canonical form. */
export function hashRecord(fields: HashedFields): string {
  return hashCanonicalFields([
    fields.sequence,
    fields.time,
    fields.actor,
    fields.action,
    fields.target,
    fields.outcome,
    fields.reason,
    fields.ip,
    fields.userAgent,
    fields.requestId,
    fields.details,
    fields.previousHash,
  ]);
}

/**
 * A SHA-256 state that has already read the canonical form's opening bracket
 * and format tag. Copying it costs less than creating a hash, which matters
 * when verification hashes a million records.
 */
const HASH_AFTER_FORMAT = createHash('sha256').update(`[${JSON.stringify(RECORD_FORMAT)},`, 'utf8');

/**
 * Hashes the canonical form whose elements after the format tag are
 * `fields`, in canonical order. The same value as hashing canonicalRecord.
 */
export function hashCanonicalFields(fields: readonly unknown[]): string {
  // The array's own JSON without its opening bracket completes the form.
  return HASH_AFTER_FORMAT.copy().update(JSON.stringify(fields).slice(1), 'utf8').digest('hex');
}

/**
 * Serialises a JSON value with object keys sorted by UTF-16 code units and
 * no whitespace. The value must already be plain JSON (see sanitizeDetails):
 * strings, finite numbers, booleans, null, arrays and plain objects.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
