import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { connectDatabase, migrateToLatest } from '../database/index.js';
import { formatErrorForTerminal } from '../errors/index.js';
import { scimMigrations } from './migrations.js';
import { SCIM_PATH } from './routes.js';
import { type ScimTokenInfo, ScimTokens } from './tokens.js';

/** The streams of a command: standard output for results, standard error for explanations. */
export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

const processOutput: CommandOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export type TokenCommand =
  | { action: 'create'; name: string }
  | { action: 'list' }
  | { action: 'revoke'; name: string };

/** Adds `scim token create|list|revoke`; each action sets process.exitCode. */
export function registerScimCommands(program: Command, defaultConfigFiles: () => string[]): void {
  const scim = program.command('scim').description('Work with SCIM 2.0 provisioning');
  const token = scim
    .command('token')
    .description('Manage the bearer tokens that SCIM clients such as Okta and Entra ID send');
  const configOption = [
    '-c, --config <file...>',
    'config files, merged in order; the database comes from them (default: as for start)',
  ] as const;

  token
    .command('create')
    .description('Create a provisioning token and print it once; only its SHA-256 is stored')
    .requiredOption('--name <name>', 'name of the client, such as okta or entra')
    .option(...configOption)
    .action(async (options: { name: string; config?: string[] }) => {
      process.exitCode = await runTokenCommand(
        { action: 'create', name: options.name },
        options.config ?? defaultConfigFiles(),
      );
    });
  token
    .command('list')
    .description('List provisioning tokens with their creation, last use and revocation times')
    .option(...configOption)
    .action(async (options: { config?: string[] }) => {
      process.exitCode = await runTokenCommand(
        { action: 'list' },
        options.config ?? defaultConfigFiles(),
      );
    });
  token
    .command('revoke')
    .description('Revoke the live token of a client; its next request gets 401')
    .requiredOption('--name <name>', 'name the token was created with')
    .option(...configOption)
    .action(async (options: { name: string; config?: string[] }) => {
      process.exitCode = await runTokenCommand(
        { action: 'revoke', name: options.name },
        options.config ?? defaultConfigFiles(),
      );
    });
}

/** Runs one token command against the configured database; resolves to the exit code. */
export async function runTokenCommand(
  command: TokenCommand,
  configFiles: string[],
  output: CommandOutput = processOutput,
): Promise<number> {
  let database: ReturnType<typeof connectDatabase> | undefined;
  try {
    const { config } = loadConfig(configFiles);
    database = connectDatabase(config.database);
    await migrateToLatest(database, [scimMigrations]);
    const tokens = new ScimTokens(database);

    switch (command.action) {
      case 'create': {
        const { token, info } = await tokens.create(command.name);
        const endpoint = `${config.app.baseUrl.replace(/\/+$/, '')}${SCIM_PATH}`;
        output.err(
          `Created SCIM token ${info.name} (id ${info.id}). It is printed once, below; store it in the client now.\n`,
        );
        output.out(`${token}\n`);
        output.err(
          `Give the client the base URL ${endpoint} and this token as its bearer token (Entra ID: Secret Token; Okta: HTTP Header authorization).\n`,
        );
        if (!config.scim.enabled) {
          output.err(
            'Note: scim.enabled is false in the config, so the portal does not serve the SCIM endpoints until you set it to true.\n',
          );
        }
        return 0;
      }
      case 'list':
        output.out(formatTokenList(await tokens.list()));
        return 0;
      case 'revoke': {
        const info = await tokens.revoke(command.name);
        output.err(`Revoked SCIM token ${info.name} (id ${info.id}) at ${info.revokedAt}.\n`);
        return 0;
      }
      default:
        return 1;
    }
  } catch (error) {
    output.err(`${formatErrorForTerminal(error)}\n`);
    return 1;
  } finally {
    await database?.destroy();
  }
}

/** Formats tokens as a table: name, id, created, last used, revoked. */
export function formatTokenList(tokens: readonly ScimTokenInfo[]): string {
  if (tokens.length === 0) {
    return 'No SCIM tokens. Create one with `backstage-luigi scim token create --name <client>`.\n';
  }
  const rows = [
    ['NAME', 'ID', 'CREATED', 'LAST USED', 'REVOKED'],
    ...tokens.map((token) => [
      token.name,
      token.id,
      token.createdAt,
      token.lastUsedAt ?? '-',
      token.revokedAt ?? '-',
    ]),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}
