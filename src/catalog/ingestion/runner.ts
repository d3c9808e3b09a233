import path from 'node:path';
import type { Logger } from 'pino';
import { isDynamicPattern } from 'tinyglobby';
import { type CatalogConfig, DEFAULT_CATALOG_FILE_MAX_BYTES } from '../../config/index.js';
import type { RefreshSummary } from '../catalog.js';
import { PreparedFileCache, type Preparer } from './file-cache.js';
import { type CatalogIssue, ISSUE_CODES } from './issues.js';
import { createKindPolicy, type KindPolicy } from './kind-rules.js';
import type { LocationRecord } from './location-plan.js';
import { prepareCatalogText } from './prepare-file.js';
import { PreparePool } from './prepare-pool.js';
import { RefreshPass } from './refresh-pass.js';
import type { IngestionStore } from './store.js';
import { resolveTargetFiles } from './target-files.js';
import { createTargetScope, type TargetScope, watchRootOf } from './target-scope.js';
import { FolderWatcher, type WatchRequest } from './watch.js';
import { type LocationRefreshOutcome, writeLocationRefresh } from './write-refresh.js';

/** Settings a location inherits from the config location it was reached from. */
interface LocationContext {
  /** The config location's tree, whose folder every file of the location must stay in. */
  scope: TargetScope;
  kindPolicy: KindPolicy;
  /** Parents of the location, nearest first. */
  ancestors: LocationRecord[];
  /** Whether the Location entity that declared it sets `presence: optional`. */
  optional: boolean;
}

/**
 * One location refresh as the ingestion reports it to `onLocationRefreshed`:
 * what it stored, or the error that kept it from storing anything.
 */
export type LocationRefreshReport = { location: LocationRecord } & (
  | { outcome: LocationRefreshOutcome }
  | { error: unknown }
);

export interface IngestionRunnerOptions {
  workerMinChangedChars?: number;
  /**
   * Called after each location refresh, once its transaction has ended. The
   * refresh waits for it; an error it throws is logged.
   */
  onLocationRefreshed?: (report: LocationRefreshReport) => Promise<void>;
}

/** Rounds of re-refreshing locations whose denied references became free. */
const MAX_RETRY_PASSES = 3;

/**
 * Changed YAML, in characters, from which a location refresh prepares its
 * files on worker threads while the main thread writes. Starting the workers
 * took about a second when run from TypeScript source, and preparing
 * 4,000,000 characters of the generated catalog of bench/ingest.ts about
 * 1.5 s on one thread, so below that the workers save little or nothing.
 */
export const WORKER_MIN_CHANGED_CHARS = 4_000_000;

/**
 * Runs every refresh of the catalog's locations one after another, so two
 * refreshes never interleave their reads and writes: at start, on the
 * interval, and when watched folders change. Each location is read and
 * stored on its own, then its child locations, depth first.
 */
export class IngestionRunner {
  readonly #store: IngestionStore;
  readonly #config: CatalogConfig;
  readonly #logger: Logger;
  readonly #cache: PreparedFileCache;
  readonly #maxPlaceholderFileBytes: number;
  readonly #workerMinChangedChars: number;
  readonly #onLocationRefreshed: IngestionRunnerOptions['onLocationRefreshed'];
  /** Worker threads of the refresh under way, started on its first large location. */
  #pool: PreparePool | undefined;
  /** Files each location read last, to stop a location from reading what an ancestor reads. */
  readonly #filesByLocation = new Map<string, string[]>();
  /** Target and placeholder files of each location, for the watcher. */
  readonly #watchInfo = new Map<string, { target: string; dependencies: string[] }>();
  readonly #optional = new Map<string, boolean>();
  /** Locations whose last refresh stored every file of their target. */
  readonly #storedLocations = new Set<string>();
  #queue: Promise<unknown> = Promise.resolve();
  #intervalTimer: NodeJS.Timeout | undefined;
  #watcher: FolderWatcher | undefined;
  #fullRefreshQueued = false;

  constructor(
    store: IngestionStore,
    config: CatalogConfig,
    logger: Logger,
    options: IngestionRunnerOptions = {},
  ) {
    this.#store = store;
    this.#config = config;
    this.#logger = logger;
    this.#cache = new PreparedFileCache(
      config.limits?.maxFileBytes ?? DEFAULT_CATALOG_FILE_MAX_BYTES,
    );
    this.#maxPlaceholderFileBytes =
      config.limits?.maxPlaceholderFileBytes ?? DEFAULT_CATALOG_FILE_MAX_BYTES;
    this.#workerMinChangedChars = options.workerMinChangedChars ?? WORKER_MIN_CHANGED_CHARS;
    this.#onLocationRefreshed = options.onLocationRefreshed;
  }

  /** Refreshes every location, after any refresh already under way. */
  refreshAll(): Promise<RefreshSummary> {
    return this.#enqueue(() => this.#refreshAll());
  }

  /** Refreshes the locations and everything below them, after any refresh already under way. */
  refreshLocations(ids: Iterable<string>): Promise<void> {
    const requested = new Set(ids);
    return this.#enqueue(() => this.#refreshLocations(requested));
  }

  startBackgroundRefresh(): void {
    const seconds = this.#config.refresh.intervalSeconds;
    if (seconds > 0 && !this.#intervalTimer) {
      this.#intervalTimer = setInterval(() => this.#queueFullRefresh(), seconds * 1000);
      this.#intervalTimer.unref();
    }
    if (this.#config.refresh.watch && !this.#watcher) {
      this.#watcher = new FolderWatcher(this.#logger, (ids) => {
        this.#enqueue(() => this.#refreshChanged(ids)).catch((error: unknown) =>
          this.#logger.error({ err: error }, 'catalog refresh after a file change failed'),
        );
      });
      this.#updateWatcher();
    }
    this.#logger.info(
      { intervalSeconds: seconds, watch: this.#config.refresh.watch },
      'catalog background refresh started',
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.#intervalTimer);
    this.#intervalTimer = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
    await this.#queue.catch(() => {});
    await this.#closePool();
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    const settle = async () => {
      await this.#closePool();
      this.#updateWatcher();
    };
    this.#queue = run.then(settle, settle);
    return run;
  }

  #preparerFor(location: LocationRecord, changedChars: number): Preparer {
    if (changedChars < this.#workerMinChangedChars) {
      return prepareCatalogText;
    }
    this.#pool ??= new PreparePool();
    const pool = this.#pool;
    this.#logger.info(
      { location: location.target, changedChars, workers: pool.size },
      'catalog files prepared on worker threads',
    );
    // While the workers start, and whenever the writes wait for a file, the
    // main thread prepares files too (see writeLocationRefresh).
    return (file, text, options) => pool.prepare(file, text, options);
  }

  async #closePool(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close();
  }

  #queueFullRefresh(): void {
    if (this.#fullRefreshQueued) {
      return;
    }
    this.#fullRefreshQueued = true;
    this.#enqueue(async () => {
      this.#fullRefreshQueued = false;
      const started = Date.now();
      const summary = await this.#refreshAll();
      this.#logger.info(
        { ...summary, durationMs: Date.now() - started },
        'catalog refresh finished',
      );
    }).catch((error: unknown) =>
      this.#logger.error({ err: error }, 'catalog interval refresh failed'),
    );
  }

  async #refreshAll(): Promise<RefreshSummary> {
    const now = new Date().toISOString();
    const targets = this.#config.locations.map((location) => location.target);
    const roots = await this.#store.syncConfigLocations(targets, now);

    const pass = new RefreshPass();
    const retry = new Set<string>();
    for (const root of roots) {
      await this.#refreshSubtree(root, this.#rootContext(root), retry, pass);
    }
    await this.#retry(retry, pass);
    await this.#finishPass(pass);
    await this.#forgetRemovedLocations();

    const counts = await this.#store.counts();
    return {
      locations: counts.locations,
      entities: counts.entities,
      errors: counts.errors,
      warnings: counts.warnings,
    };
  }

  async #refreshLocations(requested: ReadonlySet<string>): Promise<void> {
    const pass = new RefreshPass();
    const retry = new Set<string>();
    for (const id of requested) {
      const location = await this.#store.loadLocation(id);
      if (!location) {
        continue;
      }
      const context = await this.#contextOf(location);
      if (context.ancestors.some((ancestor) => requested.has(ancestor.id))) {
        continue;
      }
      await this.#refreshSubtree(location, context, retry, pass);
    }
    await this.#retry(retry, pass);
    await this.#finishPass(pass);
    await this.#forgetRemovedLocations();
  }

  /**
   * Refreshes those of the locations whose files changed since their last
   * refresh. A watched folder also reports files that no location reads, such
   * as a log file beside a catalog file, and those must not cause a refresh
   * and its audit record.
   */
  async #refreshChanged(ids: ReadonlySet<string>): Promise<void> {
    const changed = new Set<string>();
    for (const id of ids) {
      if (await this.#filesChanged(id)) {
        changed.add(id);
      }
    }
    if (changed.size === 0) {
      this.#logger.debug({ locations: ids.size }, 'catalog files unchanged, refresh skipped');
      return;
    }
    await this.#refreshLocations(changed);
  }

  /** Whether the location's target now names other files, or any of them has other content. */
  async #filesChanged(id: string): Promise<boolean> {
    const previous = this.#filesByLocation.get(id);
    if (!previous || !this.#storedLocations.has(id)) {
      return true;
    }
    const location = await this.#store.loadLocation(id);
    if (!location) {
      return false;
    }
    const context = await this.#contextOf(location);
    const resolved = await resolveTargetFiles(location.target, {
      optional: context.optional,
      scope: context.scope,
    });
    if (resolved.failedFiles.length > 0) {
      return true;
    }
    const ancestorFiles = new Set(
      context.ancestors.flatMap((ancestor) => this.#filesByLocation.get(ancestor.id) ?? []),
    );
    const files = resolved.files.filter((file) => !ancestorFiles.has(file));
    if (files.length !== previous.length || files.some((file, index) => file !== previous[index])) {
      return true;
    }
    return !(await this.#cache.isUnchanged(files));
  }

  /** Stores the derived warnings of a pass; a failure leaves those of the previous pass. */
  async #finishPass(pass: RefreshPass): Promise<void> {
    if (pass.isEmpty) {
      return;
    }
    try {
      const now = new Date().toISOString();
      const dangling = await this.#store.transaction(
        (transaction) => pass.finish(transaction, now),
        { loadsEntities: false },
      );
      this.#logger.info({ danglingReferences: dangling }, 'catalog derived warnings stored');
    } catch (error) {
      this.#logger.error({ err: error }, 'catalog derived warnings could not be stored');
    }
  }

  async #retry(retry: Set<string>, pass: RefreshPass): Promise<void> {
    for (let round = 0; round < MAX_RETRY_PASSES && retry.size > 0; round++) {
      const ids = [...retry];
      retry.clear();
      for (const id of ids) {
        const location = await this.#store.loadLocation(id);
        if (location) {
          await this.#refreshSubtree(location, await this.#contextOf(location), retry, pass);
        }
      }
    }
  }

  async #refreshSubtree(
    location: LocationRecord,
    context: LocationContext,
    retry: Set<string>,
    pass: RefreshPass,
  ): Promise<void> {
    const outcome = await this.#refreshOne(location, context);
    if (!outcome) {
      return;
    }
    pass.record(location.id, outcome.derived);
    for (const id of outcome.retry) {
      retry.add(id);
    }

    const ancestors = [location, ...context.ancestors];
    for (const child of outcome.children) {
      if (ancestors.some((ancestor) => ancestor.id === child.location.id)) {
        continue;
      }
      const optional = child.optional ?? this.#optional.get(child.location.id) ?? false;
      await this.#refreshSubtree(child.location, { ...context, ancestors, optional }, retry, pass);
    }
  }

  async #refreshOne(
    location: LocationRecord,
    context: LocationContext,
  ): Promise<LocationRefreshOutcome | undefined> {
    this.#storedLocations.delete(location.id);
    try {
      const resolved = await resolveTargetFiles(location.target, {
        optional: context.optional,
        scope: context.scope,
      });
      // A target of a Location entity is reported on that entity, so readers find who declared it.
      const declaredBy = location.parentEntityRef;
      const targetIssues: CatalogIssue[] = resolved.issues.map((issue) =>
        declaredBy ? { ...issue, entityRef: declaredBy } : issue,
      );
      const ancestorFiles = new Map<string, string>();
      for (const ancestor of context.ancestors) {
        for (const file of this.#filesByLocation.get(ancestor.id) ?? []) {
          ancestorFiles.set(file, ancestor.target);
        }
      }

      const files: string[] = [];
      for (const file of resolved.files) {
        const reader = ancestorFiles.get(file);
        if (reader === undefined) {
          files.push(file);
          continue;
        }
        targetIssues.push({
          severity: 'error',
          code: ISSUE_CODES.locationCycle,
          file,
          message: `${file} is already read by location ${reader}, which leads to this location; it is not read again, so narrow the target ${location.target}`,
        });
      }

      const loads = await this.#cache.load(
        files,
        {
          kindPolicy: context.kindPolicy,
          scope: context.scope,
          maxPlaceholderFileBytes: this.#maxPlaceholderFileBytes,
        },
        (changedChars) => this.#preparerFor(location, changedChars),
      );
      // Each load is awaited in turn while earlier files are written; should
      // the write fail first, the later ones would otherwise go unhandled.
      for (const load of loads) {
        load.catch(() => {});
      }
      this.#filesByLocation.set(location.id, files);
      this.#optional.set(location.id, context.optional);

      const now = new Date().toISOString();
      const pool = this.#pool;
      let outcome: LocationRefreshOutcome;
      try {
        outcome = await this.#store.transaction((transaction) =>
          writeLocationRefresh(transaction, {
            location,
            files: loads,
            targetIssues,
            failedFiles: resolved.failedFiles,
            now,
            ...(pool ? { prepareWhileWaiting: () => pool.prepareOneHere() } : {}),
          }),
        );
      } finally {
        const loaded = await Promise.allSettled(loads);
        this.#watchInfo.set(location.id, {
          target: location.target,
          dependencies: loaded.flatMap((result) =>
            result.status === 'fulfilled' ? result.value.prepared.dependencies : [],
          ),
        });
      }
      this.#logger.info(
        {
          location: location.target,
          entities: outcome.entities,
          errors: outcome.errors,
          warnings: outcome.warnings,
        },
        'catalog location refreshed',
      );
      if (resolved.failedFiles.length === 0) {
        this.#storedLocations.add(location.id);
      }
      await this.#report({ location, outcome });
      return outcome;
    } catch (error) {
      this.#logger.error(
        { err: error, location: location.target },
        'catalog location refresh failed',
      );
      await this.#report({ location, error });
      return undefined;
    }
  }

  async #report(report: LocationRefreshReport): Promise<void> {
    try {
      await this.#onLocationRefreshed?.(report);
    } catch (error) {
      this.#logger.error(
        { err: error, location: report.location.target },
        'reporting a catalog location refresh failed',
      );
    }
  }

  #rootContext(root: LocationRecord): LocationContext {
    const index = this.#config.locations.findIndex((location) => location.target === root.target);
    return {
      scope: createTargetScope(root.target),
      kindPolicy: createKindPolicy(this.#config.rules, this.#config.locations[index]?.rules),
      ancestors: [],
      optional: false,
    };
  }

  async #contextOf(location: LocationRecord): Promise<LocationContext> {
    const ancestors: LocationRecord[] = [];
    let parentId = location.parentId;
    while (parentId !== null && !ancestors.some((ancestor) => ancestor.id === parentId)) {
      const parent = await this.#store.loadLocation(parentId);
      if (!parent) {
        break;
      }
      ancestors.push(parent);
      parentId = parent.parentId;
    }
    const root = ancestors[ancestors.length - 1] ?? location;
    return {
      ...this.#rootContext(root),
      ancestors,
      optional: this.#optional.get(location.id) ?? false,
    };
  }

  async #forgetRemovedLocations(): Promise<void> {
    const ids = new Set((await this.#store.listLocations()).map((location) => location.id));
    for (const map of [this.#filesByLocation, this.#watchInfo, this.#optional]) {
      for (const id of map.keys()) {
        if (!ids.has(id)) {
          map.delete(id);
        }
      }
    }
    for (const id of this.#storedLocations) {
      if (!ids.has(id)) {
        this.#storedLocations.delete(id);
      }
    }
    this.#cache.retainOnly(new Set([...this.#filesByLocation.values()].flat()));
  }

  #updateWatcher(): void {
    if (!this.#watcher) {
      return;
    }
    const requests = new Map<
      string,
      WatchRequest & { names: Set<string> | undefined; locationIds: Set<string> }
    >();
    // A name of undefined stands for every entry of the folder.
    const add = (folder: string, recursive: boolean, name: string | undefined, id: string) => {
      const key = `${folder}\u0000${recursive}`;
      const request = requests.get(key) ?? {
        folder,
        recursive,
        names: new Set<string>(),
        locationIds: new Set<string>(),
      };
      if (name === undefined) {
        request.names = undefined;
      } else {
        request.names?.add(name);
      }
      request.locationIds.add(id);
      requests.set(key, request);
    };
    for (const [id, info] of this.#watchInfo) {
      const root = watchRootOf(info.target);
      // A glob's changes are checked by content in #refreshChanged, because no
      // glob matcher for single names is a dependency here.
      const name = isDynamicPattern(info.target) ? undefined : path.basename(info.target);
      add(root.folder, root.recursive, name, id);
      for (const dependency of info.dependencies) {
        add(path.dirname(dependency), false, path.basename(dependency), id);
      }
    }
    this.#watcher.update([...requests.values()]);
  }
}
