import { existsSync, type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

/** Milliseconds without further change before the changed locations are refreshed. */
export const WATCH_DEBOUNCE_MS = 200;

/** A folder to watch and the locations to refresh when the named entries in it change. */
export interface WatchRequest {
  folder: string;
  recursive: boolean;
  /** Names of the folder's entries whose changes matter; every change matters when undefined. */
  names?: ReadonlySet<string> | undefined;
  locationIds: ReadonlySet<string>;
}

/** The locations that one watched folder refreshes, for the entries they depend on. */
interface Route {
  /** Names of the folder's entries whose changes matter; every change matters when undefined. */
  names: ReadonlySet<string> | undefined;
  locationIds: ReadonlySet<string>;
}

interface WatchedFolder {
  folder: string;
  recursive: boolean;
  routes: Route[];
}

/**
 * Watches folders with fs.watch and reports the locations whose files in
 * them changed, once the changes settle. Folders, not files, are watched, so
 * new files that match a glob and files replaced by editors are both seen.
 * Changes to other entries of a folder are ignored when the request names
 * the entries that matter.
 *
 * A folder that does not exist, or no longer does, is watched through its
 * nearest existing parent, without recursion and only for the name of the
 * missing child. A recursive watch of a large parent such as / walks the
 * whole tree, which Node.js 20 on Linux does synchronously. Other changes in
 * the parent, such as a database that each refresh writes, would trigger
 * refresh after refresh.
 */
export class FolderWatcher {
  readonly #logger: Logger;
  readonly #onChange: (locationIds: Set<string>) => void;
  readonly #watchers = new Map<string, WatchedFolder & { watcher: FSWatcher }>();
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
    const wanted = new Map<string, WatchedFolder>();
    for (const request of requests) {
      const watched = watchedFolderOf(request);
      const key = `${watched.folder}\u0000${watched.recursive}`;
      const entry = wanted.get(key) ?? { ...watched, routes: [] };
      entry.routes.push({ names: watched.names, locationIds: request.locationIds });
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
        current.routes = request.routes;
        continue;
      }
      const watcher = this.#open(request.folder, request.recursive, key);
      if (watcher) {
        this.#watchers.set(key, { ...request, watcher });
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
      const watcher = watch(folder, { persistent: false, recursive }, (_event, filename) =>
        this.#changed(key, filename),
      );
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

  #changed(key: string, filename: string | Buffer | null): void {
    const entry = this.#watchers.get(key);
    if (!entry || this.#closed) {
      return;
    }
    const name = filename === null ? undefined : String(filename);
    // A watched folder that was deleted or moved away matters to every route.
    let folderGone: boolean | undefined;
    const isFolderGone = () => {
      folderGone ??= !existsSync(entry.folder);
      return folderGone;
    };
    let matched = false;
    for (const route of entry.routes) {
      if (route.names && name !== undefined && !route.names.has(name) && !isFolderGone()) {
        continue;
      }
      matched = true;
      for (const id of route.locationIds) {
        this.#pending.add(id);
      }
    }
    if (!matched) {
      return;
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

/**
 * Returns what to watch for a request: the folder itself when it exists, or
 * else its nearest existing parent, watched without recursion for the name
 * of the child that leads to the folder.
 */
function watchedFolderOf(request: WatchRequest): Omit<WatchedFolder, 'routes'> & Route {
  if (existsSync(request.folder)) {
    return {
      folder: request.folder,
      recursive: request.recursive,
      names: request.names,
      locationIds: request.locationIds,
    };
  }
  let missing = request.folder;
  let parent = path.dirname(missing);
  while (parent !== missing && !existsSync(parent)) {
    missing = parent;
    parent = path.dirname(missing);
  }
  return {
    folder: parent,
    recursive: false,
    names: new Set([path.basename(missing)]),
    locationIds: request.locationIds,
  };
}
