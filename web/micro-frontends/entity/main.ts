import { type ApiResult, getJson } from '../common/api.js';
import { byId, h, replaceChildren } from '../common/dom.js';
import { type EntityName, stringifyEntityRef } from '../common/entity-ref.js';
import { readIngestionLocations } from '../common/ingestion.js';
import { onViewContext, showLoading, type ViewContext } from '../common/luigi.js';
import { CATALOG_LOCATION_READ, holdsPermission } from '../common/permissions.js';
import { renderProblem } from '../common/problems.js';
import { readEntityTabs, renderEntityTabLinks, tabsForEntity } from './entity-tabs.js';
import type { Entity } from './model.js';
import { renderRelationsGraph } from './relations-graph.js';
import { renderRequestLink } from './request-link.js';
import { RUNBOOKS_TAB } from './runbooks.js';
import {
  renderAbout,
  renderHeader,
  renderIngestionErrors,
  renderKeyValues,
  renderLinks,
  renderRelations,
  renderSpec,
} from './sections.js';
import { mountEntityTabBar } from './tab-bar.js';

const main = byId<HTMLElement>('entity');

let shownRef: string | undefined;
let request: AbortController | undefined;

onViewContext((view) => {
  const target = entityFromView(view);
  if (!target) {
    main.removeAttribute('aria-busy');
    main.dataset.state = 'ready';
    replaceChildren(
      main,
      h('h1', null, 'Entity'),
      h(
        'p',
        { role: 'alert' },
        'This page needs an entity route such as /catalog/component/default/my-service.',
      ),
    );
    return;
  }

  const ref = stringifyEntityRef(target);
  if (ref === shownRef) return;
  shownRef = ref;
  const catalogPath =
    typeof view.context.catalogPath === 'string' ? view.context.catalogPath : '/catalog';
  const readsLocations = holdsPermission(view.context, CATALOG_LOCATION_READ);
  const openRunbooks = view.nodeParams.tab === RUNBOOKS_TAB;
  void showEntity(target, ref, {
    catalogPath,
    readsLocations,
    context: view.context,
    openRunbooks,
  });
});

/** Reads the entity from the path parameters, or from `?entity=kind:namespace/name` outside the shell. */
function entityFromView(view: ViewContext): EntityName | undefined {
  const { kind, namespace, name } = view.pathParams;
  if (kind && namespace && name) {
    return { kind, namespace, name };
  }
  const ref = view.nodeParams.entity;
  const match = ref ? /^([^:]+):([^/]+)\/(.+)$/.exec(ref) : null;
  return match ? { kind: match[1]!, namespace: match[2]!, name: match[3]! } : undefined;
}

/**
 * Loads and shows the entity, then its ingestion errors. `data-state` on the
 * page's main element turns from `loading` to `ready` once nothing more loads.
 */
async function showEntity(
  target: EntityName,
  ref: string,
  options: {
    catalogPath: string;
    readsLocations: boolean | undefined;
    context: Record<string, unknown>;
    openRunbooks: boolean;
  },
): Promise<void> {
  request?.abort();
  const current = new AbortController();
  request = current;
  main.setAttribute('aria-busy', 'true');
  main.dataset.state = 'loading';
  replaceChildren(main, h('p', { class: 'muted', role: 'status' }, `Loading ${ref}…`));

  const segments = [target.kind, target.namespace, target.name].map(encodeURIComponent);
  const url = `/api/catalog/entities/by-name/${segments.join('/')}`;
  let result: ApiResult<Entity>;
  showLoading(true);
  try {
    result = await getJson<Entity>(url, current.signal);
  } catch {
    return; // Aborted by a newer navigation, which hides the indicator when it ends.
  }
  showLoading(false);
  main.removeAttribute('aria-busy');

  if (!result.ok) {
    replaceChildren(
      main,
      h('h1', null, ref),
      renderProblem(result.status, result.message, {
        action: 'read catalog entities',
        notFound: `Entity ${ref} was not found, or you are not allowed to see it.`,
      }),
    );
    main.dataset.state = 'ready';
    return;
  }

  const entity = result.data;
  document.title = entity.metadata.title ?? entity.metadata.name;
  replaceChildren(
    main,
    renderHeader(entity, ref),
    renderRequestLink(ref, options.context),
    renderAbout(entity, options.catalogPath),
    renderLinks(entity),
    renderRelationsGraph(entity, ref, options.catalogPath),
    renderRelations(entity, options.catalogPath),
    renderSpec(entity),
    renderKeyValues('labels', 'Labels', entity.metadata.labels),
    renderKeyValues('annotations', 'Annotations', entity.metadata.annotations),
  );
  mountEntityTabBar(main, target, {
    openRunbooks: options.openRunbooks,
    links: renderEntityTabLinks(
      tabsForEntity(readEntityTabs(options.context), entity, options.context),
      target,
      options.catalogPath,
    ),
  });
  // The shell's context lists the user's basic permissions, so a developer's page
  // view makes no call that the server would reject with 403.
  if (options.readsLocations !== false) {
    const finished = await showIngestionErrors(ref, current.signal);
    if (!finished) return;
  }
  main.dataset.state = 'ready';
}

/**
 * Appends the errors of the entity's location. The section is shown only when
 * the API returns 200. Outside the shell, where the permissions are unknown,
 * a user without `catalog.location.read` gets a 403 and no section.
 * Returns false when a newer navigation aborted the call.
 */
async function showIngestionErrors(ref: string, signal: AbortSignal): Promise<boolean> {
  let result: ApiResult<unknown>;
  try {
    result = await getJson<unknown>(
      `/api/catalog/ingestion-errors?entityRef=${encodeURIComponent(ref)}`,
      signal,
    );
  } catch {
    return false;
  }
  if (result.ok) {
    main.append(renderIngestionErrors(readIngestionLocations(result.data)));
  } else if (result.status === 0 || result.status >= 500) {
    main.append(
      h('p', { class: 'notice' }, `Ingestion errors could not be loaded: ${result.message}`),
    );
  }
  return true;
}
