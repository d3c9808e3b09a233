import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type AuditSigner, signPayload, verifyPayload } from './signing.js';
import type { AuditCheckpointRow, AuditTables } from './tables.js';

/** First element of a checkpoint's canonical form. */
export const CHECKPOINT_FORMAT = 'backstage-luigi.audit.checkpoint.v1';

/**
 * A signed statement about the chain: a checkpoint of the head, or the
 * marker that retention leaves where it removed records.
 */
export interface AuditCheckpoint {
  kind: 'checkpoint' | 'prune';
  /** The head that was signed, or the last record a prune removed. */
  sequence: number;
  /** The hash of the record at `sequence`. */
  hash: string;
  /** When it was signed: ISO 8601 in UTC. */
  time: string;
  /** First record a prune removed; null for a checkpoint. */
  firstSequence: number | null;
  keyId: string;
  signature: string;
}

/**
 * Writes the canonical form that a checkpoint's signature covers: a JSON
 * array of the format tag, kind, sequence, hash, time and first sequence.
 */
export function checkpointPayload(
  checkpoint: Omit<AuditCheckpoint, 'keyId' | 'signature'>,
): string {
  return JSON.stringify([
    CHECKPOINT_FORMAT,
    checkpoint.kind,
    checkpoint.sequence,
    checkpoint.hash,
    checkpoint.time,
    checkpoint.firstSequence,
  ]);
}

/** Signs a checkpoint or prune marker with the signer's key. */
export function signCheckpoint(
  signer: AuditSigner,
  fields: Omit<AuditCheckpoint, 'keyId' | 'signature'>,
): AuditCheckpoint {
  return {
    ...fields,
    keyId: signer.keyId,
    signature: signPayload(signer, checkpointPayload(fields)),
  };
}

export type SignatureCheck = 'valid' | 'invalid' | 'unknown-key';

/** Checks a checkpoint's signature against the public key that its key id names. */
export function checkSignature(
  checkpoint: AuditCheckpoint,
  publicKeys: ReadonlyMap<string, KeyObject>,
): SignatureCheck {
  const publicKey = publicKeys.get(checkpoint.keyId);
  if (!publicKey) {
    return 'unknown-key';
  }
  return verifyPayload(publicKey, checkpointPayload(checkpoint), checkpoint.signature)
    ? 'valid'
    : 'invalid';
}

export function checkpointFromRow(row: AuditCheckpointRow): AuditCheckpoint {
  return {
    kind: row.kind,
    sequence: Number(row.sequence),
    hash: row.hash,
    time: row.time,
    firstSequence: row.first_sequence === null ? null : Number(row.first_sequence),
    keyId: row.key_id,
    signature: row.signature,
  };
}

export function rowFromCheckpoint(checkpoint: AuditCheckpoint): AuditCheckpointRow {
  return {
    kind: checkpoint.kind,
    sequence: checkpoint.sequence,
    hash: checkpoint.hash,
    time: checkpoint.time,
    first_sequence: checkpoint.firstSequence,
    key_id: checkpoint.keyId,
    signature: checkpoint.signature,
  };
}

/** Reads every checkpoint and prune marker, in sequence order. */
export async function readCheckpoints(db: Kysely<AuditTables>): Promise<AuditCheckpoint[]> {
  const rows = await db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .orderBy('sequence')
    .orderBy('kind')
    .execute();
  return rows.map(checkpointFromRow);
}

/** Reads the committed head: the newest record's sequence and hash, or 0 and the genesis hash. */
export async function readHead(
  db: Kysely<AuditTables>,
): Promise<{ sequence: number; hash: string }> {
  const row = await db
    .selectFrom('audit_head')
    .select(['sequence', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirst();
  if (!row) {
    throw new Error('The audit_head row is missing: run the audit migrations (auditMigrations)');
  }
  return { sequence: Number(row.sequence), hash: row.hash };
}
