import { existsSync, type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

/** Milliseconds without further change before the changed locations are refreshed. */
export const WATCH_DEBOUNCE_MS = 200;

/** A folder to watch and the locations to refresh when anything in it changes. */
export interface WatchRequest {
  folder: string;
  recursive: boolean;
  locationIds: ReadonlySet<string>;
}

/**
 * Watches folders with fs.watch and reports the locations whose folders
 * changed, once the changes settle. Folders, not files, are watched, so new
 * files that match a glob and files replaced by editors are both seen. A
 * folder that does not exist yet is watched through its nearest existing
 * parent, so creating it triggers a refresh too.
 */
export class FolderWatcher {
  readonly #logger: Logger;
  readonly #onChange: (locationIds: Set<string>) => void;
  readonly #watchers = new Map<string, { watcher: FSWatcher; locationIds: Set<string> }>();
  #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(logger: Logger, onChange: (locationIds: Set<string>) => void) {
    this.#logger = logger;
    this.#onChange = onChange;
  }

  /** Makes the set of watched folders match `requests`. */
  update(requests: readonly WatchRequest[]): void {
    if (this.#closed) {
      return;
    }
    const wanted = new Map<
      string,
      { folder: string; recursive: boolean; locationIds: Set<string> }
    >();
    for (const request of requests) {
      const folder = nearestExisting(request.folder);
      const key = `${folder}\u0000${request.recursive}`;
      const entry = wanted.get(key) ?? {
        folder,
        recursive: request.recursive,
        locationIds: new Set(),
      };
      for (const id of request.locationIds) {
        entry.locationIds.add(id);
      }
      wanted.set(key, entry);
    }

    for (const [key, entry] of this.#watchers) {
      if (!wanted.has(key)) {
        entry.watcher.close();
        this.#watchers.delete(key);
      }
    }
    for (const [key, request] of wanted) {
      const current = this.#watchers.get(key);
      if (current) {
        current.locationIds = request.locationIds;
        continue;
      }
      const watcher = this.#open(request.folder, request.recursive, key);
      if (watcher) {
        this.#watchers.set(key, { watcher, locationIds: request.locationIds });
      }
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const entry of this.#watchers.values()) {
      entry.watcher.close();
    }
    this.#watchers.clear();
  }

  #open(folder: string, recursive: boolean, key: string): FSWatcher | undefined {
    try {
      const watcher = watch(folder, { persistent: false, recursive }, () => this.#changed(key));
      watcher.on('error', (error) => {
        this.#logger.warn({ err: error, folder }, 'catalog folder watch failed');
        watcher.close();
        this.#watchers.delete(key);
      });
      return watcher;
    } catch (error) {
      this.#logger.warn({ err: error, folder }, 'catalog folder could not be watched');
      return undefined;
    }
  }

  #changed(key: string): void {
    const entry = this.#watchers.get(key);
    if (!entry || this.#closed) {
      return;
    }
    for (const id of entry.locationIds) {
      this.#pending.add(id);
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const ids = this.#pending;
      this.#pending = new Set();
      this.#onChange(ids);
    }, WATCH_DEBOUNCE_MS);
    this.#timer.unref();
  }
}

function nearestExisting(folder: string): string {
  let current = folder;
  while (!existsSync(current)) {
    const parent = path.dirname(current);
    if (parent === current) {
      return current;
    }
    current = parent;
  }
  return current;
}
