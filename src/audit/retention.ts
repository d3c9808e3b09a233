import type { KeyObject } from 'node:crypto';
import type SqliteDatabase from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { AUDIT_RETENTION_PATTERN } from '../config/index.js';
import type { DialectName } from '../database/index.js';
import { PortalError } from '../errors/index.js';
import { GENESIS_HASH } from './canonical.js';
import {
  type AuditCheckpoint,
  checkpointFromRow,
  checkSignature,
  rowFromCheckpoint,
  signCheckpoint,
} from './checkpoint.js';
import type { AuditSigner } from './signing.js';
import type { AuditTables } from './tables.js';
import { type ChainAnchor, scanChain } from './verify.js';

const HOUR_MS = 3_600_000;
const UNIT_MS: Record<string, number> = {
  h: HOUR_MS,
  d: 24 * HOUR_MS,
  w: 7 * 24 * HOUR_MS,
  y: 365 * 24 * HOUR_MS,
};

/** Key of the PostgreSQL advisory lock that lets one process prune at a time. */
const PRUNE_LOCK_KEY = 0x61756469; // "audi"

/** Converts a retention period such as `400d` into milliseconds; throws for any other form. */
export function parseRetention(text: string): number {
  const match = AUDIT_RETENTION_PATTERN.exec(text.trim());
  const unit = match?.[2] === undefined ? undefined : UNIT_MS[match[2]];
  if (!match?.[1] || unit === undefined) {
    throw new PortalError(
      'AUDIT_RETENTION_INVALID',
      `Retention '${text}' is invalid: use a whole number and a unit, h (hours), d (days), w (weeks) or y (365 days), such as 400d`,
    );
  }
  return Number(match[1]) * unit;
}

export interface AuditPruneResult {
  /** Records removed, or that would be removed in a dry run. */
  pruned: number;
  /** The last record removed: the sequence of the checkpoint the prune reached. */
  through: number | null;
  /** Records older than this time may be removed (ISO 8601). */
  cutoff: string;
  /** The reason nothing was removed, when nothing was. */
  reason?: string;
}

export interface PruneOptions {
  dialect: DialectName;
  /** The SQLite connection of the database, for the faster verification read. */
  sqlite?: SqliteDatabase.Database | undefined;
  signer: AuditSigner;
  publicKeys: ReadonlyMap<string, KeyObject>;
  retentionMs: number;
  now: Date;
  dryRun: boolean;
  logger?: Logger | undefined;
}

/**
 * Removes the records older than the retention period, up to the newest
 * signed checkpoint among them, and leaves a signed prune marker that states
 * where the chain continues. The range is verified first, so a prune never
 * discards the evidence of a change to it; it throws when the range fails.
 */
export async function pruneRecords(
  db: Kysely<AuditTables>,
  options: PruneOptions,
): Promise<AuditPruneResult> {
  const cutoff = new Date(options.now.getTime() - options.retentionMs).toISOString();
  const anchor = await currentAnchor(db, options.publicKeys);

  const firstKept = await db
    .selectFrom('audit_records')
    .select((eb) => eb.fn.min('sequence').as('sequence'))
    .where('time', '>=', cutoff)
    .executeTakeFirst();
  const head = await db.selectFrom('audit_head').select('sequence').executeTakeFirstOrThrow();
  const limit =
    firstKept?.sequence === null || firstKept?.sequence === undefined
      ? Number(head.sequence)
      : Number(firstKept.sequence) - 1;

  const candidates = await db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .where('kind', '=', 'checkpoint')
    .where('sequence', '<=', limit)
    .where('sequence', '>', anchor.sequence)
    .orderBy('sequence', 'desc')
    .limit(20)
    .execute();
  const target = candidates
    .map(checkpointFromRow)
    .find((checkpoint) => checkSignature(checkpoint, options.publicKeys) === 'valid');
  if (!target) {
    return {
      pruned: 0,
      through: null,
      cutoff,
      reason:
        limit <= anchor.sequence
          ? `no record older than ${cutoff} is left to remove`
          : `no signed checkpoint covers the records older than ${cutoff} yet; the next checkpoint will`,
    };
  }

  const scan = await scanChain(db, anchor, {
    through: target.sequence,
    sqlite: options.sqlite,
  });
  if (scan.problem || scan.last.sequence !== target.sequence || scan.last.hash !== target.hash) {
    throw new PortalError(
      'AUDIT_CHAIN_BROKEN',
      `Records ${anchor.sequence + 1} to ${target.sequence} were not pruned because they fail verification: ${scan.problem?.message ?? `record ${target.sequence} does not match its checkpoint`}. Run \`backstage-luigi audit verify\` and investigate before pruning`,
    );
  }
  if (options.dryRun) {
    return { pruned: scan.records, through: target.sequence, cutoff };
  }

  const marker = signCheckpoint(options.signer, {
    kind: 'prune',
    sequence: target.sequence,
    hash: target.hash,
    time: options.now.toISOString(),
    firstSequence: anchor.sequence + 1,
  });
  const pruned = await db.transaction().execute(async (transaction) => {
    if (options.dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(${PRUNE_LOCK_KEY})`.execute(transaction);
    }
    const latest = await currentAnchor(transaction, options.publicKeys);
    if (latest.sequence !== anchor.sequence) {
      // Another process pruned in the meantime.
      return 0;
    }
    await transaction.insertInto('audit_checkpoints').values(rowFromCheckpoint(marker)).execute();
    const deleted = await transaction
      .deleteFrom('audit_records')
      .where('sequence', '<=', target.sequence)
      .executeTakeFirst();
    // Earlier checkpoints and markers have no records left to check them against.
    await transaction
      .deleteFrom('audit_checkpoints')
      .where('sequence', '<', target.sequence)
      .execute();
    return Number(deleted.numDeletedRows);
  });

  options.logger?.info(
    { pruned, from: anchor.sequence + 1, through: target.sequence, cutoff },
    'audit records pruned',
  );
  return { pruned, through: target.sequence, cutoff };
}

/** Reads the start of the chain: the newest prune marker with a valid signature, or the genesis. */
export async function currentAnchor(
  db: Kysely<AuditTables>,
  publicKeys: ReadonlyMap<string, KeyObject>,
): Promise<ChainAnchor> {
  const markers = await db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .where('kind', '=', 'prune')
    .orderBy('sequence', 'desc')
    .execute();
  const marker: AuditCheckpoint | undefined = markers
    .map(checkpointFromRow)
    .find((candidate) => checkSignature(candidate, publicKeys) === 'valid');
  return marker
    ? { sequence: marker.sequence, hash: marker.hash }
    : { sequence: 0, hash: GENESIS_HASH };
}
