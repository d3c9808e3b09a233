import { stat } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { type CatalogIssue, ISSUE_CODES } from './issues.js';
import { findFilesOutside, type TargetScope } from './target-scope.js';
import { describeFileType } from './text-file.js';

/** The files a location target lists, and the faults of the target. */
export interface TargetFiles {
  files: string[];
  issues: CatalogIssue[];
  /**
   * Files the target names that could not be read: a missing file the target
   * names itself, or a file that is no regular file or lies outside the scope.
   * The entities stored from them before are kept.
   */
  failedFiles: string[];
}

/** Sentence appended to the fault of a missing file, on what happens to its entities. */
export const KEPT_UNTIL_CREATED =
  'The catalog keeps the entities it stored from the file before until then';

/**
 * Lists the files a location target names: the file itself, or every file a
 * glob matches, sorted. A target that names an existing file is read as a
 * file even when its name contains glob characters. A missing file is an
 * error unless the target is optional. A glob that matches nothing is a
 * warning, because it may be empty on purpose. With a scope, a file whose
 * symbolic links lead outside the scope's folder is an error and not listed.
 */
export async function resolveTargetFiles(
  target: string,
  options: { optional?: boolean; scope?: TargetScope | undefined } = {},
): Promise<TargetFiles> {
  const fileStat = await stat(target).catch(() => undefined);
  if (fileStat?.isFile()) {
    return await keepInsideScope([target], options.scope);
  }
  if (fileStat?.isDirectory()) {
    return {
      files: [],
      failedFiles: [],
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
  if (fileStat) {
    return {
      files: [],
      failedFiles: [target],
      issues: [
        {
          severity: 'error',
          code: ISSUE_CODES.fileUnreadable,
          file: target,
          message: `${target} is ${describeFileType(fileStat)}, not a regular file: only regular files are read, so name a catalog file`,
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
      return await keepInsideScope(files, options.scope);
    }
    return {
      files: [],
      failedFiles: [],
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
    return { files: [], issues: [], failedFiles: [] };
  }
  return {
    files: [],
    // NOTE: a deleted file and one missing for a moment, such as during a
    // checkout, look alike here, so its entities stay until the target goes.
    failedFiles: [target],
    issues: [
      {
        severity: 'error',
        code: ISSUE_CODES.locationNotFound,
        file: target,
        message: `file ${target} does not exist: create it, or remove the target that names it. ${KEPT_UNTIL_CREATED}`,
      },
    ],
  };
}

async function keepInsideScope(
  files: string[],
  scope: TargetScope | undefined,
): Promise<TargetFiles> {
  if (!scope) {
    return { files, issues: [], failedFiles: [] };
  }
  const outside = await findFilesOutside(files, scope);
  if (outside.size === 0) {
    return { files, issues: [], failedFiles: [] };
  }
  return {
    files: files.filter((file) => !outside.has(file)),
    failedFiles: [...outside.keys()],
    issues: [...outside].map(([file, message]) => ({
      severity: 'error' as const,
      code: ISSUE_CODES.locationOutsideFolder,
      file,
      message,
    })),
  };
}
