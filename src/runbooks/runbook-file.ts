import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';

/** Largest runbook file that is read, in bytes. */
export const MAX_RUNBOOK_FILE_BYTES = 256 * 1024;

/** File name endings of runbook files; anything else next to a catalog file is not read. */
const MARKDOWN_EXTENSIONS = ['.md', '.markdown'];

/** Fault of a runbook file that was not read, with a stable `code` and a message that names the value and the fix. */
export interface RunbookFileFault {
  code:
    | 'RUNBOOK_PATH_INVALID'
    | 'RUNBOOK_PATH_OUTSIDE'
    | 'RUNBOOK_NOT_FOUND'
    | 'RUNBOOK_TOO_LARGE'
    | 'RUNBOOK_UNREADABLE';
  message: string;
}

export type RunbookFileResult = { ok: true; text: string } | { ok: false; fault: RunbookFileFault };

/**
 * Checks the form of a runbook path written in an annotation: relative,
 * without `..`, not a URL, ending in .md or .markdown. Returns the fault, or
 * undefined when the path is acceptable.
 */
export function checkRunbookPath(value: string): RunbookFileFault | undefined {
  const invalid = (reason: string): RunbookFileFault => ({
    code: 'RUNBOOK_PATH_INVALID',
    message: `Runbook path '${value}' is invalid: ${reason}`,
  });

  if (value === '') {
    return invalid('it is empty; write a path such as ./docs/runbook.md');
  }
  if (value.includes('\u0000')) {
    return invalid('it contains a NUL character');
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    return invalid(
      'URLs are not read; put the file next to the catalog file and name it with a relative path such as ./docs/runbook.md',
    );
  }
  if (path.posix.isAbsolute(value) || path.win32.isAbsolute(value)) {
    return invalid('absolute paths are not read; use a path relative to the catalog file');
  }
  if (value.split(/[/\\]/).includes('..')) {
    return invalid("'..' is not allowed; the file must be inside the catalog file's folder");
  }
  if (!MARKDOWN_EXTENSIONS.includes(path.extname(value).toLowerCase())) {
    return invalid(`use a markdown file ending in ${MARKDOWN_EXTENSIONS.join(' or ')}`);
  }
  return undefined;
}

/**
 * Reads a runbook file named by `relativePath` inside `folder`. The path
 * must pass checkRunbookPath, and after symbolic links are resolved the file
 * must still be inside the folder, so a link that points elsewhere is
 * rejected. Faults are returned, never thrown.
 */
export async function readRunbookFile(
  folder: string,
  relativePath: string,
  maxBytes: number = MAX_RUNBOOK_FILE_BYTES,
): Promise<RunbookFileResult> {
  const pathFault = checkRunbookPath(relativePath);
  if (pathFault) {
    return { ok: false, fault: pathFault };
  }

  let realFolder: string;
  let realFile: string;
  try {
    realFolder = await realpath(folder);
    realFile = await realpath(path.resolve(folder, relativePath));
  } catch (error) {
    return { ok: false, fault: faultOfError(error, relativePath) };
  }
  if (!realFile.startsWith(realFolder + path.sep)) {
    return {
      ok: false,
      fault: {
        code: 'RUNBOOK_PATH_OUTSIDE',
        message: `Runbook path '${relativePath}' leads outside the catalog file's folder ${folder} through a symbolic link; move the file into that folder`,
      },
    };
  }

  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    // O_NONBLOCK keeps a named pipe from blocking the open; regular files ignore it.
    // NOTE: a symbolic link swapped in between realpath above and this open is
    // not detected; exploiting that needs write access to the catalog folder.
    handle = await open(realFile, constants.O_RDONLY | constants.O_NONBLOCK);
    const stats = await handle.stat();
    if (!stats.isFile()) {
      return {
        ok: false,
        fault: {
          code: 'RUNBOOK_UNREADABLE',
          message: `Runbook path '${relativePath}' is not a regular file; name a markdown file`,
        },
      };
    }
    if (stats.size > maxBytes) {
      return { ok: false, fault: tooLarge(relativePath, maxBytes) };
    }
    // Reads one byte more than allowed, in case the file grew after stat.
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, maxBytes + 1, 0);
    if (bytesRead > maxBytes) {
      return { ok: false, fault: tooLarge(relativePath, maxBytes) };
    }
    return { ok: true, text: buffer.subarray(0, bytesRead).toString('utf8') };
  } catch (error) {
    return { ok: false, fault: faultOfError(error, relativePath) };
  } finally {
    // A failed close loses nothing, because the text is already read.
    await handle?.close().catch(() => undefined);
  }
}

function tooLarge(relativePath: string, maxBytes: number): RunbookFileFault {
  return {
    code: 'RUNBOOK_TOO_LARGE',
    message: `Runbook file '${relativePath}' is larger than ${maxBytes} bytes; split it into several runbooks`,
  };
}

function faultOfError(error: unknown, relativePath: string): RunbookFileFault {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return {
      code: 'RUNBOOK_NOT_FOUND',
      message: `Runbook file '${relativePath}' was not found next to the catalog file; create it or correct the annotation`,
    };
  }
  return {
    code: 'RUNBOOK_UNREADABLE',
    message: `Runbook file '${relativePath}' could not be read (${code ?? String(error)})`,
  };
}
