import { type Child, h } from '../common/dom.js';
import { entityPagePath, parseEntityRef } from '../common/entity-ref.js';
import {
  formatFileLine,
  type IngestionLocation,
  severityOf,
  severityRank,
} from '../common/ingestion.js';
import { shellLink } from '../common/luigi.js';
import type { Entity } from './model.js';

/** Reference fields of `spec` and the kind each one defaults to, as in Backstage. */
const REFERENCE_FIELDS: Readonly<Record<string, string>> = {
  owner: 'group',
  system: 'system',
  domain: 'domain',
};

/** Creates a `<section>` with an `<h2>` that names it for assistive technology. */
function section(id: string, title: string, ...children: Child[]): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': `${id}-heading`, id },
    h('h2', { id: `${id}-heading` }, title),
    ...children,
  );
}

export function renderHeader(entity: Entity, ref: string): HTMLElement {
  return h(
    'header',
    null,
    h('h1', null, entity.metadata.title ?? entity.metadata.name),
    h('p', { class: 'ref' }, ref),
    entity.metadata.description ? h('p', null, entity.metadata.description) : null,
  );
}

export function renderAbout(entity: Entity, catalogPath: string): HTMLElement {
  const namespace = entity.metadata.namespace ?? 'default';
  const spec = entity.spec ?? {};
  const facts: Array<[string, Child]> = [
    ['Kind', entity.kind],
    ['Namespace', namespace],
  ];
  if (typeof spec.type === 'string') facts.push(['Type', spec.type]);
  if (typeof spec.lifecycle === 'string') facts.push(['Lifecycle', spec.lifecycle]);
  for (const [field, defaultKind] of Object.entries(REFERENCE_FIELDS)) {
    const value = spec[field];
    if (typeof value !== 'string') continue;
    const target = parseEntityRef(value, { kind: defaultKind, namespace });
    facts.push([
      capitalize(field),
      target ? shellLink(entityPagePath(catalogPath, target), value) : value,
    ]);
  }

  const tags = entity.metadata.tags ?? [];
  return section(
    'about',
    'About',
    h(
      'dl',
      { class: 'facts' },
      ...facts.flatMap(([term, value]) => [h('dt', null, term), h('dd', null, value)]),
    ),
    tags.length > 0
      ? h(
          'div',
          null,
          h('h3', null, 'Tags'),
          h('ul', { class: 'tags' }, ...tags.map((tag) => h('li', null, tag))),
        )
      : null,
  );
}

export function renderLinks(entity: Entity): HTMLElement | null {
  const links = entity.metadata.links ?? [];
  if (links.length === 0) return null;
  return section(
    'links',
    'Links',
    h(
      'ul',
      null,
      ...links.map((link) =>
        h(
          'li',
          null,
          // Only web links are clickable, so a javascript: URL in a catalog file stays inert text.
          /^https?:\/\//i.test(link.url)
            ? h(
                'a',
                { href: link.url, target: '_blank', rel: 'noopener noreferrer' },
                link.title ?? link.url,
              )
            : `${link.title ?? ''} ${link.url}`.trim(),
          link.type ? h('span', { class: 'muted' }, ` (${link.type})`) : null,
        ),
      ),
    ),
  );
}

export function renderRelations(entity: Entity, catalogPath: string): HTMLElement {
  const relations = entity.relations ?? [];
  if (relations.length === 0) {
    return section(
      'relations',
      'Relations',
      h('p', { class: 'muted' }, 'This entity has no relations.'),
    );
  }

  const byType = new Map<string, string[]>();
  for (const relation of relations) {
    const targets = byType.get(relation.type) ?? [];
    targets.push(relation.targetRef);
    byType.set(relation.type, targets);
  }
  const rows = [...byType.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, targets]) =>
      h(
        'tr',
        null,
        h('th', { scope: 'row' }, type),
        h(
          'td',
          null,
          h(
            'ul',
            { class: 'tags' },
            ...[...targets].sort().map((targetRef) => {
              const target = parseEntityRef(targetRef);
              return h(
                'li',
                null,
                target ? shellLink(entityPagePath(catalogPath, target), targetRef) : targetRef,
              );
            }),
          ),
        ),
      ),
    );

  return section(
    'relations',
    'Relations',
    h(
      'table',
      null,
      h('caption', { class: 'visually-hidden' }, 'Relations to other entities'),
      h(
        'thead',
        null,
        h('tr', null, h('th', { scope: 'col' }, 'Relation'), h('th', { scope: 'col' }, 'Entities')),
      ),
      h('tbody', null, ...rows),
    ),
  );
}

export function renderKeyValues(
  id: string,
  title: string,
  values: Record<string, string> | undefined,
): HTMLElement | null {
  const entries = Object.entries(values ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return null;
  return section(
    id,
    title,
    h(
      'table',
      null,
      h('caption', { class: 'visually-hidden' }, title),
      h(
        'thead',
        null,
        h('tr', null, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value')),
      ),
      h(
        'tbody',
        null,
        ...entries.map(([key, value]) =>
          h('tr', null, h('th', { scope: 'row' }, key), h('td', null, formatValue(value))),
        ),
      ),
    ),
  );
}

export function renderSpec(entity: Entity): HTMLElement | null {
  const entries = Object.entries(entity.spec ?? {});
  if (entries.length === 0) return null;
  return section(
    'spec',
    'Spec',
    h(
      'table',
      null,
      h('caption', { class: 'visually-hidden' }, 'Fields of spec'),
      h(
        'thead',
        null,
        h('tr', null, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Value')),
      ),
      h(
        'tbody',
        null,
        ...entries.map(([key, value]) =>
          h('tr', null, h('th', { scope: 'row' }, key), h('td', null, formatValue(value))),
        ),
      ),
    ),
  );
}

/** Short scalars as text, lists of scalars joined, long text and objects in a collapsible block. */
function formatValue(value: unknown): Child {
  if (typeof value === 'string') {
    if (value.length <= 160 && !value.includes('\n')) return value;
    return h(
      'details',
      null,
      h('summary', null, `${value.split('\n').length} lines`),
      h('pre', null, value),
    );
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  if (
    Array.isArray(value) &&
    value.every((item) => typeof item === 'string' || typeof item === 'number')
  ) {
    return value.join(', ');
  }
  return h('pre', null, JSON.stringify(value, null, 2));
}

export function renderIngestionErrors(locations: readonly IngestionLocation[]): HTMLElement {
  const problems = locations
    .flatMap((location) => (location.errors ?? []).map((problem) => ({ location, problem })))
    .sort((a, b) => severityRank(severityOf(a.problem)) - severityRank(severityOf(b.problem)));
  if (problems.length === 0) {
    return section(
      'ingestion-errors',
      'Ingestion errors',
      h('p', { class: 'muted' }, 'The last refresh of this entity’s location found no errors.'),
    );
  }

  return section(
    'ingestion-errors',
    'Ingestion errors',
    h(
      'table',
      { class: 'ingestion-table' },
      h('caption', { class: 'visually-hidden' }, 'Errors and warnings of this entity’s location'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['Severity', 'Where', 'Field', 'Message'].map((label) =>
            h('th', { scope: 'col' }, label),
          ),
        ),
      ),
      h(
        'tbody',
        null,
        ...problems.map(({ location, problem }) =>
          h(
            'tr',
            null,
            h(
              'td',
              null,
              h('span', { class: `badge badge-${severityOf(problem)}` }, severityOf(problem)),
            ),
            h('td', null, where(location, problem)),
            h('td', null, problem.field ?? ''),
            h('td', null, problem.message),
          ),
        ),
      ),
    ),
  );
}

function where(
  location: IngestionLocation,
  problem: { file?: string; line?: number; docIndex?: number },
): string {
  const file = problem.file ?? location.target ?? '';
  if (problem.line !== undefined) return formatFileLine(file, problem.line);
  if (problem.docIndex !== undefined) return `${file} (document ${problem.docIndex + 1})`;
  return file;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
