import type { Command } from 'commander';
import {
  markElevatedPermissions,
  readRoleElevationsInForce,
  withElevationsInVia,
} from './access-review-elevations.js';
import { formatErrorForTerminal, InputError } from './errors/index.js';
import {
  formatAccessReviewCsv,
  formatAccessReviewText,
  reviewAccess,
} from './permissions/access-review.js';
import { Policy } from './permissions/policy.js';
import type { PermissionRegistry } from './permissions/registry.js';
import { loadRolesFile } from './permissions/roles-file.js';
import { TemporaryMembers } from './permissions/temporary-members.js';
import { createPolicyContext } from './policy-commands.js';

/** The output streams of the command: process.stdout and process.stderr in the CLI. */
export interface ReviewStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export interface AccessReviewCommandOptions {
  config: string[];
  format: string;
  /** The clock for the report's timestamp; the system clock by default. */
  now?: () => Date;
}

const FORMATS = ['text', 'csv', 'json'] as const;
type ReviewFormat = (typeof FORMATS)[number];

/** Adds `access-review` to the program. */
export function registerAccessReviewCommand(
  program: Command,
  defaultConfigFiles: () => string[],
  createRegistry: () => PermissionRegistry,
): void {
  program
    .command('access-review')
    .description(
      'List, for every user and group of the catalog, the permissions they hold under the configured roles file, with conditions, grants and the groups they hold them through',
    )
    .option('-c, --config <file...>', 'config files that name the catalog, database and roles file')
    .option('--format <format>', 'text (a table), csv or json', 'text')
    .action(async (options: { config?: string[]; format: string }) => {
      process.exitCode = await runAccessReview(
        { config: options.config ?? defaultConfigFiles(), format: options.format },
        createRegistry(),
        { stdout: process.stdout, stderr: process.stderr },
      );
    });
}

function checkFormat(format: string): ReviewFormat {
  const known = FORMATS.find((candidate) => candidate === format);
  if (!known) {
    throw new InputError(`--format '${format}' is not supported: use ${FORMATS.join(', ')}`);
  }
  return known;
}

/**
 * Writes the access review of the configured roles file for the catalog's
 * users and groups (see createPolicyContext for where they are read from).
 * Resolves to the exit code: 0, or 2 when the config, the catalog or the
 * roles file cannot be read or is invalid.
 */
export async function runAccessReview(
  options: AccessReviewCommandOptions,
  registry: PermissionRegistry,
  streams: ReviewStreams,
): Promise<number> {
  try {
    const format = checkFormat(options.format);
    const context = await createPolicyContext(options.config, registry);
    const rolesFile = context.config.permission.rolesFile;
    const now = options.now ?? (() => new Date());
    const generatedAt = now();

    // Role elevations in force count as the portal counts them, on the report's clock.
    const elevations = await readRoleElevationsInForce(context.config, () => generatedAt);
    const temporaryMembers = new TemporaryMembers(() => generatedAt.getTime());
    temporaryMembers.replace(
      elevations.map(({ member, role, expiresAt }) => ({ member, role, expiresAt })),
    );
    const policy = new Policy(loadRolesFile(rolesFile, context.registry), context.registry, {
      temporaryMembers,
    });
    const transitiveGroupOwnership = context.config.permission.transitiveGroupOwnership;
    const review = markElevatedPermissions(
      reviewAccess(policy, {
        registry: context.registry,
        organisation: context.organisation,
        transitiveGroupOwnership,
      }),
      policy,
      context.organisation,
      transitiveGroupOwnership,
    );

    if (format === 'csv') {
      streams.stdout.write(formatAccessReviewCsv(withElevationsInVia(review)));
    } else if (format === 'json') {
      const report = {
        rolesFile,
        catalog: context.source,
        generatedAt: generatedAt.toISOString(),
        transitiveGroupOwnership,
        ...review,
        elevations: elevations.map(({ member, role, expiresAt, requestId }) => ({
          member,
          role,
          expiresAt: expiresAt.toISOString(),
          requestId,
        })),
      };
      streams.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      streams.stdout.write(
        formatAccessReviewText(withElevationsInVia(review), {
          rolesFile,
          catalog: context.source,
          generatedAt,
        }),
      );
    }
    return 0;
  } catch (error) {
    streams.stderr.write(`${formatErrorForTerminal(error)}\n`);
    return 2;
  }
}
