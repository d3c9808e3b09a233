import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { ISSUE_CODES } from './issues.js';
import {
  type FileReadResult,
  type ReadFileOptions,
  readCatalogFile,
  readCatalogText,
} from './read-file.js';

interface CacheEntry {
  contentHash: string;
  /** Size, times and inode of each placeholder file, and the allowed kinds. */
  dependencyKey: string;
  result: FileReadResult;
}

/**
 * Keeps the last read of each catalog file and returns it again while the
 * file's content, the files its placeholders read and the allowed kinds are
 * unchanged, so a refresh of unchanged files skips parsing and validation.
 * Reading and hashing a file costs far less than parsing it.
 */
export class FileReadCache {
  readonly #entries = new Map<string, CacheEntry>();

  async read(file: string, options: ReadFileOptions): Promise<FileReadResult> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      this.#entries.delete(file);
      return await readCatalogFile(file, options);
    }

    const kindsKey = options.allowedKinds ? [...options.allowedKinds].sort().join(',') : '*';
    const contentHash = createHash('sha1').update(text).digest('hex');
    const cached = this.#entries.get(file);
    if (
      cached?.contentHash === contentHash &&
      cached.dependencyKey === (await dependencyKeyOf(cached.result.dependencies, kindsKey))
    ) {
      return cached.result;
    }

    const result = await readCatalogText(file, text, options);
    const dependencyKey = await dependencyKeyOf(result.dependencies, kindsKey);
    // A placeholder whose file is missing records no dependency, so the read
    // could not notice that file appearing later; such results are not kept.
    const cacheable = !result.issues.some((issue) => issue.code === ISSUE_CODES.placeholderFailed);
    if (cacheable && dependencyKey !== undefined) {
      this.#entries.set(file, { contentHash, dependencyKey, result });
    } else {
      this.#entries.delete(file);
    }
    return result;
  }

  /** Forgets every file not in `files`. */
  retainOnly(files: ReadonlySet<string>): void {
    for (const file of this.#entries.keys()) {
      if (!files.has(file)) {
        this.#entries.delete(file);
      }
    }
  }
}

async function dependencyKeyOf(
  files: readonly string[],
  kindsKey: string,
): Promise<string | undefined> {
  const parts = [kindsKey];
  for (const file of files) {
    const info = await stat(file).catch(() => undefined);
    if (!info) {
      return undefined;
    }
    parts.push(`${file}:${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.ino}`);
  }
  return parts.join('|');
}
