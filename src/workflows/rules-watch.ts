import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { formatErrorForTerminal, PortalError } from '../errors/index.js';
import { type ApprovalRulesFile, loadApprovalRules } from './rules-file.js';

/** Wait after the last change event before reloading, so a file written in parts is read whole. */
const RELOAD_DELAY_MS = 200;

/** Result of one reload of the watched rules file, with the new rules or the fault that kept the rules in force. */
export type RulesReload =
  | { result: 'reloaded'; rules: ApprovalRulesFile }
  | { result: 'rejected'; error: unknown };

/** The approval rules in force, reloaded when the file changes; a faulty file leaves the last good rules. */
export class ApprovalRulesSource {
  private rules: ApprovalRulesFile;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly file: string,
    private readonly knownTypes: () => readonly string[],
  ) {
    this.rules = loadApprovalRules(file, knownTypes());
  }

  current(): ApprovalRulesFile {
    return this.rules;
  }

  /** Re-reads the file; throws on a fault and keeps the rules in force. */
  reload(): void {
    this.rules = loadApprovalRules(this.file, this.knownTypes());
  }

  /** Reloads on every change of the file; the folder is watched because editors replace files by renaming. */
  watch(logger: Logger, onReload?: (reload: RulesReload) => Promise<void>): void {
    if (this.watcher) {
      return;
    }
    const name = path.basename(this.file);
    this.watcher = watch(path.dirname(this.file), (_event, changed) => {
      if (changed !== null && changed !== name) {
        return;
      }
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        const reload = this.reloadAndLog(logger);
        onReload?.(reload).catch((error: unknown) => {
          logger.error({ err: error, rulesFile: this.file }, 'recording the rules reload failed');
        });
      }, RELOAD_DELAY_MS);
    });
    this.watcher.on('error', (error) => {
      logger.error(
        { err: error, rulesFile: this.file },
        'watching the approval rules file failed; restart the portal to load changes',
      );
    });
  }

  stopWatching(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private reloadAndLog(logger: Logger): RulesReload {
    try {
      this.reload();
      logger.info(
        { rulesFile: this.file, rules: this.rules.rules.length },
        'approval rules reloaded',
      );
      return { result: 'reloaded', rules: this.rules };
    } catch (error) {
      logger.error(
        {
          rulesFile: this.file,
          faults: error instanceof PortalError ? error.details : undefined,
          err: error instanceof PortalError ? undefined : error,
        },
        `approval rules not reloaded, the previous rules stay in force: ${formatErrorForTerminal(error).split('\n')[0]}`,
      );
      return { result: 'rejected', error };
    }
  }
}
