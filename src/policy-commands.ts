import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import {
  catalogMigrations,
  createCatalog,
  readEntitiesByKind,
  readOrganisation,
  type StoredEntity,
} from './catalog/index.js';
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
import {
  checkMicroFrontendRegistrations,
  MICRO_FRONTEND_KIND,
  type RegistrationFault,
  shellPermissions,
} from './shell/index.js';
import { createWorkflowRegistry, parseApprovalRules } from './workflows/index.js';
import { formatRulesLintReport, lintApprovalRules } from './workflows/rules-lint.js';
import { formatRulesPlan, planApprovalRules } from './workflows/rules-plan.js';

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
  /** The catalog's MicroFrontend entities, from the same source. */
  microFrontends: StoredEntity[];
}

/**
 * Builds what the policy commands need: the config, the registry with the
 * config's `shell.permissions` added as the server adds them, and the users,
 * groups and MicroFrontend entities of the catalog. They come from the configured database. When it contains none (the
 * portal has not run yet), the config's catalog locations are read into a
 * temporary in-memory database instead, so CI can lint without a server.
 */
export async function createPolicyContext(
  configFiles: string[],
  registry: PermissionRegistry,
): Promise<PolicyContext> {
  const { config } = loadConfig(configFiles);
  registry.registerPermissions(...shellPermissions(config));
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
        microFrontends: await readEntitiesByKind(database, MICRO_FRONTEND_KIND),
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
      microFrontends: await readEntitiesByKind(scratch, MICRO_FRONTEND_KIND),
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
    .option(
      '--approval-rules <file>',
      'also check an approval rules file: request types, groups, rules that never match',
    )
    .action(
      async (
        file: string,
        options: {
          config?: string[];
          largeGroup?: string;
          strict?: boolean;
          format: string;
          approvalRules?: string;
        },
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
    .option('--from <file>', 'the roles file in force')
    .option('--to <file>', 'the proposed roles file')
    .option('--approval-rules-from <file>', 'the approval rules file in force')
    .option('--approval-rules-to <file>', 'the proposed approval rules file')
    .option('-c, --config <file...>', 'config files that name the catalog and database')
    .option('--format <format>', 'text or json', 'text')
    .action(async (options: PolicyPlanOptions & { config?: string[] }) => {
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
function readRolesText(file: string, what = 'Roles file'): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(
      `${what} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): check the path`,
    );
  }
}

function checkFormat(format: string): 'text' | 'json' {
  if (format !== 'text' && format !== 'json') {
    throw new InputError(`--format '${format}' is not supported: use text or json`);
  }
  return format;
}

/** Lints one roles file, and an approval rules file when given; resolves to the exit code. */
export async function runPolicyLint(
  file: string,
  options: {
    config: string[];
    largeGroup?: string;
    strict?: boolean;
    format: string;
    approvalRules?: string;
  },
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
    const registrations = checkMicroFrontendRegistrations(
      context.config,
      context.registry,
      context.microFrontends,
    );
    const microFrontends = { served: registrations.served, faults: registrations.faults };
    const rulesFile = options.approvalRules;
    const rulesReport = rulesFile
      ? lintApprovalRules(rulesFile, readRolesText(rulesFile, 'Approval rules file'), {
          knownTypes: createWorkflowRegistry().typeNames(),
          organisation: context.organisation,
        })
      : undefined;
    const approvalRules = rulesReport ? { approvalRules: { file: rulesFile, ...rulesReport } } : {};
    if (format === 'json') {
      const { roles: _roles, ...rest } = report;
      output.write(
        `${JSON.stringify({ file, catalog: context.source, ...rest, microFrontends, ...approvalRules }, null, 2)}\n`,
      );
    } else {
      output.write(`Members checked against ${context.source}.\n`);
      output.write(formatRegistrationReport(microFrontends));
      output.write(formatLintReport(file, report));
      if (rulesFile && rulesReport) {
        output.write(formatRulesLintReport(rulesFile, rulesReport));
      }
    }
    const failed =
      report.errors > 0 || microFrontends.faults.length > 0 || (rulesReport?.errors ?? 0) > 0;
    const warned = report.warnings > 0 || (rulesReport?.warnings ?? 0) > 0;
    return failed || (options.strict && warned) ? 1 : 0;
  } catch (error) {
    console.error(formatErrorForTerminal(error));
    return 2;
  }
}

/** Formats the MicroFrontend entities that the shell would not serve, one error a line. */
function formatRegistrationReport(result: {
  served: string[];
  faults: RegistrationFault[];
}): string {
  const lines = result.faults.map(
    (fault) => `error: ${fault.file}: ${fault.field}: ${fault.message} [${fault.code}]`,
  );
  const notServed = new Set(result.faults.map((fault) => fault.entityRef)).size;
  lines.push(
    `MicroFrontend entities: ${result.served.length} served, ${notServed} not served (${result.faults.length} error${result.faults.length === 1 ? '' : 's'})`,
  );
  return `${lines.join('\n')}\n`;
}

/** The inputs that `policy plan` compares: a pair of roles files, a pair of approval rules files, or both. */
export interface PolicyPlanOptions {
  from?: string | undefined;
  to?: string | undefined;
  approvalRulesFrom?: string | undefined;
  approvalRulesTo?: string | undefined;
  format: string;
}

/** Plans the change from one roles file, or approval rules file, to another; resolves to the exit code. */
export async function runPolicyPlan(
  options: PolicyPlanOptions & { config: string[] },
  registry: PermissionRegistry,
  output: TextOutput,
): Promise<number> {
  try {
    const format = checkFormat(options.format);
    const roles = pairOf(options.from, options.to, '--from', '--to');
    const rules = pairOf(
      options.approvalRulesFrom,
      options.approvalRulesTo,
      '--approval-rules-from',
      '--approval-rules-to',
    );
    if (!roles && !rules) {
      throw new InputError(
        'Nothing to plan: give --from and --to (roles files), --approval-rules-from and --approval-rules-to (approval rules files), or both pairs',
      );
    }
    const context = await createPolicyContext(options.config, registry);
    const load = (file: string) =>
      new Policy(parseRolesFile(file, readRolesText(file), context.registry), context.registry);
    const plan = roles
      ? planPolicyChange(load(roles[0]), load(roles[1]), {
          registry: context.registry,
          organisation: context.organisation,
          transitiveGroupOwnership: context.config.permission.transitiveGroupOwnership,
        })
      : undefined;
    const knownTypes = createWorkflowRegistry().typeNames();
    const loadRules = (file: string) =>
      parseApprovalRules(file, readRolesText(file, 'Approval rules file'), knownTypes);
    const rulesPlan = rules
      ? planApprovalRules(loadRules(rules[0]), loadRules(rules[1]), context.organisation)
      : undefined;

    if (format === 'json') {
      const approvalRules = rules
        ? { approvalRules: { from: rules[0], to: rules[1], ...rulesPlan } }
        : {};
      output.write(
        `${JSON.stringify({ from: options.from, to: options.to, ...plan, ...approvalRules }, null, 2)}\n`,
      );
    } else {
      if (plan) {
        output.write(formatPolicyPlan(plan));
      }
      if (rulesPlan) {
        output.write(formatRulesPlan(rulesPlan));
      }
    }
    return 0;
  } catch (error) {
    console.error(formatErrorForTerminal(error));
    return 2;
  }
}

/** Returns both files of a --from/--to pair, undefined for neither, and throws for one alone. */
function pairOf(
  from: string | undefined,
  to: string | undefined,
  fromOption: string,
  toOption: string,
): [string, string] | undefined {
  if (from === undefined && to === undefined) {
    return undefined;
  }
  if (from === undefined || to === undefined) {
    throw new InputError(`${fromOption} and ${toOption} go together: give both files`);
  }
  return [from, to];
}
