import { createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { type AppConfig, loadConfig } from '../config/index.js';
import { connectDatabase, type DatabaseHandle, migrateToLatest } from '../database/index.js';
import { formatErrorForTerminal, InputError } from '../errors/index.js';
import { exportAuditRecords, parseExportFormat } from './export.js';
import { auditMigrations } from './migrations.js';
import { type AuditKeys, loadAuditKeys, publicKeyPem } from './signing.js';
import type { AuditTables } from './tables.js';
import { createAuditTrail } from './trail.js';
import { type AuditVerifyReport, verifyAuditTrail } from './verify.js';

/** Destinations of a command's report and errors: process.stdout and process.stderr in the CLI. */
export interface CommandStreams {
  output: Writable;
  errors: Writable;
}

const PROCESS_STREAMS: CommandStreams = { output: process.stdout, errors: process.stderr };

/** Exit code of a command that could not run: bad input, config or database. */
const EXIT_UNUSABLE = 2;

/** Adds the `audit …` subcommands; each action sets process.exitCode. */
export function registerAuditCommands(program: Command, defaultConfigFiles: () => string[]): void {
  const audit = program.command('audit').description('Verify, export and prune the audit trail');
  const configOption = [
    '-c, --config <file...>',
    'config files that name the database and the audit keys',
  ] as const;

  audit
    .command('verify')
    .description(
      'Check every record of the hash chain and every signed checkpoint; name the first record that was changed, removed, inserted or reordered',
    )
    .option(...configOption)
    .option(
      '--public-key <file...>',
      'accept only these Ed25519 public keys (PEM) instead of the configured ones, for verification on another machine',
    )
    .option('--format <format>', 'text or json', 'text')
    .action(async (options: { config?: string[]; publicKey?: string[]; format: string }) => {
      process.exitCode = await runAuditVerify(
        { ...options, config: options.config ?? defaultConfigFiles() },
        PROCESS_STREAMS,
      );
    });

  audit
    .command('export')
    .description('Write the records of a time range as evidence, in sequence order')
    .option(...configOption)
    .option(
      '--since <time>',
      'first time included: an ISO 8601 date or UTC time (2025-01-31, 2025-01-31T12:00:00Z) or a period before now (30d, 12h, 2w); default: the first record',
    )
    .option('--until <time>', 'end of the range, not included, in the same forms; default: now')
    .option('--format <format>', 'jsonl (one JSON record per line) or csv', 'jsonl')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(
      async (options: {
        config?: string[];
        since?: string;
        until?: string;
        format: string;
        output?: string;
      }) => {
        process.exitCode = await runAuditExport(
          { ...options, config: options.config ?? defaultConfigFiles() },
          PROCESS_STREAMS,
        );
      },
    );

  audit
    .command('prune')
    .description(
      'Remove records older than audit.retention, up to the newest signed checkpoint among them, leaving a signed marker',
    )
    .option(...configOption)
    .option('--dry-run', 'report what would be removed, and remove nothing')
    .action(async (options: { config?: string[]; dryRun?: boolean }) => {
      process.exitCode = await runAuditPrune(
        { ...options, config: options.config ?? defaultConfigFiles() },
        PROCESS_STREAMS,
      );
    });

  audit
    .command('checkpoint')
    .description('Verify the records since the last checkpoint and sign the head of the chain now')
    .option(...configOption)
    .action(async (options: { config?: string[] }) => {
      process.exitCode = await runAuditCheckpoint(
        { config: options.config ?? defaultConfigFiles() },
        PROCESS_STREAMS,
      );
    });

  audit
    .command('public-key')
    .description(
      'Print the public key of the signing key (PEM), for audit.signing.publicKeys or `audit verify --public-key` elsewhere',
    )
    .option(...configOption)
    .action((options: { config?: string[] }) => {
      process.exitCode = runAuditPublicKey(
        { config: options.config ?? defaultConfigFiles() },
        PROCESS_STREAMS,
      );
    });
}

/** Verifies the trail of the configured database; resolves to 0 when it passes, 1 when it fails. */
export async function runAuditVerify(
  options: { config: string[]; publicKey?: string[] | undefined; format: string },
  streams: CommandStreams = PROCESS_STREAMS,
): Promise<number> {
  return withDatabase(options.config, streams, async (config, database) => {
    if (options.format !== 'text' && options.format !== 'json') {
      throw new InputError(`--format '${options.format}' is not supported: use text or json`);
    }
    const keys = loadAuditKeys(config.audit, config.database, {
      generate: false,
      publicKeyFiles: options.publicKey,
    });
    const report = await verifyAuditTrail(database.db as Kysely<AuditTables>, keys.publicKeys, {
      sqlite: database.sqlite,
      parallel: { database: config.database },
    });
    streams.output.write(
      options.format === 'json'
        ? `${JSON.stringify({ database: database.description, ...report }, null, 2)}\n`
        : formatVerifyReport(report, database.description, keys),
    );
    return report.ok ? 0 : 1;
  });
}

/** Formats a verification report as lines for a terminal. */
export function formatVerifyReport(
  report: AuditVerifyReport,
  description: string,
  keys: AuditKeys,
): string {
  const range =
    report.records === 0
      ? 'no records'
      : `${report.records} records (${report.firstSequence} to ${report.lastSequence})`;
  const pruned =
    report.prunedThrough === null
      ? ''
      : `; records up to ${report.prunedThrough} were pruned by retention`;
  const lines = [
    `Audit trail of ${description}: ${range}, ${count(report.checkpoints, 'signed checkpoint or marker', 'signed checkpoints and markers')} checked with ${count(keys.publicKeys.size, 'public key', 'public keys')}${pruned}.`,
  ];
  if (report.ok) {
    lines.push('Verification passed.');
  } else {
    lines.push('Verification FAILED:');
    for (const problem of report.problems) {
      lines.push(`  - ${problem.message}`);
    }
  }
  if (report.ok && report.checkpoints === 0 && report.records > 0) {
    lines.push(
      'No checkpoint exists yet, so the records are protected by the hash chain alone: run `backstage-luigi audit checkpoint` or start the server.',
    );
  }
  return `${lines.join('\n')}\n`;
}

function count(value: number, singular: string, plural: string): string {
  return `${value} ${value === 1 ? singular : plural}`;
}

/** Exports records of a time range; resolves to the exit code. */
export async function runAuditExport(
  options: {
    config: string[];
    since?: string | undefined;
    until?: string | undefined;
    format: string;
    output?: string | undefined;
  },
  streams: CommandStreams = PROCESS_STREAMS,
  now: Date = new Date(),
): Promise<number> {
  return withDatabase(options.config, streams, async (_config, database) => {
    const format = parseExportFormat(options.format);
    const since =
      options.since === undefined ? undefined : parseTimeBound('--since', options.since, now);
    const until = options.until === undefined ? now : parseTimeBound('--until', options.until, now);
    if (since && since >= until) {
      throw new InputError(
        `--since ${since.toISOString()} is not before --until ${until.toISOString()}: give an earlier --since or a later --until`,
      );
    }

    const target = options.output ? createOutputFile(options.output) : streams.output;
    try {
      const count = await exportAuditRecords(database.db, { since, until, format }, (text) =>
        writeText(target, text),
      );
      streams.errors.write(
        `Exported ${count} audit records${options.output ? ` to ${options.output}` : ''}.\n`,
      );
    } finally {
      if (target !== streams.output) {
        await new Promise<void>((resolve, reject) =>
          target.end((error?: Error | null) => (error ? reject(error) : resolve())),
        );
      }
    }
    return 0;
  });
}

/** Prunes by the configured retention; resolves to the exit code. */
export async function runAuditPrune(
  options: { config: string[]; dryRun?: boolean | undefined },
  streams: CommandStreams = PROCESS_STREAMS,
  now: () => Date = () => new Date(),
): Promise<number> {
  return withDatabase(options.config, streams, async (config, database) => {
    const trail = createAuditTrail({
      database,
      config,
      logger: pino({ level: 'silent' }),
      keys: loadAuditKeys(config.audit, config.database, { generate: false }),
      now,
    });
    const result = await trail.prune({ dryRun: options.dryRun ?? false });
    const verb = options.dryRun ? 'would remove' : 'removed';
    streams.output.write(
      result.through === null
        ? `Nothing to prune: ${result.reason ?? 'no record is old enough'}.\n`
        : `Prune ${verb} ${result.pruned} records up to record ${result.through} (older than ${result.cutoff}).\n`,
    );
    return 0;
  });
}

/** Signs a checkpoint of the head now; resolves to the exit code. */
export async function runAuditCheckpoint(
  options: { config: string[] },
  streams: CommandStreams = PROCESS_STREAMS,
): Promise<number> {
  return withDatabase(options.config, streams, async (config, database) => {
    const trail = createAuditTrail({ database, config, logger: pino({ level: 'silent' }) });
    const checkpoint = await trail.checkpoint();
    streams.output.write(
      checkpoint
        ? `Signed checkpoint of record ${checkpoint.sequence} with key ${checkpoint.keyId}.\n`
        : 'Nothing to sign: the head of the chain is already signed, or there are no records.\n',
    );
    return 0;
  });
}

/** Prints the signing key's public key; returns the exit code. */
export function runAuditPublicKey(
  options: { config: string[] },
  streams: CommandStreams = PROCESS_STREAMS,
): number {
  try {
    const { config } = loadConfig(options.config);
    const keys = loadAuditKeys(config.audit, config.database, { generate: false });
    if (!keys.signer) {
      throw new InputError(
        'No audit signing key exists yet: start the server once to generate it, or set audit.signing.privateKeyFile',
      );
    }
    streams.output.write(publicKeyPem(keys.signer));
    return 0;
  } catch (error) {
    streams.errors.write(`${formatErrorForTerminal(error)}\n`);
    return EXIT_UNUSABLE;
  }
}

/**
 * Reads a time bound: an ISO 8601 date (midnight UTC), an ISO 8601 time with
 * `Z` or an offset, or a period before `now` such as 30d. Throws InputError
 * naming the option and the accepted forms.
 */
export function parseTimeBound(option: string, text: string, now: Date): Date {
  const period = /^(\d{1,6})([hdw])$/.exec(text.trim());
  if (period?.[1] && period[2]) {
    const hours = { h: 1, d: 24, w: 168 }[period[2] as 'h' | 'd' | 'w'];
    return new Date(now.getTime() - Number(period[1]) * hours * 3_600_000);
  }
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
  const time = iso.test(text.trim()) ? new Date(text.trim()) : undefined;
  if (!time || Number.isNaN(time.getTime())) {
    throw new InputError(
      `${option} '${text}' is not a time: use an ISO 8601 date or UTC time such as 2025-01-31 or 2025-01-31T12:00:00Z, or a period before now such as 30d, 12h or 2w`,
    );
  }
  return time;
}

async function withDatabase(
  configFiles: string[],
  streams: CommandStreams,
  body: (config: AppConfig, database: DatabaseHandle) => Promise<number>,
): Promise<number> {
  let database: DatabaseHandle | undefined;
  try {
    const { config } = loadConfig(configFiles);
    database = connectDatabase(config.database);
    await migrateToLatest(database, [auditMigrations]);
    return await body(config, database);
  } catch (error) {
    streams.errors.write(`${formatErrorForTerminal(error)}\n`);
    return EXIT_UNUSABLE;
  } finally {
    await database?.destroy();
  }
}

/** Opens a new file for an export; an existing file is never overwritten. */
function createOutputFile(file: string): Writable {
  let descriptor: number;
  try {
    descriptor = openSync(file, 'wx', 0o600);
  } catch (error) {
    throw new InputError(
      `--output ${file} cannot be created (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give a new file name in a writable folder`,
    );
  }
  const stream = createWriteStream('', { fd: descriptor });
  // Write errors reach the caller through the write callbacks below.
  stream.on('error', () => {});
  return stream;
}

function writeText(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
