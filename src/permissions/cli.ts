import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { formatErrorForTerminal } from '../errors/index.js';
import {
  formatImportedRoles,
  formatImportIssue,
  importRbacFiles,
  type RbacImportResult,
} from './rbac-import/index.js';
import type { PermissionRegistry } from './registry.js';
import { parseRolesFile } from './roles-file.js';

/** The output streams of a command: process.stdout and process.stderr in the CLI. */
export interface CommandStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export interface ImportRbacOptions {
  csv: string;
  conditions?: string;
  output?: string;
}

/**
 * Adds `import-rbac` to the `policy` command. `createRegistry` returns the
 * registry filled as the server fills it, since roles name registered
 * permissions.
 */
export function registerImportRbacCommand(
  policy: Command,
  createRegistry: () => PermissionRegistry,
): void {
  policy
    .command('import-rbac')
    .description(
      "Convert policies of Backstage's community RBAC plugin (as in Red Hat Developer Hub) into a roles file; exits with 1 when anything is not converted",
    )
    .requiredOption('--csv <file>', 'the RBAC policy CSV (permission.rbac.policies-csv-file)')
    .option(
      '--conditions <file>',
      'the conditional-policy YAML (permission.rbac.conditionalPoliciesFile)',
    )
    .option('--output <file>', 'where to write the roles file (default: standard output)')
    .action((options: ImportRbacOptions) => {
      process.exitCode = runImportRbac(options, createRegistry(), {
        stdout: process.stdout,
        stderr: process.stderr,
      });
    });
}

/**
 * Converts the RBAC files, writes the roles file to `options.output` or
 * standard output, and writes every error and warning with a summary to
 * standard error. Returns the exit code: 1 when any line or document was not
 * converted, or nothing could be written, else 0.
 */
export function runImportRbac(
  options: ImportRbacOptions,
  registry: PermissionRegistry,
  streams: CommandStreams,
  cwd: string = process.cwd(),
): number {
  const display = (file: string) => {
    const relative = path.relative(cwd, path.resolve(cwd, file));
    return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
  };
  const sources = [options.csv, ...(options.conditions ? [options.conditions] : [])];
  const output = options.output;
  if (output && sources.some((source) => path.resolve(cwd, source) === path.resolve(cwd, output))) {
    streams.stderr.write(
      `--output ${output} is also an input file, so writing the roles file would replace it: choose another --output\n`,
    );
    return 1;
  }

  let result: RbacImportResult;
  try {
    result = importRbacFiles(
      options.conditions ? { csv: options.csv, conditions: options.conditions } : options,
      registry,
    );
  } catch (error) {
    streams.stderr.write(`${formatErrorForTerminal(error)}\n`);
    return 1;
  }
  const text = formatImportedRoles(result, sources, display);

  // The converter only emits what the roles file accepts; this check keeps a
  // converter fault from reaching a file that the portal would refuse.
  try {
    parseRolesFile(options.output ?? 'roles.yaml', text, registry);
  } catch (error) {
    streams.stderr.write(
      `The converted roles file does not load, so nothing was written. This is a fault of the import, not of the RBAC files:\n${formatErrorForTerminal(error)}\n`,
    );
    return 1;
  }

  for (const issue of result.issues) {
    streams.stderr.write(
      `  ${issue.severity.padEnd(7)} ${formatImportIssue(issue, display(issue.file))}\n`,
    );
  }

  if (options.output) {
    try {
      writeFileSync(options.output, text);
    } catch (error) {
      streams.stderr.write(
        `Cannot write the roles file ${options.output}: ${(error as Error).message}: check the path given to --output\n`,
      );
      return 1;
    }
  } else {
    streams.stdout.write(text);
  }

  streams.stderr.write(summarize(result, options, display));
  return result.issues.some((issue) => issue.severity === 'error') ? 1 : 0;
}

function summarize(
  result: RbacImportResult,
  options: ImportRbacOptions,
  display: (file: string) => string,
): string {
  const { counts } = result;
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  const parts = [
    `${counts.csvLinesConverted} of ${plural(counts.csvLines, 'line')} of ${display(options.csv)}`,
  ];
  if (options.conditions) {
    parts.push(
      `${counts.documentsConverted} of ${plural(counts.documents, 'document')} of ${display(options.conditions)}`,
    );
  }
  const roles = result.rolesFile.roles.length;
  const target = options.output ? display(options.output) : 'standard output';
  let text = `\nConverted ${parts.join(' and ')} into ${plural(roles, 'role')}, written to ${target}.\n`;

  const errors = result.issues.filter((issue) => issue.severity === 'error').length;
  const warnings = result.issues.length - errors;
  if (warnings > 0) {
    text += `${plural(warnings, 'warning')}: read them before using the roles file.\n`;
  }
  if (errors > 0) {
    text += `${plural(errors, 'error')}: what they name was not converted and is left out of the roles file. Fix it in the RBAC files and import again before using the roles file, because a policy left out can be a deny.\n`;
  }
  return text;
}
