import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerAccessReviewCommand } from './access-review.js';
import { registerAuditCommands } from './audit/cli.js';
import { auditPermissions } from './audit/index.js';
import { exitOnBrokenPipe } from './broken-pipe.js';
import { catalogPermissionRules, catalogPermissions } from './catalog/api/index.js';
import { registerCatalogCommands } from './catalog/cli.js';
import { type LoadedConfig, loadConfig } from './config/index.js';
import { formatErrorForTerminal } from './errors/index.js';
import { type ListenReservation, reserveListenAddress } from './listen-reservation.js';
import { createLogger } from './logging.js';
import { registerImportRbacCommand } from './permissions/cli.js';
import { PermissionRegistry, policyPermissions } from './permissions/index.js';
import { registerPolicyLintAndPlan } from './policy-commands.js';
import { runbookPermissions } from './runbooks/index.js';
import { registerScimCommands } from './scim/index.js';
import { createPortal } from './server.js';
import { createWorkflowRegistry, workflowPermissions } from './workflows/index.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Exit code of a usage error, such as an unknown option or a missing
 * argument. Commands keep 1 for what they found, such as an invalid entity.
 */
export const USAGE_ERROR_EXIT_CODE = 2;

/** Config files used when `--config` is not given. */
export function defaultConfigFiles(cwd: string = process.cwd()): string[] {
  const local = ['app-config.yaml', 'app-config.local.yaml']
    .map((name) => path.join(cwd, name))
    .filter((file) => existsSync(file));
  return local.length > 0 ? local : [path.join(packageRoot, 'examples', 'app-config.yaml')];
}

/**
 * Creates the registry with the permissions and rules that createPortal
 * registers, for commands that check roles without a database.
 */
export function createCommandRegistry(): PermissionRegistry {
  const registry = new PermissionRegistry();
  registry.registerPermissions(...policyPermissions, ...catalogPermissions, ...auditPermissions);
  registry.registerPermissions(...runbookPermissions);
  registry.registerPermissions(...workflowPermissions(createWorkflowRegistry()));
  registry.registerRules(...catalogPermissionRules);
  return registry;
}

/** Runs the command line; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  exitOnBrokenPipe(process.stdout);
  const program = new Command();
  program
    .name('backstage-luigi')
    .description(
      'Internal developer portal: Backstage catalog, Luigi shell, OpenID Connect sign-in, one permission model',
    )
    .exitOverride()
    .showHelpAfterError();

  program
    .command('start')
    .description('Start the portal server')
    .option(
      '-c, --config <file...>',
      'config files, merged in order (default: ./app-config.yaml and ./app-config.local.yaml, else the example organisation)',
    )
    .action(async (options: { config?: string[] }) => {
      process.exitCode = await start(options.config ?? defaultConfigFiles());
    });

  registerCatalogCommands(program);
  registerScimCommands(program, defaultConfigFiles);

  const policy = program.command('policy').description('Work with roles files and RBAC policies');
  registerImportRbacCommand(policy, createCommandRegistry);
  registerPolicyLintAndPlan(policy, defaultConfigFiles, createCommandRegistry);

  registerAuditCommands(program, defaultConfigFiles);

  registerAccessReviewCommand(program, defaultConfigFiles, createCommandRegistry);

  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    // Commander's errors: help that was asked for (0), or a usage error.
    const code = (error as { exitCode?: number }).exitCode;
    if (typeof code === 'number') {
      return code === 0 ? 0 : USAGE_ERROR_EXIT_CODE;
    }
    console.error(formatErrorForTerminal(error));
    return 1;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

async function start(configFiles: string[]): Promise<number> {
  const logger = createLogger();
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(configFiles);
  } catch (error) {
    console.error(formatErrorForTerminal(error));
    return 1;
  }
  logger.info({ files: loaded.files }, 'configuration loaded');

  // Bound before the database is touched: a start whose port is taken must not
  // migrate, refresh the catalog or write audit records into a running portal's data.
  const { host, port } = loaded.config.backend.listen;
  let reservation: ListenReservation;
  try {
    reservation = await reserveListenAddress(host, port);
  } catch (error) {
    console.error(formatListenError(error, host, port));
    return 1;
  }

  let portal: Awaited<ReturnType<typeof createPortal>>;
  try {
    portal = await createPortal({ config: loaded.config, logger, configFiles: loaded.files });
  } catch (error) {
    await reservation.release();
    console.error(formatErrorForTerminal(error));
    return 1;
  }
  try {
    // NOTE: another process can take the port between this release and the
    // listen below. The start then fails with the same message, but after its side effects.
    await reservation.release();
    await portal.listen();
  } catch (error) {
    await portal.close();
    console.error(formatListenError(error, host, port));
    return 1;
  }

  // The JSON log goes to standard output; this line is for the person at the terminal.
  console.error(
    `\nBackstage Luigi is ready at ${loaded.config.app.baseUrl} (stop it with Ctrl+C)\n`,
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'portal stopping');
      void portal.close().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  logger.info('portal stopped');
  return 0;
}

function formatListenError(error: unknown, host: string, port: number): string {
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return `Port ${port} on ${host} is already in use: stop the process that holds it, or set backend.listen.port (and app.baseUrl) to a free port.`;
  }
  if ((error as NodeJS.ErrnoException).code === 'EACCES') {
    return `Port ${port} on ${host} cannot be bound: permission denied. Set backend.listen.port (and app.baseUrl) to a port above 1023, or grant the process the right to bind low ports.`;
  }
  if ((error as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') {
    return `Host ${host} in backend.listen.host is not an address of this machine: set it to 127.0.0.1, 0.0.0.0 or an address of one of its interfaces.`;
  }
  return formatErrorForTerminal(error);
}
