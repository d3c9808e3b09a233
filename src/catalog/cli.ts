import path from 'node:path';
import type { Command } from 'commander';
import {
  type CatalogIssue,
  formatIssue,
  type ValidationReport,
  validateCatalogFiles,
} from './ingestion/index.js';

/** Destination of the `catalog validate` report; process.stdout in the CLI. */
export interface TextOutput {
  write(text: string): unknown;
}

/** Adds the `catalog …` subcommands; each action sets process.exitCode. */
export function registerCatalogCommands(program: Command): void {
  const catalog = program.command('catalog').description('Work with Backstage catalog files');

  catalog
    .command('validate')
    .description(
      'Validate catalog files as the portal would ingest them, following the targets of Location entities',
    )
    .argument(
      '<paths...>',
      'catalog files, globs, or folders (their *.yaml and *.yml files are read)',
    )
    .option(
      '--allow <kinds>',
      'comma-separated kinds to accept, as catalog.rules allows them (default: every kind but User and Group)',
    )
    .action(async (paths: string[], options: { allow?: string }) => {
      process.exitCode = await runCatalogValidate(paths, options, process.stdout);
    });
}

/**
 * Validates the paths and writes each file's entities and faults to `output`.
 * Resolves to the exit code: 1 when any fault is an error, else 0. Usage
 * errors exit with 2 before this runs (see main in cli.ts).
 */
export async function runCatalogValidate(
  paths: readonly string[],
  options: { allow?: string },
  output: TextOutput,
): Promise<number> {
  const allow = options.allow
    ?.split(',')
    .map((kind) => kind.trim())
    .filter((kind) => kind !== '');
  const report = await validateCatalogFiles(paths, allow ? { rules: [{ allow }] } : {});
  output.write(formatValidationReport(report, process.cwd()));
  return report.errors > 0 ? 1 : 0;
}

/** Formats a report as text: per file its valid entities, then its faults; a summary last. */
export function formatValidationReport(report: ValidationReport, cwd: string): string {
  const display = (file: string) => {
    const relative = path.relative(cwd, file);
    return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
  };
  const line = (issue: CatalogIssue) =>
    `  ${issue.severity.padEnd(7)} ${formatIssue(issue.file ? { ...issue, file: display(issue.file) } : issue)}\n`;

  let text = '';
  for (const issue of report.issues) {
    text += line(issue);
  }
  let entities = 0;
  let warnings = report.issues.filter((issue) => issue.severity === 'warning').length;
  for (const file of report.files) {
    text += `${display(file.file)}\n`;
    for (const entity of file.entities) {
      // The notation of formatIssue, so valid and invalid entities are found the same way.
      text += `  ok      ${display(file.file)}:${entity.line} [doc ${entity.docIndex}] ${entity.ref}\n`;
    }
    for (const issue of file.issues) {
      text += line(issue);
    }
    entities += file.entities.length;
    warnings += file.issues.filter((issue) => issue.severity === 'warning').length;
  }

  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  text += `\n${plural(report.files.length, 'file')}, ${entities} valid ${entities === 1 ? 'entity' : 'entities'}, ${plural(report.errors, 'error')}, ${plural(warnings, 'warning')}\n`;
  return text;
}
