import * as LuigiClient from '@luigi-project/client';
import { h } from '../common/dom.js';
import { framed } from '../common/luigi.js';

/**
 * Creates the "Request…" link that opens the Requests view with this entity
 * filled in, through the `~entity` node parameter. The view lives at
 * `context.requestsPath`, else at /requests. The request API decides on
 * submit whether the user may request anything for the entity, because the
 * shell's context lists basic permissions only.
 */
export function renderRequestLink(ref: string, context: Record<string, unknown>): HTMLElement {
  const requestsPath =
    typeof context.requestsPath === 'string' && context.requestsPath
      ? context.requestsPath
      : '/requests';
  const link = h(
    'a',
    { href: `${requestsPath}?~entity=${encodeURIComponent(ref)}`, target: '_top' },
    'Request…',
  );
  link.addEventListener('click', (event) => {
    if (!framed || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    // Luigi's navigate() drops a query string, so the entity goes as a node parameter.
    void LuigiClient.linkManager().withParams({ entity: ref }).navigate(requestsPath);
  });
  return h('p', { class: 'entity-actions' }, link);
}
