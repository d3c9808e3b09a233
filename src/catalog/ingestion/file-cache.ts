import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { FileLines } from './file-lines.js';
import { ISSUE_CODES } from './issues.js';
import { kindPolicyKey } from './kind-rules.js';
import type { LoadedFile } from './location-plan.js';
import { type PreparedFile, type PrepareOptions, unreadablePreparedFile } from './prepare-file.js';
import { FILE_SIZE_SETTING, unreadableFileIssue } from './read-file.js';
import { readTextFile, type TextFileResult } from './text-file.js';

/** Prepares one file's text; the ingestion runs it inline or on a worker thread. */
export type Preparer = (
  file: string,
  text: string,
  options: PrepareOptions,
) => Promise<PreparedFile>;

interface CacheEntry {
  contentHash: string;
  /** The preparation options that the entry was prepared with, as `load` keys them. */
  optionsKey: string;
  /** Options of the preparation, and size, times and inode of each placeholder file. */
  dependencyKey: string;
  loaded: LoadedFile;
}

/**
 * Keeps the last preparation of each catalog file and returns it again while
 * the file's content, the files its placeholders read, the allowed kinds and
 * the origin target are unchanged, so a refresh of unchanged files skips
 * parsing and validation. Reading and hashing a file costs far less than
 * parsing it.
 */
export class PreparedFileCache {
  readonly #entries = new Map<string, CacheEntry>();
  readonly #maxFileBytes: number;

  /** `maxFileBytes` limits the size of each catalog file read. */
  constructor(maxFileBytes: number) {
    this.#maxFileBytes = maxFileBytes;
  }

  /**
   * Reads the files of one location refresh and starts preparing those that
   * changed, with the preparer that `choosePreparer` picks for their total
   * size. Returns one promise per file, in file order.
   */
  async load(
    files: readonly string[],
    options: PrepareOptions,
    choosePreparer: (changedBytes: number) => Preparer,
  ): Promise<Array<Promise<LoadedFile>>> {
    const optionsKey = [
      kindPolicyKey(options.kindPolicy),
      options.scope.configTarget,
      options.scope.folder,
      options.maxPlaceholderFileBytes ?? '',
    ].join('\u0000');
    const limit = { maxBytes: this.#maxFileBytes, setting: FILE_SIZE_SETTING };
    const texts = await Promise.all(files.map((file) => readTextFile(file, limit)));

    const loads: Array<Promise<LoadedFile> | undefined> = [];
    const changed: Array<{ index: number; file: string; text: string; contentHash: string }> = [];
    for (const [index, file] of files.entries()) {
      const read = texts[index] as TextFileResult;
      if (!read.ok) {
        this.#entries.delete(file);
        const prepared = unreadablePreparedFile(file, unreadableFileIssue(file, read.fault));
        loads.push(Promise.resolve({ prepared, lines: new FileLines('') }));
        continue;
      }

      const contentHash = createHash('sha1').update(read.text).digest('hex');
      const cached = this.#entries.get(file);
      if (
        cached?.contentHash === contentHash &&
        cached.dependencyKey ===
          (await dependencyKeyOf(cached.loaded.prepared.dependencies, optionsKey))
      ) {
        loads.push(Promise.resolve(cached.loaded));
        continue;
      }
      loads.push(undefined);
      changed.push({ index, file, text: read.text, contentHash });
    }

    const preparer = choosePreparer(changed.reduce((sum, job) => sum + job.text.length, 0));
    for (const job of changed) {
      loads[job.index] = this.#prepare(job, options, optionsKey, preparer);
    }
    return loads as Array<Promise<LoadedFile>>;
  }

  /**
   * Reads the files and reports whether each still has the content and the
   * placeholder files of its kept preparation. A file without a kept
   * preparation, such as an unreadable one, counts as changed.
   */
  async isUnchanged(files: readonly string[]): Promise<boolean> {
    const limit = { maxBytes: this.#maxFileBytes, setting: FILE_SIZE_SETTING };
    for (const file of files) {
      const cached = this.#entries.get(file);
      if (!cached) {
        return false;
      }
      const read = await readTextFile(file, limit);
      if (!read.ok || createHash('sha1').update(read.text).digest('hex') !== cached.contentHash) {
        return false;
      }
      const dependencyKey = await dependencyKeyOf(
        cached.loaded.prepared.dependencies,
        cached.optionsKey,
      );
      if (dependencyKey !== cached.dependencyKey) {
        return false;
      }
    }
    return true;
  }

  /** Forgets every file not in `files`. */
  retainOnly(files: ReadonlySet<string>): void {
    for (const file of this.#entries.keys()) {
      if (!files.has(file)) {
        this.#entries.delete(file);
      }
    }
  }

  async #prepare(
    job: { file: string; text: string; contentHash: string },
    options: PrepareOptions,
    optionsKey: string,
    preparer: Preparer,
  ): Promise<LoadedFile> {
    const prepared = await preparer(job.file, job.text, options);
    const loaded: LoadedFile = { prepared, lines: new FileLines(job.text) };

    const dependencyKey = await dependencyKeyOf(prepared.dependencies, optionsKey);
    // A placeholder whose file is missing records no dependency, so the read
    // could not notice that file appearing later; such results are not kept.
    const cacheable = !prepared.issues.some(
      (issue) => issue.code === ISSUE_CODES.placeholderFailed,
    );
    if (cacheable && dependencyKey !== undefined) {
      this.#entries.set(job.file, {
        contentHash: job.contentHash,
        optionsKey,
        dependencyKey,
        loaded,
      });
    } else {
      this.#entries.delete(job.file);
    }
    return loaded;
  }
}

async function dependencyKeyOf(
  files: readonly string[],
  optionsKey: string,
): Promise<string | undefined> {
  const parts = [optionsKey];
  for (const file of files) {
    const info = await stat(file).catch(() => undefined);
    if (!info) {
      return undefined;
    }
    parts.push(`${file}:${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.ino}`);
  }
  return parts.join('|');
}
