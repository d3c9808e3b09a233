import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { formatErrorForTerminal } from '../errors/index.js';
import { Policy } from './policy.js';
import type { PermissionRegistry } from './registry.js';
import { loadRolesFile } from './roles-file.js';
import { type TemporaryMember, TemporaryMembers } from './temporary-members.js';
import type { Decision, Principal } from './types.js';

/** Quiet time after the last change event before the roles file is read again. */
const RELOAD_DELAY_MS = 200;

/** What one reload of the watched roles file did: swapped the policy, or kept it after a fault. */
export type RolesChange =
  | { result: 'reloaded'; before: Policy; after: Policy }
  | { result: 'rejected'; error: unknown };

/** Receives every reload of the watched roles file; an error it throws or rejects with is logged. */
export type RolesChangeListener = (change: RolesChange) => void | Promise<void>;

export interface PermissionServiceOptions {
  /** The clock that temporary memberships expire by, in milliseconds since the epoch. */
  now?: () => number;
}

/** The server's one decision point; holds the policy in force and swaps it on reload. */
export class PermissionService {
  private policy: Policy;
  private readonly temporaryMembers: TemporaryMembers;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private readonly rolesListeners: RolesChangeListener[] = [];

  constructor(
    readonly registry: PermissionRegistry,
    private readonly rolesFile: string,
    options: PermissionServiceOptions = {},
  ) {
    this.temporaryMembers = new TemporaryMembers(options.now);
    this.policy = this.loadPolicy();
  }

  /** Decides one permission for the principal; see Policy.authorize. */
  authorize(principal: Principal, permission: string, resource?: unknown): Decision {
    return this.policy.authorize(principal, permission, resource);
  }

  /** Re-reads the roles file. On a fault it throws and the policy in force stays. */
  reload(): void {
    this.policy = this.loadPolicy();
  }

  /**
   * Replaces the temporary role memberships, such as role elevations, which
   * decisions honour from the next call until each one's expiry. A role that
   * the roles file does not define grants nothing. Throws InputError for a
   * member that is not a user or group reference, and changes nothing then.
   */
  setTemporaryMembers(members: readonly TemporaryMember[]): void {
    this.temporaryMembers.replace(members);
  }

  /** Lists the temporary role memberships that have not expired. */
  listTemporaryMembers(): TemporaryMember[] {
    return this.temporaryMembers.list();
  }

  currentPolicy(): Policy {
    return this.policy;
  }

  /**
   * Reloads the roles file whenever it changes. A file that fails its checks
   * leaves the last good policy in force, and the log lists every fault. The
   * folder is watched rather than the file, because editors and deployments
   * often replace a file by renaming a new one over it.
   */
  watchRolesFile(logger: Logger): void {
    if (this.watcher) {
      return;
    }
    const folder = path.dirname(this.rolesFile);
    const name = path.basename(this.rolesFile);
    this.watcher = watch(folder, (_event, changed) => {
      if (changed !== null && changed !== name) {
        return;
      }
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => this.reloadAndLog(logger), RELOAD_DELAY_MS);
    });
    this.watcher.on('error', (error) => {
      logger.error(
        { err: error, rolesFile: this.rolesFile },
        'watching the roles file failed; restart the portal to load changes',
      );
    });
  }

  /** Adds a listener for each reload that watchRolesFile makes, accepted or rejected. */
  onRolesChange(listener: RolesChangeListener): void {
    this.rolesListeners.push(listener);
  }

  /** Stops watching the roles file. */
  stopWatching(): void {
    clearTimeout(this.reloadTimer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private loadPolicy(): Policy {
    return new Policy(loadRolesFile(this.rolesFile, this.registry), this.registry, {
      temporaryMembers: this.temporaryMembers,
    });
  }

  private reloadAndLog(logger: Logger): void {
    const before = this.policy;
    try {
      this.reload();
      logger.info(
        { rolesFile: this.rolesFile, roles: this.policy.roles.roles.length },
        'roles file reloaded',
      );
      this.notifyRolesChange({ result: 'reloaded', before, after: this.policy }, logger);
    } catch (error) {
      logger.error(
        { rolesFile: this.rolesFile, faults: formatErrorForTerminal(error) },
        'roles file rejected; the last valid roles stay in force',
      );
      this.notifyRolesChange({ result: 'rejected', error }, logger);
    }
  }

  private notifyRolesChange(change: RolesChange, logger: Logger): void {
    for (const listener of this.rolesListeners) {
      Promise.resolve()
        .then(() => listener(change))
        .catch((error: unknown) =>
          logger.error({ err: error, rolesFile: this.rolesFile }, 'a roles change listener failed'),
        );
    }
  }
}
