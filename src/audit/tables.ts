/** The audit capability's own tables. Times are ISO 8601 in UTC with milliseconds. */
export interface AuditTables {
  audit_records: AuditRecordRow;
  audit_head: AuditHeadRow;
  audit_checkpoints: AuditCheckpointRow;
}

/** One record of the hash chain. Column meanings are those of AuditRecord. */
export interface AuditRecordRow {
  /** 1, 2, 3, … without gaps; PostgreSQL returns bigint columns as strings. */
  sequence: number | string;
  time: string;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: string;
  reason: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  /** Canonical JSON of the redacted details, `{}` when there are none. */
  details: string;
  previous_hash: string;
  hash: string;
}

/**
 * The single row (id 1) that appends lock and advance: the sequence and hash
 * of the newest record, or 0 and the genesis hash before the first record.
 */
export interface AuditHeadRow {
  id: number;
  sequence: number | string;
  hash: string;
}

/**
 * A signed statement about the chain. `checkpoint` signs the head at
 * `sequence`; `prune` states that records `first_sequence` to `sequence` were
 * removed by retention and that the chain continues from `hash`.
 */
export interface AuditCheckpointRow {
  kind: 'checkpoint' | 'prune';
  sequence: number | string;
  hash: string;
  time: string;
  /** First pruned sequence of a prune marker; null for a checkpoint. */
  first_sequence: number | string | null;
  /** Identifier of the signing key: the first 16 hex digits of the SHA-256 of its SPKI DER form. */
  key_id: string;
  /** Base64 Ed25519 signature over the checkpoint's canonical form. */
  signature: string;
}
