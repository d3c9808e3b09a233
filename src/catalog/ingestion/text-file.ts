import { isUtf8 } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { ISSUE_CODES, type IssueCode } from './issues.js';

/** The text of a file, or why it was not read. */
export type TextFileResult = { ok: true; text: string } | { ok: false; fault: TextFileFault };

/** The reason a file was not read, which follows the file's name in a message. */
export interface TextFileFault {
  code: IssueCode;
  reason: string;
}

/** A size limit and the config key that sets it, for messages. */
export interface SizeLimit {
  maxBytes: number;
  setting: string;
}

/**
 * Opening without blocking keeps a FIFO from stalling the thread until a
 * writer opens it, and the type check after opening then rejects it. The
 * flag does nothing to regular files.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/**
 * Reads a regular file of at most `limit.maxBytes` bytes as UTF-8. A FIFO, a
 * device, a socket or a folder is not read, nor is a file over the limit or
 * one that is not valid UTF-8. A UTF-8 byte order mark is dropped.
 */
export async function readTextFile(file: string, limit: SizeLimit): Promise<TextFileResult> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (error) {
    return { ok: false, fault: openFault(error) };
  }

  try {
    const stats = await handle.stat();
    const fault = checkStats(stats, limit);
    if (fault) {
      return { ok: false, fault };
    }

    const chunks: Buffer[] = [];
    let total = 0;
    for (let size = firstChunkSize(stats, limit); size > 0; size = nextChunkSize(total, limit)) {
      const chunk = Buffer.allocUnsafe(size);
      const { bytesRead } = await handle.read(chunk, 0, size, null);
      if (bytesRead === 0) {
        break;
      }
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    return decodeText(joinChunks(chunks, total), limit);
  } catch (error) {
    return { ok: false, fault: openFault(error) };
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Reads a file as readTextFile does, blocking the thread; for placeholders, which resolve synchronously. */
export function readTextFileSync(file: string, limit: SizeLimit): TextFileResult {
  let descriptor: number;
  try {
    descriptor = openSync(file, OPEN_FLAGS);
  } catch (error) {
    return { ok: false, fault: openFault(error) };
  }

  try {
    const stats = fstatSync(descriptor);
    const fault = checkStats(stats, limit);
    if (fault) {
      return { ok: false, fault };
    }

    const chunks: Buffer[] = [];
    let total = 0;
    for (let size = firstChunkSize(stats, limit); size > 0; size = nextChunkSize(total, limit)) {
      const chunk = Buffer.allocUnsafe(size);
      const bytesRead = readSync(descriptor, chunk, 0, size, null);
      if (bytesRead === 0) {
        break;
      }
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    return decodeText(joinChunks(chunks, total), limit);
  } catch (error) {
    return { ok: false, fault: openFault(error) };
  } finally {
    closeSync(descriptor);
  }
}

/** Chunk that reads the whole file as its size was checked, and one byte more to see EOF. */
function firstChunkSize(stats: Stats, limit: SizeLimit): number {
  return Math.min(stats.size, limit.maxBytes) + 1;
}

/**
 * Chunk for a file that grew after its size was checked, or that reports no
 * size, as files of /proc do: up to one byte over the limit, which
 * decodeText then reports.
 */
function nextChunkSize(total: number, limit: SizeLimit): number {
  return Math.min(64 * 1024, limit.maxBytes + 1 - total);
}

/** Joins the chunks read; most files fit their first chunk, which needs no copy. */
function joinChunks(chunks: Buffer[], total: number): Buffer {
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
}

function openFault(error: unknown): TextFileFault {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return { code: ISSUE_CODES.locationNotFound, reason: 'does not exist' };
  }
  if (code === 'EISDIR') {
    return { code: ISSUE_CODES.fileUnreadable, reason: 'is a folder, not a regular file' };
  }
  return {
    code: ISSUE_CODES.fileUnreadable,
    reason: `could not be read (${code ?? (error as Error).message}): check that the portal's user may read it`,
  };
}

function checkStats(stats: Stats, limit: SizeLimit): TextFileFault | undefined {
  if (!stats.isFile()) {
    return {
      code: ISSUE_CODES.fileUnreadable,
      reason: `is ${describeFileType(stats)}, not a regular file: only regular files are read`,
    };
  }
  if (stats.size > limit.maxBytes) {
    return tooLarge(stats.size, limit);
  }
  return undefined;
}

function tooLarge(size: number | undefined, limit: SizeLimit): TextFileFault {
  const measured = size === undefined ? 'more than' : `${size} bytes, more than`;
  return {
    code: ISSUE_CODES.fileTooLarge,
    reason: `is ${measured} the limit of ${limit.maxBytes} bytes set by ${limit.setting}: split it into smaller files or raise the limit`,
  };
}

/** Names the type of a file system entry that is not a regular file. */
export function describeFileType(stats: Stats): string {
  if (stats.isDirectory()) {
    return 'a folder';
  }
  if (stats.isFIFO()) {
    return 'a FIFO (named pipe)';
  }
  if (stats.isSocket()) {
    return 'a socket';
  }
  if (stats.isCharacterDevice() || stats.isBlockDevice()) {
    return 'a device';
  }
  return 'not a regular file';
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * Decodes UTF-8 and drops its byte order mark. UTF-16 is recognised by its
 * byte order mark, or by a NUL byte beside a non-NUL one at the start, which
 * is how ASCII looks in UTF-16 without a mark.
 */
function decodeText(buffer: Buffer, limit: SizeLimit): TextFileResult {
  if (buffer.length > limit.maxBytes) {
    return { ok: false, fault: tooLarge(undefined, limit) };
  }

  const utf16 = describeUtf16(buffer);
  if (utf16) {
    return {
      ok: false,
      fault: {
        code: ISSUE_CODES.fileEncodingInvalid,
        reason: `is ${utf16}, not UTF-8: save it as UTF-8`,
      },
    };
  }

  if (!isUtf8(buffer)) {
    const offset = firstInvalidUtf8Offset(buffer);
    const { line, column } = positionOf(buffer, offset);
    return {
      ok: false,
      fault: {
        code: ISSUE_CODES.fileEncodingInvalid,
        reason: `is not valid UTF-8: byte 0x${(buffer[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0')} at line ${line}, column ${column} starts no valid UTF-8 sequence. Save the file as UTF-8; a byte like this usually means Latin-1 or Windows-1252`,
      },
    };
  }

  const start = UTF8_BOM.every((byte, index) => buffer[index] === byte) ? UTF8_BOM.length : 0;
  return { ok: true, text: buffer.toString('utf8', start) };
}

function describeUtf16(buffer: Buffer): string | undefined {
  const [first, second] = [buffer[0], buffer[1]];
  if (first === 0xff && second === 0xfe) {
    return 'UTF-16LE (byte order mark FF FE)';
  }
  if (first === 0xfe && second === 0xff) {
    return 'UTF-16BE (byte order mark FE FF)';
  }
  if (buffer.length >= 2 && first !== 0 && second === 0) {
    return 'apparently UTF-16LE without a byte order mark (its second byte is NUL)';
  }
  if (buffer.length >= 2 && first === 0 && second !== 0) {
    return 'apparently UTF-16BE without a byte order mark (its first byte is NUL)';
  }
  return undefined;
}

/** Finds the first byte that does not belong to a valid UTF-8 sequence (RFC 3629). */
function firstInvalidUtf8Offset(buffer: Buffer): number {
  let index = 0;
  while (index < buffer.length) {
    const byte = buffer[index] as number;
    let length: number;
    let min: number;
    if (byte < 0x80) {
      index += 1;
      continue;
    } else if (byte >= 0xc2 && byte <= 0xdf) {
      length = 2;
      min = 0x80;
    } else if (byte >= 0xe0 && byte <= 0xef) {
      length = 3;
      min = 0x800;
    } else if (byte >= 0xf0 && byte <= 0xf4) {
      length = 4;
      min = 0x10000;
    } else {
      return index;
    }

    let codePoint = byte & (0xff >> (length + 1));
    for (let next = 1; next < length; next++) {
      const continuation = buffer[index + next];
      if (continuation === undefined || (continuation & 0xc0) !== 0x80) {
        return index;
      }
      codePoint = (codePoint << 6) | (continuation & 0x3f);
    }
    const surrogate = codePoint >= 0xd800 && codePoint <= 0xdfff;
    if (codePoint < min || codePoint > 0x10ffff || surrogate) {
      return index;
    }
    index += length;
  }
  return buffer.length;
}

/** Line and column, from 1, of a byte offset; the column counts bytes. */
function positionOf(buffer: Buffer, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = buffer.indexOf(0x0a); index !== -1 && index < offset; ) {
    line += 1;
    lineStart = index + 1;
    index = buffer.indexOf(0x0a, index + 1);
  }
  return { line, column: offset - lineStart + 1 };
}
