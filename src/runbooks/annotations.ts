import type { Entity } from '@backstage/catalog-model';

/**
 * Annotation naming the runbook files of an entity: one path, or several
 * separated by commas, each relative to the catalog file that defines the
 * entity, such as `./docs/runbook.md, ./docs/failover.md`.
 */
export const RUNBOOK_ANNOTATION = 'backstage-luigi.io/runbook';

/** Annotation holding a runbook as inline markdown text. */
export const RUNBOOK_INLINE_ANNOTATION = 'backstage-luigi.io/runbook-inline';

/** Most runbooks one entity may name; the rest are reported as one fault. */
export const MAX_RUNBOOKS_PER_ENTITY = 20;

/** Source of one runbook of an entity: a file path or inline text. */
export type RunbookSource = { type: 'file'; path: string } | { type: 'inline'; text: string };

/** Lists the runbook sources of an entity in annotation order: files first, then the inline text. */
export function listRunbookSources(entity: Entity): RunbookSource[] {
  const annotations = entity.metadata.annotations ?? {};
  const sources: RunbookSource[] = [];

  const files = annotations[RUNBOOK_ANNOTATION];
  if (files !== undefined) {
    for (const item of files.split(',')) {
      sources.push({ type: 'file', path: item.trim() });
    }
  }

  const inline = annotations[RUNBOOK_INLINE_ANNOTATION];
  if (inline !== undefined && inline.trim() !== '') {
    sources.push({ type: 'inline', text: inline });
  }
  return sources;
}

/** Describes a source for the API and the audit trail: `file:./docs/runbook.md` or `inline`. */
export function describeSource(source: RunbookSource): string {
  return source.type === 'file' ? `file:${source.path}` : 'inline';
}
