import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/index.js';
import type { DatabaseHandle } from '../database/index.js';
import { PortalError } from '../errors/index.js';
import { type AuditExecutor, appendRecord, createSqliteAppend } from './chain.js';
import {
  type AuditCheckpoint,
  checkpointFromRow,
  checkSignature,
  readHead,
  rowFromCheckpoint,
  signCheckpoint,
} from './checkpoint.js';
import { type AuditEvent, type AuditRecord, normalizeEvent } from './event.js';
import { type AuditRecordQuery, listAuditRecords } from './records.js';
import { type AuditPruneResult, currentAnchor, parseRetention, pruneRecords } from './retention.js';
import { type AuditKeys, loadAuditKeys } from './signing.js';
import type { AuditTables } from './tables.js';
import { type AuditVerifyReport, scanChain, verifyAuditTrail } from './verify.js';

/** How often the server prunes when audit.retention is set. */
const PRUNE_INTERVAL_MS = 3_600_000;

export interface AuditTrailOptions {
  database: DatabaseHandle;
  /** The whole app config works; `database` places the generated key beside an SQLite file. */
  config: Pick<AppConfig, 'audit' | 'database'>;
  logger: Logger;
  /** Keys to use instead of those the config names or the generated one. */
  keys?: AuditKeys | undefined;
  /** The clock of record and checkpoint times; the system clock by default. */
  now?: (() => Date) | undefined;
}

/** The audit trail: appends, checkpoints, retention and verification over one database. */
export interface AuditTrail {
  /**
   * Appends a record inside `executor`, the caller's transaction, so the
   * record commits or rolls back with the action. Given a Kysely instance
   * that is not a transaction, it appends in a transaction of its own.
   * Throws AuditEventError for a malformed action or outcome.
   */
  append(executor: AuditExecutor, event: AuditEvent): Promise<AuditRecord>;
  /**
   * Verifies the records since the last checkpoint and signs the head.
   * Resolves to undefined when the head is already signed or there are no
   * records. Throws when no signing key is loaded or the chain is broken.
   */
  checkpoint(): Promise<AuditCheckpoint | undefined>;
  /** Removes records older than audit.retention up to a checkpoint; see pruneRecords. */
  prune(options?: { dryRun?: boolean }): Promise<AuditPruneResult>;
  /** Checks the whole chain and every checkpoint against the accepted public keys. */
  verify(): Promise<AuditVerifyReport>;
  /** Reads records that match a query, in sequence order. */
  list(query?: AuditRecordQuery): Promise<AuditRecord[]>;
  /** Starts the checkpoint timer and, with audit.retention set, the hourly prune. */
  start(): void;
  /** Stops the timers, waits for a running job and signs a last checkpoint. */
  stop(): Promise<void>;
  readonly keys: AuditKeys;
}

/** Creates the audit trail of a database whose audit migrations have run. */
export function createAuditTrail(options: AuditTrailOptions): AuditTrail {
  const { database, logger } = options;
  const config = options.config.audit;
  const db = database.db as Kysely<AuditTables>;
  const now = options.now ?? (() => new Date());
  const retentionMs = config.retention === undefined ? undefined : parseRetention(config.retention);
  const keys =
    options.keys ?? loadAuditKeys(config, options.config.database, { generate: true, logger });

  const keyGenerated =
    options.keys === undefined &&
    config.signing.privateKey === undefined &&
    config.signing.privateKeyFile === undefined;
  if (keyGenerated && database.dialect === 'postgres') {
    logger.warn(
      { keyId: keys.signer?.keyId },
      'the audit signing key was generated on this machine; replicas sharing the database need one configured key: set audit.signing.privateKeyFile on each',
    );
  }

  const appendNormalized = database.sqlite ? createSqliteAppend(database.sqlite) : appendRecord;

  const checkpoint = async (): Promise<AuditCheckpoint | undefined> => {
    const signer = keys.signer;
    if (!signer) {
      throw new PortalError(
        'AUDIT_NO_SIGNING_KEY',
        'No audit signing key is loaded: set audit.signing.privateKeyFile or audit.signing.privateKey',
      );
    }
    const head = await readHead(db);
    if (head.sequence === 0) {
      return undefined;
    }
    const latest = await latestSignedCheckpoint(db, keys);
    if (latest && latest.sequence >= head.sequence) {
      return undefined;
    }

    const anchor = latest ?? (await currentAnchor(db, keys.publicKeys));
    const scan = await scanChain(db, anchor, {
      through: head.sequence,
      sqlite: database.sqlite,
    });
    if (scan.problem || scan.last.sequence !== head.sequence || scan.last.hash !== head.hash) {
      throw new PortalError(
        'AUDIT_CHAIN_BROKEN',
        `The head of the audit trail (record ${head.sequence}) was not signed because the records since record ${anchor.sequence} fail verification: ${scan.problem?.message ?? 'the head row does not match the last record'}. Run \`backstage-luigi audit verify\``,
      );
    }

    const signed = signCheckpoint(signer, {
      kind: 'checkpoint',
      sequence: head.sequence,
      hash: head.hash,
      time: now().toISOString(),
      firstSequence: null,
    });
    // Replicas that sign the same head at once keep the first checkpoint.
    await db
      .insertInto('audit_checkpoints')
      .values(rowFromCheckpoint(signed))
      .onConflict((conflict) => conflict.columns(['kind', 'sequence']).doNothing())
      .execute();
    logger.debug({ sequence: signed.sequence, keyId: signed.keyId }, 'audit checkpoint signed');
    return signed;
  };

  const prune = async (pruneOptions: { dryRun?: boolean } = {}): Promise<AuditPruneResult> => {
    if (retentionMs === undefined) {
      throw new PortalError(
        'AUDIT_RETENTION_UNSET',
        'audit.retention is not set, so every record is kept: set it to a period such as 400d to prune',
      );
    }
    if (!keys.signer) {
      throw new PortalError(
        'AUDIT_NO_SIGNING_KEY',
        'Pruning signs a marker, but no audit signing key is loaded: set audit.signing.privateKeyFile or audit.signing.privateKey',
      );
    }
    return pruneRecords(db, {
      dialect: database.dialect,
      sqlite: database.sqlite,
      signer: keys.signer,
      publicKeys: keys.publicKeys,
      retentionMs,
      now: now(),
      dryRun: pruneOptions.dryRun ?? false,
      logger,
    });
  };

  const timers: NodeJS.Timeout[] = [];
  let running: Promise<void> = Promise.resolve();
  const runJob = (name: string, job: () => Promise<unknown>) => {
    running = running.then(async () => {
      try {
        await job();
      } catch (error) {
        logger.error({ err: error, job: name }, 'audit job failed');
      }
    });
    return running;
  };

  return {
    keys,
    append: async (executor, event) => appendNormalized(executor, normalizeEvent(event), now),
    checkpoint,
    prune,
    verify: () =>
      verifyAuditTrail(db, keys.publicKeys, {
        sqlite: database.sqlite,
        parallel: { database: options.config.database },
      }),
    list: (query) => listAuditRecords(db, query),
    start: () => {
      if (timers.length > 0) {
        return;
      }
      if (!keys.signer) {
        logger.warn('audit checkpoints are off: no signing key is loaded');
      } else if (config.checkpoint.intervalSeconds > 0) {
        timers.push(
          setInterval(
            () => void runJob('checkpoint', checkpoint),
            config.checkpoint.intervalSeconds * 1000,
          ),
        );
      }
      if (retentionMs !== undefined && keys.signer) {
        void runJob('prune', prune);
        timers.push(setInterval(() => void runJob('prune', prune), PRUNE_INTERVAL_MS));
      }
      for (const timer of timers) {
        timer.unref();
      }
      logger.info(
        {
          checkpointIntervalSeconds: config.checkpoint.intervalSeconds,
          retention: config.retention ?? null,
          keyId: keys.signer?.keyId ?? null,
        },
        'audit trail started',
      );
    },
    stop: async () => {
      for (const timer of timers.splice(0)) {
        clearInterval(timer);
      }
      if (keys.signer) {
        await runJob('checkpoint', checkpoint);
      }
      await running;
    },
  };
}

/** Finds the newest checkpoint or prune marker with a valid signature. */
async function latestSignedCheckpoint(
  db: Kysely<AuditTables>,
  keys: AuditKeys,
): Promise<AuditCheckpoint | undefined> {
  const rows = await db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .orderBy('sequence', 'desc')
    .limit(20)
    .execute();
  return rows
    .map(checkpointFromRow)
    .find((candidate) => checkSignature(candidate, keys.publicKeys) === 'valid');
}
