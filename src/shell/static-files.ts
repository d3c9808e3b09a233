import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyReply } from 'fastify';
import { errorBody } from '../http/index.js';

/** Content types by file extension. A file with any other extension is not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

export interface StaticFileOptions {
  /** Folder the files are served from. Nothing outside it is reachable. */
  root: string;
  /** The request path below the route's prefix, already URL-decoded. */
  relativePath: string;
  /** The full request path, for the redirect from `…/name` to `…/name/`. */
  requestPath: string;
  cacheControl: string;
  /** Extra headers for HTML files, such as a Content-Security-Policy. */
  htmlHeaders?: Record<string, string>;
}

/**
 * Sends one file below `root`. For a folder it sends its `index.html`, after a
 * redirect that adds the trailing slash so that relative URLs inside the page
 * resolve. A path that leaves the root, names a hidden file or has an unknown
 * extension gets the same 404 as a missing file.
 */
export async function sendStaticFile(
  reply: FastifyReply,
  options: StaticFileOptions,
): Promise<void> {
  const notFound = () =>
    reply.status(404).send(errorBody('NOT_FOUND', `No file at ${options.requestPath}`, []));

  const segments = options.relativePath.split('/').filter((segment) => segment !== '');
  const unsafe = segments.some(
    (segment) => segment.startsWith('.') || segment.includes('\\') || segment.includes('\0'),
  );
  if (unsafe) {
    return notFound();
  }

  const root = path.resolve(options.root);
  let file = path.resolve(root, ...segments);
  if (file !== root && !file.startsWith(root + path.sep)) {
    return notFound();
  }

  let info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    if (!options.requestPath.endsWith('/')) {
      return reply.redirect(`${options.requestPath}/`, 301);
    }
    file = path.join(file, 'index.html');
    info = await stat(file).catch(() => undefined);
  }

  const contentType = CONTENT_TYPES[path.extname(file).toLowerCase()];
  if (!info?.isFile() || !contentType) {
    return notFound();
  }

  void reply
    .header('content-type', contentType)
    .header('content-length', info.size)
    .header('cache-control', options.cacheControl)
    .header('last-modified', info.mtime.toUTCString())
    .header('x-content-type-options', 'nosniff');
  if (contentType.startsWith('text/html')) {
    reply.headers(options.htmlHeaders ?? {});
  }
  return reply.send(createReadStream(file));
}
