import { type ApiResult, getJson } from '../common/api.js';
import { byId, h, replaceChildren } from '../common/dom.js';
import { entityPagePath, parseEntityRef } from '../common/entity-ref.js';
import {
  onViewContext,
  setNodeParams,
  shellLink,
  showLoading,
  type ViewContext,
} from '../common/luigi.js';
import { renderProblem } from '../common/problems.js';
import {
  type CatalogFilters,
  type CatalogSort,
  cursorPageUrl,
  type FacetsResponse,
  facetsUrl,
  firstPageUrl,
  type ListedEntity,
  PAGE_SIZE,
  type QueryResponse,
} from './query.js';

const form = byId<HTMLFormElement>('filters');
const kindSelect = byId<HTMLSelectElement>('kind-filter');
const ownerSelect = byId<HTMLSelectElement>('owner-filter');
const textInput = byId<HTMLInputElement>('text-filter');
const clearButton = byId<HTMLButtonElement>('clear-filters');
const status = byId<HTMLParagraphElement>('status');
const results = byId<HTMLDivElement>('results');
const previousButton = byId<HTMLButtonElement>('previous-page');
const nextButton = byId<HTMLButtonElement>('next-page');
const pageNumber = byId<HTMLSpanElement>('page-number');

const COLUMNS: Array<{ label: string; field: string }> = [
  { label: 'Name', field: 'metadata.name' },
  { label: 'Kind', field: 'kind' },
  { label: 'Type', field: 'spec.type' },
  { label: 'Owner', field: 'spec.owner' },
  { label: 'Lifecycle', field: 'spec.lifecycle' },
  { label: 'System', field: 'spec.system' },
];

/** The catalog's state: filters, order and the cursor of every page visited so far. */
const state = {
  /** Shell route of the catalog node; entity pages sit below it. */
  catalogPath: '/catalog',
  filters: { kind: '', owner: '', text: '' } as CatalogFilters,
  sort: { field: 'metadata.name', direction: 'asc' } as CatalogSort,
  /** Cursor of each page visited: `cursors[i]` loads page i, and page 0 uses the filters. */
  cursors: [undefined] as Array<string | undefined>,
  page: 0,
  nextCursor: undefined as string | undefined,
  request: undefined as AbortController | undefined,
  started: false,
};

onViewContext((view) => {
  const catalogPath = view.context.catalogPath;
  state.catalogPath = typeof catalogPath === 'string' && catalogPath ? catalogPath : '/catalog';

  if (!state.started) {
    state.started = true;
    applyNodeParams(view);
    void loadFacets();
    void loadPage(0);
    return;
  }

  // The browser's back and forward buttons change the node parameters without reloading the view.
  const previous = state.filters;
  applyNodeParams(view);
  const changed =
    previous.kind !== state.filters.kind ||
    previous.owner !== state.filters.owner ||
    previous.text !== state.filters.text;
  if (changed) {
    state.cursors = [undefined];
    void loadPage(0);
  }
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  readFiltersAndReload();
});
kindSelect.addEventListener('change', readFiltersAndReload);
ownerSelect.addEventListener('change', readFiltersAndReload);
clearButton.addEventListener('click', () => {
  kindSelect.value = '';
  ownerSelect.value = '';
  textInput.value = '';
  readFiltersAndReload();
});
previousButton.addEventListener('click', () => void loadPage(state.page - 1));
nextButton.addEventListener('click', () => {
  if (state.nextCursor === undefined) return;
  state.cursors[state.page + 1] = state.nextCursor;
  void loadPage(state.page + 1);
});

function applyNodeParams(view: ViewContext): void {
  state.filters = {
    kind: view.nodeParams.kind ?? '',
    owner: view.nodeParams.owner ?? '',
    text: view.nodeParams.q ?? '',
  };
  textInput.value = state.filters.text;
  ensureOption(kindSelect, state.filters.kind);
  ensureOption(ownerSelect, state.filters.owner);
}

function readFiltersAndReload(): void {
  state.filters = {
    kind: kindSelect.value,
    owner: ownerSelect.value,
    text: textInput.value.trim(),
  };
  state.cursors = [undefined];
  setNodeParams({
    kind: state.filters.kind || undefined,
    owner: state.filters.owner || undefined,
    q: state.filters.text || undefined,
  });
  void loadPage(0);
}

async function loadFacets(): Promise<void> {
  const result = await getJson<FacetsResponse>(facetsUrl());
  if (!result.ok) {
    // The list shows the same failure with its message, so the filters just stay empty.
    return;
  }
  fillSelect(kindSelect, 'All kinds', result.data.facets.kind ?? [], state.filters.kind);
  fillSelect(
    ownerSelect,
    'All owners',
    result.data.facets['spec.owner'] ?? [],
    state.filters.owner,
  );
}

async function loadPage(page: number): Promise<void> {
  state.request?.abort();
  const request = new AbortController();
  state.request = request;

  const cursor = state.cursors[page];
  const url =
    cursor === undefined ? firstPageUrl(state.filters, state.sort) : cursorPageUrl(cursor);
  status.textContent = 'Loading entities…';
  previousButton.disabled = true;
  nextButton.disabled = true;

  let result: ApiResult<QueryResponse>;
  showLoading(true);
  try {
    result = await getJson<QueryResponse>(url, request.signal);
  } catch {
    return; // Aborted by a newer request, which hides the indicator when it ends.
  }
  showLoading(false);

  if (!result.ok) {
    status.textContent = '';
    pageNumber.textContent = '';
    replaceChildren(
      results,
      renderProblem(result.status, result.message, { action: 'read catalog entities' }),
    );
    return;
  }

  state.page = page;
  state.nextCursor = result.data.pageInfo?.nextCursor;
  renderResults(result.data);
}

function renderResults(data: QueryResponse): void {
  const first = state.page * PAGE_SIZE + 1;
  const last = state.page * PAGE_SIZE + data.items.length;
  if (data.items.length === 0) {
    status.textContent = hasFilters()
      ? 'No entities match these filters.'
      : 'The catalog has no entities you can see.';
  } else {
    status.textContent = `Showing ${first}–${last} of ${data.totalItems} entities`;
  }
  pageNumber.textContent = data.items.length > 0 ? `Page ${state.page + 1}` : '';
  previousButton.disabled = state.page === 0;
  nextButton.disabled = state.nextCursor === undefined;

  replaceChildren(
    results,
    data.items.length > 0 ? h('div', { class: 'table-scroll' }, renderTable(data.items)) : null,
  );
}

function hasFilters(): boolean {
  return Boolean(state.filters.kind || state.filters.owner || state.filters.text);
}

function renderTable(items: readonly ListedEntity[]): HTMLTableElement {
  const headers = COLUMNS.map((column) => {
    const sorted = state.sort.field === column.field;
    let arrow = '';
    if (sorted) {
      arrow = state.sort.direction === 'asc' ? ' ▲' : ' ▼';
    }
    const button = h('button', { type: 'button', class: 'sort' }, column.label, arrow);
    button.addEventListener('click', () => {
      state.sort = {
        field: column.field,
        direction: sorted && state.sort.direction === 'asc' ? 'desc' : 'asc',
      };
      state.cursors = [undefined];
      void loadPage(0);
    });
    return h(
      'th',
      {
        scope: 'col',
        'aria-sort': sorted
          ? state.sort.direction === 'asc'
            ? 'ascending'
            : 'descending'
          : undefined,
      },
      button,
    );
  });

  return h(
    'table',
    { id: 'entities' },
    h('caption', { class: 'visually-hidden' }, 'Catalog entities'),
    h('thead', null, h('tr', null, ...headers)),
    h('tbody', null, ...items.map(renderRow)),
  );
}

function renderRow(entity: ListedEntity): HTMLTableRowElement {
  const namespace = entity.metadata.namespace ?? 'default';
  const route = entityPagePath(state.catalogPath, {
    kind: entity.kind,
    namespace,
    name: entity.metadata.name,
  });
  const spec = entity.spec ?? {};
  const title = entity.metadata.title?.trim();

  return h(
    'tr',
    { 'data-entity-ref': `${entity.kind.toLowerCase()}:${namespace}/${entity.metadata.name}` },
    // The link shows metadata.name, the field the Name column sorts by; a title that
    // differs from it is the line below.
    h(
      'th',
      { scope: 'row' },
      shellLink(route, entity.metadata.name),
      title && title !== entity.metadata.name ? h('span', { class: 'title' }, title) : null,
      entity.metadata.description
        ? h(
            'span',
            { class: 'description', title: entity.metadata.description },
            entity.metadata.description,
          )
        : null,
    ),
    h('td', { class: 'nowrap' }, entity.kind),
    h('td', { class: 'nowrap' }, text(spec.type)),
    h('td', { class: 'nowrap' }, referenceCell(spec.owner, 'group', namespace)),
    h('td', { class: 'nowrap' }, text(spec.lifecycle)),
    h('td', { class: 'nowrap' }, referenceCell(spec.system, 'system', namespace)),
  );
}

/** Renders a reference field as a link to its entity page, showing the value as written. */
function referenceCell(value: unknown, defaultKind: string, namespace: string): Node | string {
  if (typeof value !== 'string' || value === '') {
    return '';
  }
  const ref = parseEntityRef(value, { kind: defaultKind, namespace });
  return ref ? shellLink(entityPagePath(state.catalogPath, ref), value) : value;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function fillSelect(
  select: HTMLSelectElement,
  allLabel: string,
  values: ReadonlyArray<{ value: string; count: number }>,
  selected: string,
): void {
  const options = [...values]
    .sort((a, b) => a.value.localeCompare(b.value))
    .map((facet) => h('option', { value: facet.value }, `${facet.value} (${facet.count})`));
  replaceChildren(select, h('option', { value: '' }, allLabel), ...options);
  ensureOption(select, selected);
}

/** Selects `value`, adding it as an option when the facets do not list it (from a link). */
function ensureOption(select: HTMLSelectElement, value: string): void {
  if (value && ![...select.options].some((option) => option.value === value)) {
    select.append(h('option', { value }, value));
  }
  select.value = value;
}
