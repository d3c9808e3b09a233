import path from 'node:path';
import type { Entity } from '@backstage/catalog-model';
import {
  describeSource,
  listRunbookSources,
  MAX_RUNBOOKS_PER_ENTITY,
  RUNBOOK_ANNOTATION,
  RUNBOOK_INLINE_ANNOTATION,
  type RunbookSource,
} from './annotations.js';
import { renderRunbookMarkdown } from './render.js';
import { MAX_RUNBOOK_FILE_BYTES, readRunbookFile } from './runbook-file.js';

/** Annotation in which the catalog stores `<type>:<file>` of the file that defined an entity. */
export const MANAGED_BY_LOCATION_ANNOTATION = 'backstage.io/managed-by-location';

/** One runbook of an entity as the API returns it: the rendered HTML, or why it could not be shown. */
export type Runbook =
  | { title: string; source: string; html: string }
  | { title: string; source: string; error: { code: string; message: string } };

export interface LoadRunbooksOptions {
  /** Largest file or inline text, in bytes. */
  maxBytes?: number;
}

/**
 * Loads and renders every runbook of an entity. A runbook that cannot be
 * read becomes an entry with an error, so one bad path hides nothing else.
 */
export async function loadRunbooks(
  entity: Entity,
  options: LoadRunbooksOptions = {},
): Promise<Runbook[]> {
  const maxBytes = options.maxBytes ?? MAX_RUNBOOK_FILE_BYTES;
  const sources = listRunbookSources(entity);
  const runbooks: Runbook[] = [];

  for (const source of sources.slice(0, MAX_RUNBOOKS_PER_ENTITY)) {
    runbooks.push(await loadRunbook(entity, source, maxBytes));
  }
  if (sources.length > MAX_RUNBOOKS_PER_ENTITY) {
    runbooks.push({
      title: 'More runbooks',
      source: `annotation:${RUNBOOK_ANNOTATION}`,
      error: {
        code: 'RUNBOOK_LIMIT_EXCEEDED',
        message: `The entity names ${sources.length} runbooks; only the first ${MAX_RUNBOOKS_PER_ENTITY} are shown. Merge some of them`,
      },
    });
  }
  return runbooks;
}

async function loadRunbook(
  entity: Entity,
  source: RunbookSource,
  maxBytes: number,
): Promise<Runbook> {
  const described = describeSource(source);

  if (source.type === 'inline') {
    if (Buffer.byteLength(source.text, 'utf8') > maxBytes) {
      return {
        title: 'Runbook',
        source: described,
        error: {
          code: 'RUNBOOK_TOO_LARGE',
          message: `The inline runbook is larger than ${maxBytes} bytes; move it into a file`,
        },
      };
    }
    const rendered = renderRunbookMarkdown(source.text);
    return { title: rendered.title ?? 'Runbook', source: described, html: rendered.html };
  }

  const fallbackTitle = path.posix.basename(source.path.replaceAll('\\', '/')) || 'Runbook';
  const folder = entityFolder(entity);
  if ('error' in folder) {
    return { title: fallbackTitle, source: described, error: folder.error };
  }
  const read = await readRunbookFile(folder.path, source.path, maxBytes);
  if (!read.ok) {
    return { title: fallbackTitle, source: described, error: read.fault };
  }
  const rendered = renderRunbookMarkdown(read.text);
  return { title: rendered.title ?? fallbackTitle, source: described, html: rendered.html };
}

/**
 * Returns the folder of the catalog file that defined the entity, from its
 * managed-by-location annotation. Only `file` locations have one; entities
 * from other providers, such as SCIM, get a fault.
 */
function entityFolder(
  entity: Entity,
): { path: string } | { error: { code: string; message: string } } {
  const location = entity.metadata.annotations?.[MANAGED_BY_LOCATION_ANNOTATION];
  if (location === undefined) {
    return {
      error: {
        code: 'RUNBOOK_LOCATION_MISSING',
        message: `The entity has no ${MANAGED_BY_LOCATION_ANNOTATION} annotation, so runbook files cannot be found; use ${RUNBOOK_INLINE_ANNOTATION} instead`,
      },
    };
  }

  const colon = location.indexOf(':');
  const type = colon === -1 ? location : location.slice(0, colon);
  const target = colon === -1 ? '' : location.slice(colon + 1);
  if (type !== 'file') {
    return {
      error: {
        code: 'RUNBOOK_LOCATION_UNSUPPORTED',
        message: `Runbook files are read only for entities from file locations, and this entity comes from a '${type}' location; use ${RUNBOOK_INLINE_ANNOTATION} instead`,
      },
    };
  }
  if (!path.isAbsolute(target)) {
    return {
      error: {
        code: 'RUNBOOK_LOCATION_UNSUPPORTED',
        message: `The entity's location '${location}' names no absolute file path, so runbook files cannot be found`,
      },
    };
  }
  return { path: path.dirname(target) };
}
