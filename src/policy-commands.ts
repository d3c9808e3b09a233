import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import { catalogMigrations, createCatalog, readOrganisation } from './catalog/index.js';
import { type AppConfig, loadConfig } from './config/index.js';
import { connectDatabase, type DatabaseHandle, migrateToLatest } from './database/index.js';
import { formatErrorForTerminal, InputError, PortalError } from './errors/index.js';
import { identityMigrations } from './identity/index.js';
import { DEFAULT_LARGE_GROUP_SIZE, formatLintReport, lintRolesFile } from './permissions/lint.js';
import { buildOrganisation, type Organisation } from './permissions/organisation.js';
import { formatPolicyPlan, planPolicyChange } from './permissions/plan.js';
import { Policy } from './permissions/policy.js';
import { PermissionRegistry } from './permissions/registry.js';
import { parseRolesFile } from './permissions/roles-file.js';
import { rolesFileJsonSchema } from './permissions/roles-schema.js';

/** Destination of a command's report; process.stdout in the CLI. */
export interface TextOutput {
  write(text: string): unknown;
}

interface PolicyContext {
  registry: PermissionRegistry;
  organisation: Organisation;
  config: AppConfig;
  /** Origin of the users and groups, for the report. */
  source: string;
}

/**
 * Builds what the policy commands need: the config, and the users and
 * groups of the catalog. They come from the configured database. When it contains none (the
 * portal has not run yet), the config's catalog locations are read into a
 * temporary in-memory database instead, so CI can lint without a server.
 */
export async function createPolicyContext(
  configFiles: string[],
  registry: PermissionRegistry,
): Promise<PolicyContext> {
  const { config } = loadConfig(configFiles);
  try {
    return await readPolicyContext(config, registry);
  } catch (error) {
    // A database that refuses connections is an operator's fault to fix,
    // so it gets a message without a stack trace.
    if (error instanceof PortalError) {
      throw error;
    }
    throw new PortalError(
      'CATALOG_UNREADABLE',
      `Reading the users and groups of the catalog failed: ${(error as Error).message}. Check the database settings in ${configFiles.join(', ')} and that the database server accepts connections.`,
      { cause: error },
    );
  }
}

async function readPolicyContext(
  config: AppConfig,
  registry: PermissionRegistry,
): Promise<PolicyContext> {
  const logger = pino({ level: 'silent' });

  const database = connectDatabase(config.database);
  try {
    await migrateToLatest(database, [catalogMigrations, identityMigrations]);
    const stored = await readOrganisation(database);
    if (stored.users.length + stored.groups.length > 0) {
      return {
        registry,
        config,
        organisation: buildOrganisation(stored),
        source: `the catalog in ${database.description}`,
      };
    }
  } finally {
    await database.destroy();
  }

  const scratch: DatabaseHandle = connectDatabase({
    client: 'better-sqlite3',
    connection: { filename: ':memory:' },
  });
  try {
    await migrateToLatest(scratch, [catalogMigrations]);
    const catalog = createCatalog({
      database: scratch,
      config: { ...config.catalog, refresh: { intervalSeconds: 0, watch: false } },
      logger,
      registry: new PermissionRegistry(),
    });
    await catalog.refreshAll();
    await catalog.stop();
    return {
      registry,
      config,
      organisation: buildOrganisation(await readOrganisation(scratch)),
      source: 'the catalog locations of the config (the database holds no users or groups yet)',
    };
  } finally {
    await scratch.destroy();
  }
}

/** Adds `lint`, `plan` and `schema` to the `policy` command. */
export function registerPolicyLintAndPlan(
  policy: Command,
  defaultConfigFiles: () => string[],
  createRegistry: () => PermissionRegistry,
): void {
  policy
    .command('lint')
    .description(
      'Check a roles file: schema, permissions, members missing from the catalog, roles without members, shadowed grants and dangerous grants',
    )
    .argument('<file>', 'roles file to check')
    .option('-c, --config <file...>', 'config files that name the catalog and database')
    .option(
      '--large-group <users>',
      `a group with at least this many users counts as large for admin-level grants (default ${DEFAULT_LARGE_GROUP_SIZE})`,
    )
    .option('--strict', 'exit non-zero on warnings too')
    .option('--format <format>', 'text or json', 'text')
    .action(
      async (
        file: string,
        options: { config?: string[]; largeGroup?: string; strict?: boolean; format: string },
      ) => {
        process.exitCode = await runPolicyLint(
          file,
          { ...options, config: options.config ?? defaultConfigFiles() },
          createRegistry(),
          process.stdout,
        );
      },
    );

  policy
    .command('plan')
    .description(
      'Show, per user and per group of the catalog, the permissions gained and lost between two roles files',
    )
    .requiredOption('--from <file>', 'the roles file in force')
    .requiredOption('--to <file>', 'the proposed roles file')
    .option('-c, --config <file...>', 'config files that name the catalog and database')
    .option('--format <format>', 'text or json', 'text')
    .action(async (options: { from: string; to: string; config?: string[]; format: string }) => {
      process.exitCode = await runPolicyPlan(
        { ...options, config: options.config ?? defaultConfigFiles() },
        createRegistry(),
        process.stdout,
      );
    });

  policy
    .command('schema')
    .description('Print the JSON Schema of roles files, for editors')
    .action(() => {
      process.stdout.write(`${JSON.stringify(rolesFileJsonSchema(), null, 2)}\n`);
    });
}

/** Reads a roles file, turning a missing or unreadable file into a message that names it. */
function readRolesText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(
      `Roles file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): check the path`,
    );
  }
}

function checkFormat(format: string): 'text' | 'json' {
  if (format !== 'text' && format !== 'json') {
    throw new InputError(`--format '${format}' is not supported: use text or json`);
  }
  return format;
}

/** Lints one roles file; resolves to the exit code. */
export async function runPolicyLint(
  file: string,
  options: { config: string[]; largeGroup?: string; strict?: boolean; format: string },
  registry: PermissionRegistry,
  output: TextOutput,
): Promise<number> {
  try {
    const format = checkFormat(options.format);
    const largeGroupSize =
      options.largeGroup === undefined ? DEFAULT_LARGE_GROUP_SIZE : Number(options.largeGroup);
    if (!Number.isInteger(largeGroupSize) || largeGroupSize < 1) {
      throw new InputError(
        `--large-group '${options.largeGroup}' is not a positive whole number: give a number of users such as 50`,
      );
    }
    const text = readRolesText(file);
    const context = await createPolicyContext(options.config, registry);
    const report = lintRolesFile(file, text, {
      registry: context.registry,
      organisation: context.organisation,
      largeGroupSize,
    });
    if (format === 'json') {
      const { roles: _roles, ...rest } = report;
      output.write(`${JSON.stringify({ file, catalog: context.source, ...rest }, null, 2)}\n`);
    } else {
      output.write(`Members checked against ${context.source}.\n`);
      output.write(formatLintReport(file, report));
    }
    return report.errors > 0 || (options.strict && report.warnings > 0) ? 1 : 0;
  } catch (error) {
    console.error(formatErrorForTerminal(error));
    return 2;
  }
}

/** Plans the change from one roles file to another; resolves to the exit code. */
export async function runPolicyPlan(
  options: { from: string; to: string; config: string[]; format: string },
  registry: PermissionRegistry,
  output: TextOutput,
): Promise<number> {
  try {
    const format = checkFormat(options.format);
    const context = await createPolicyContext(options.config, registry);
    const load = (file: string) =>
      new Policy(parseRolesFile(file, readRolesText(file), context.registry), context.registry);
    const plan = planPolicyChange(load(options.from), load(options.to), {
      registry: context.registry,
      organisation: context.organisation,
      transitiveGroupOwnership: context.config.permission.transitiveGroupOwnership,
    });
    output.write(
      format === 'json'
        ? `${JSON.stringify({ from: options.from, to: options.to, ...plan }, null, 2)}\n`
        : formatPolicyPlan(plan),
    );
    return 0;
  } catch (error) {
    console.error(formatErrorForTerminal(error));
    return 2;
  }
}
