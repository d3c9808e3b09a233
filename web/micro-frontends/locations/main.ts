import { getJson } from '../common/api.js';
import { byId, replaceChildren } from '../common/dom.js';
import { onViewContext, setNodeParams, showLoading, type ViewContext } from '../common/luigi.js';
import { renderProblem } from '../common/problems.js';
import {
  filterLocations,
  isFiltered,
  type LocationFilter,
  type LocationReport,
  mergeLocations,
  pageOf,
  parseSeverity,
  totalsOf,
} from './model.js';
import { plural, renderLocations } from './render.js';

const main = byId<HTMLElement>('locations');
const form = byId<HTMLFormElement>('filters');
const severitySelect = byId<HTMLSelectElement>('severity-filter');
const textInput = byId<HTMLInputElement>('text-filter');
const clearButton = byId<HTMLButtonElement>('clear-filters');
const statusLine = byId<HTMLParagraphElement>('status');
const results = byId<HTMLDivElement>('results');
const previousButton = byId<HTMLButtonElement>('previous-page');
const nextButton = byId<HTMLButtonElement>('next-page');
const pageNumber = byId<HTMLSpanElement>('page-number');

/** Locations per page. Each one's fault table is built only when it is open. */
const PAGE_SIZE = 25;
/** Pause after the last keystroke before the list is filtered again. */
const TYPING_DELAY_MS = 200;

const state = {
  /** Shell route of the catalog, below which entity pages sit. */
  catalogPath: '/catalog',
  filter: { severity: '', text: '' } as LocationFilter,
  page: 0,
  /** Every location with its faults, once both API calls have returned. */
  locations: undefined as LocationReport[] | undefined,
  started: false,
  typingTimer: undefined as ReturnType<typeof setTimeout> | undefined,
};

onViewContext((view) => {
  const catalogPath = view.context.catalogPath;
  state.catalogPath = typeof catalogPath === 'string' && catalogPath ? catalogPath : '/catalog';

  const previous = state.filter;
  applyNodeParams(view);
  if (!state.started) {
    state.started = true;
    void load();
    return;
  }

  // The browser's back and forward buttons change the node parameters without reloading the view.
  if (previous.severity !== state.filter.severity || previous.text !== state.filter.text) {
    state.page = 0;
    render();
  }
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  readFiltersAndRender(true);
});
severitySelect.addEventListener('change', () => readFiltersAndRender(true));
textInput.addEventListener('input', () => {
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(() => readFiltersAndRender(false), TYPING_DELAY_MS);
});
clearButton.addEventListener('click', () => {
  severitySelect.value = '';
  textInput.value = '';
  readFiltersAndRender(true);
});
previousButton.addEventListener('click', () => showPage(state.page - 1));
nextButton.addEventListener('click', () => showPage(state.page + 1));

function applyNodeParams(view: ViewContext): void {
  state.filter = {
    severity: parseSeverity(view.nodeParams.severity),
    text: view.nodeParams.q ?? '',
  };
  severitySelect.value = state.filter.severity;
  textInput.value = state.filter.text;
}

/**
 * Filters again with the form's values. Typing replaces the current browser
 * history entry instead of adding one per pause.
 */
function readFiltersAndRender(newHistoryEntry: boolean): void {
  clearTimeout(state.typingTimer);
  const filter: LocationFilter = {
    severity: parseSeverity(severitySelect.value),
    text: textInput.value.trim(),
  };
  if (filter.severity === state.filter.severity && filter.text === state.filter.text) {
    return;
  }

  state.filter = filter;
  state.page = 0;
  setNodeParams(
    { severity: filter.severity || undefined, q: filter.text || undefined },
    newHistoryEntry,
  );
  render();
}

function showPage(page: number): void {
  state.page = page;
  render();
  main.scrollIntoView({ block: 'start' });
}

async function load(): Promise<void> {
  showLoading(true);
  const [listed, reports] = await Promise.all([
    getJson<unknown>('/api/catalog/locations'),
    getJson<unknown>('/api/catalog/ingestion-errors'),
  ]);
  showLoading(false);

  if (!listed.ok) {
    showFailure(listed.status, listed.message);
    return;
  }
  if (!reports.ok) {
    showFailure(reports.status, reports.message);
    return;
  }

  state.locations = mergeLocations(listed.data, reports.data);
  render();
}

function showFailure(status: number, message: string): void {
  statusLine.textContent = '';
  replaceChildren(
    results,
    renderProblem(status, message, {
      action: 'read catalog locations and their ingestion errors',
    }),
  );
  main.dataset.state = 'ready';
}

function render(): void {
  if (!state.locations) {
    return;
  }

  const filtered = isFiltered(state.filter);
  const matches = filterLocations(state.locations, state.filter);
  const page = pageOf(matches, state.page, PAGE_SIZE);
  state.page = page.index;

  statusLine.textContent = statusText(
    matches.length,
    page.first,
    page.last,
    filtered,
    totalsOf(matches),
  );
  replaceChildren(
    results,
    page.items.length > 0
      ? renderLocations(page.items, { catalogPath: state.catalogPath, filtered, now: new Date() })
      : null,
  );
  pageNumber.textContent = page.count > 1 ? `Page ${page.index + 1} of ${page.count}` : '';
  previousButton.disabled = page.index === 0;
  nextButton.disabled = page.index >= page.count - 1;
  main.dataset.state = 'ready';
}

function statusText(
  total: number,
  first: number,
  last: number,
  filtered: boolean,
  totals: { errors: number; warnings: number },
): string {
  if (total === 0) {
    return filtered ? 'No location matches these filters.' : 'The catalog has no locations yet.';
  }
  const count = (value: number) => value.toLocaleString('en');
  const range = `Showing ${count(first)}–${count(last)} of ${count(total)}`;
  const faults = `${plural(totals.errors, 'error')} and ${plural(totals.warnings, 'warning')}`;
  return filtered
    ? `${range} matching locations, with ${faults} that match.`
    : `${range} locations, with ${faults} in all.`;
}
