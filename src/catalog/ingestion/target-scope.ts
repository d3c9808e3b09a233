import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { isDynamicPattern } from 'tinyglobby';

/**
 * The folder that every file of a config location's tree must stay in, so a
 * Location entity in a repository cannot make the server read files beyond
 * what the administrator registered.
 */
export interface TargetScope {
  /** Target of the config location at the root of the tree. */
  configTarget: string;
  /** The folder of that target, or the static base of its glob, before symbolic links are resolved. */
  folder: string;
}

/** Creates the scope of a config location's tree from its target. */
export function createTargetScope(configTarget: string): TargetScope {
  return { configTarget, folder: watchRootOf(configTarget).folder };
}

/**
 * Returns the folder to watch for a target and whether to watch it
 * recursively: the file's folder, or the part of a glob before its first
 * wildcard, which is also the glob's static base.
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

/** Returns whether `file` is `folder` itself or lies below it, comparing paths as written. */
export function isWithinFolder(file: string, folder: string): boolean {
  const relative = path.relative(folder, file);
  return relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/**
 * Returns why a target that a Location entity declares may not be read, or
 * undefined when it stays inside the scope. A glob stays inside when its
 * static base does. Paths are compared as written; symbolic links are
 * resolved later, for each file the target lists (see findFilesOutside).
 */
export function describeTargetOutside(
  target: string,
  scope: TargetScope,
  declared: string,
): string | undefined {
  const glob = isDynamicPattern(target);
  const base = glob ? watchRootOf(target).folder : target;
  if (isWithinFolder(base, scope.folder) && (glob || base !== scope.folder)) {
    return undefined;
  }
  return `${declared} resolves to ${target}, outside the folder ${scope.folder} of config location ${scope.configTarget}: the targets of Location entities must stay inside the folder of the config location they descend from, so move the file into that folder or register it as a location of its own in app-config`;
}

/**
 * Resolves the symbolic links of each file and returns the files that lead
 * outside the scope, with the reason. The config target itself is exempt when
 * it names one file, because the administrator chose that path.
 */
export async function findFilesOutside(
  files: readonly string[],
  scope: TargetScope,
): Promise<Map<string, string>> {
  const outside = new Map<string, string>();
  if (files.length === 0) {
    return outside;
  }
  const realFolder = await realpath(scope.folder).catch(() => scope.folder);
  // NOTE: links are resolved before the file is opened, so a link that is
  // swapped in between those two steps is still followed once.
  for (const file of files) {
    if (file === scope.configTarget) {
      continue;
    }
    const real = await realpath(file).catch(() => file);
    if (!isWithinFolder(real, realFolder)) {
      outside.set(
        file,
        `${file} resolves through a symbolic link to ${real}, outside the folder ${scope.folder} of config location ${scope.configTarget}: files of a config location's tree must stay inside its folder after links are resolved, so replace the link with the file or register that file as a location of its own in app-config`,
      );
    }
  }
  return outside;
}
