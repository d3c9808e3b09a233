import type { Command } from 'commander';

// NOTE: placeholder; the ingestion pipeline adds `catalog validate PATH…` here.

/** Adds the `catalog …` subcommands; each action sets process.exitCode. */
export function registerCatalogCommands(program: Command): void {
  program.command('catalog').description('Work with Backstage catalog files');
}
