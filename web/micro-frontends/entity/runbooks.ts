import { getJson } from '../common/api.js';
import { h, replaceChildren } from '../common/dom.js';
import type { EntityName } from '../common/entity-ref.js';
import { renderProblem } from '../common/problems.js';

/** One runbook as `GET /api/runbooks/by-entity/...` returns it. */
type Runbook =
  | { title: string; source: string; html: string }
  | { title: string; source: string; error: { code: string; message: string } };

/** Node parameter that opens the Runbooks tab, as in `/catalog/component/default/x?~tab=runbooks`. */
export const RUNBOOKS_TAB = 'runbooks';

/** Elements and attributes that the server's markdown renderer creates; the page keeps nothing else. */
const ALLOWED_ELEMENTS = new Set([
  'A',
  'BLOCKQUOTE',
  'BR',
  'CODE',
  'EM',
  'H1',
  'H2',
  'H3',
  'H4',
  'H5',
  'H6',
  'HR',
  'IMG',
  'LI',
  'OL',
  'P',
  'PRE',
  'S',
  'STRONG',
  'TABLE',
  'TBODY',
  'TD',
  'TH',
  'THEAD',
  'TR',
  'UL',
]);
const ALLOWED_ATTRIBUTES = new Set([
  'href',
  'src',
  'alt',
  'title',
  'rel',
  'target',
  'class',
  'start',
]);
/** A URL with no scheme, or one of these schemes; data: only for raster images. */
const SAFE_URL = /^(?:[^:/?#]*(?:[/?#]|$)|https?:|mailto:)/i;
const SAFE_IMAGE_DATA = /^data:image\/(?:png|gif|jpeg|webp);base64,/i;

/** Loads the runbooks into the panel; `data-state` turns from `loading` to `ready`. */
export async function loadRunbooks(panel: HTMLElement, target: EntityName): Promise<void> {
  panel.dataset.state = 'loading';
  replaceChildren(panel, h('p', { class: 'muted', role: 'status' }, 'Loading the runbooks…'));

  const segments = [target.kind, target.namespace, target.name].map(encodeURIComponent);
  const result = await getJson<{ runbooks: Runbook[] }>(
    `/api/runbooks/by-entity/${segments.join('/')}`,
  );

  if (!result.ok && result.status === 403) {
    replaceChildren(
      panel,
      h(
        'div',
        { class: 'notice', role: 'status', 'data-problem': 'restricted' },
        h('h2', null, 'Runbooks are restricted'),
        h(
          'p',
          null,
          'The runbooks of this entity are limited to its owners or an on-call group. Ask them, or a portal administrator, for access.',
        ),
        h('p', { class: 'problem-detail' }, result.message),
      ),
    );
  } else if (!result.ok) {
    replaceChildren(
      panel,
      renderProblem(result.status, result.message, { action: 'read runbooks' }),
    );
  } else if (result.data.runbooks.length === 0) {
    replaceChildren(
      panel,
      h(
        'p',
        { class: 'muted' },
        'This entity has no runbooks. Add the annotation backstage-luigi.io/runbook to its catalog file.',
      ),
    );
  } else {
    replaceChildren(panel, ...result.data.runbooks.map(renderRunbook));
  }
  panel.dataset.state = 'ready';
}

function renderRunbook(runbook: Runbook): HTMLElement {
  const article = h(
    'article',
    { class: 'runbook', 'data-source': runbook.source },
    h('h2', null, runbook.title),
    h('p', { class: 'ref' }, runbook.source),
  );
  if ('error' in runbook) {
    article.append(
      h(
        'p',
        { class: 'notice', role: 'alert', 'data-code': runbook.error.code },
        runbook.error.message,
      ),
    );
    return article;
  }
  const body = h('div', { class: 'runbook-body' });
  body.append(sanitizedFragment(runbook.html));
  article.append(body);
  return article;
}

/**
 * Parses the server's HTML in an inert template and keeps only the elements,
 * attributes and URLs its renderer creates. The server already renders
 * without script; this is a second line, so a fault there is not enough.
 */
function sanitizedFragment(html: string): DocumentFragment {
  const template = document.createElement('template');
  template.innerHTML = html;
  for (const element of [...template.content.querySelectorAll('*')]) {
    if (!ALLOWED_ELEMENTS.has(element.tagName)) {
      element.replaceWith(document.createTextNode(element.textContent ?? ''));
      continue;
    }
    for (const attribute of [...element.attributes]) {
      const name = attribute.name.toLowerCase();
      const url = name === 'href' || name === 'src';
      const value = attribute.value.trim();
      const safeUrl =
        SAFE_URL.test(value) || (element.tagName === 'IMG' && SAFE_IMAGE_DATA.test(value));
      if (!ALLOWED_ATTRIBUTES.has(name) || (url && !safeUrl)) {
        element.removeAttribute(attribute.name);
      }
    }
  }
  return template.content;
}
