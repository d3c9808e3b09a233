import { stat } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { type CatalogIssue, ISSUE_CODES } from './issues.js';

/**
 * Lists the files a location target names: the file itself, or every file a
 * glob matches, sorted. A target that names an existing file is read as a
 * file even when its name contains glob characters. A missing file is an
 * error unless the target is optional. A glob that matches nothing is a
 * warning, because it may be empty on purpose.
 */
export async function resolveTargetFiles(
  target: string,
  options: { optional?: boolean } = {},
): Promise<{ files: string[]; issues: CatalogIssue[] }> {
  const fileStat = await stat(target).catch(() => undefined);
  if (fileStat?.isFile()) {
    return { files: [target], issues: [] };
  }
  if (fileStat?.isDirectory()) {
    return {
      files: [],
      issues: [
        {
          severity: 'error',
          code: ISSUE_CODES.fileUnreadable,
          file: target,
          message: `${target} is a folder, not a catalog file: name a file, or a glob such as ${path.join(target, '*.yaml')}`,
        },
      ],
    };
  }

  if (isDynamicPattern(target)) {
    const files = (
      await glob(target, { absolute: true, onlyFiles: true, expandDirectories: false })
    )
      .map((file) => path.normalize(file))
      .sort();
    if (files.length > 0) {
      return { files, issues: [] };
    }
    return {
      files: [],
      issues: [
        {
          severity: 'warning',
          code: ISSUE_CODES.locationEmpty,
          file: target,
          message: `glob ${target} matches no file yet; its entities appear when matching files are added`,
        },
      ],
    };
  }

  if (options.optional) {
    return { files: [], issues: [] };
  }
  return {
    files: [],
    issues: [
      {
        severity: 'error',
        code: ISSUE_CODES.locationNotFound,
        file: target,
        message: `file ${target} does not exist: create it, or remove the target that names it`,
      },
    ],
  };
}

/**
 * Returns the folder to watch for a target and whether to watch it
 * recursively: the file's folder, or the part of a glob before its first wildcard.
 */
export function watchRootOf(target: string): { folder: string; recursive: boolean } {
  if (!isDynamicPattern(target)) {
    return { folder: path.dirname(target), recursive: false };
  }
  const parts = target.split('/');
  const staticParts: string[] = [];
  for (const part of parts) {
    if (isDynamicPattern(part)) {
      break;
    }
    staticParts.push(part);
  }
  const folder = staticParts.join('/') || '/';
  const rest = parts.slice(staticParts.length);
  return { folder, recursive: rest.length > 1 };
}
