import './audit.css';
import { type ApiResult, getJson } from '../common/api.js';
import { byId, h, replaceChildren } from '../common/dom.js';
import { onViewContext, setNodeParams, showLoading } from '../common/luigi.js';
import { renderProblem } from '../common/problems.js';
import {
  type AuditFilter,
  type AuditRecord,
  type EventsPage,
  emptyFilter,
  eventsUrl,
  filterFromParams,
  filterToParams,
  isFiltered,
  isoToLocalInput,
  KNOWN_ACTIONS,
  localInputToIso,
  PAGE_SIZE,
  parseSequence,
  sameFilter,
} from './model.js';
import { type RecordActions, renderRecordDetail, renderRecordTable } from './render.js';

const main = byId<HTMLElement>('audit');
const form = byId<HTMLFormElement>('filters');
const inputs = {
  actor: byId<HTMLInputElement>('actor-filter'),
  action: byId<HTMLInputElement>('action-filter'),
  target: byId<HTMLInputElement>('target-filter'),
  outcome: byId<HTMLSelectElement>('outcome-filter'),
  since: byId<HTMLInputElement>('since-filter'),
  until: byId<HTMLInputElement>('until-filter'),
};
const clearButton = byId<HTMLButtonElement>('clear-filters');
const statusLine = byId<HTMLParagraphElement>('status');
const results = byId<HTMLDivElement>('results');
const pager = byId<HTMLElement>('pager');
const newerButton = byId<HTMLButtonElement>('newer-page');
const olderButton = byId<HTMLButtonElement>('older-page');
const pageNumber = byId<HTMLSpanElement>('page-number');
const detail = byId<HTMLElement>('detail');
const detailBody = byId<HTMLDivElement>('detail-body');
const backButton = byId<HTMLButtonElement>('back-to-list');

/** The view's state: the filters applied, the cursor of every page visited, the open record. */
const state = {
  filter: emptyFilter(),
  /** `cursors[i]` loads page i; page 0 is the newest and needs no cursor. */
  cursors: [undefined] as Array<string | undefined>,
  page: 0,
  nextCursor: undefined as string | undefined,
  records: [] as AuditRecord[],
  /** Sequence number of the record shown in the detail view. */
  openSequence: undefined as number | undefined,
  request: undefined as AbortController | undefined,
  started: false,
};

const actions: RecordActions = {
  open: (sequence) => {
    setNodeParams({ record: String(sequence) });
    void showRecord(sequence);
  },
  filterBy: (key, value) => {
    applyFilter({ ...emptyFilter(), [key]: value });
  },
};

for (const action of KNOWN_ACTIONS) {
  byId<HTMLDataListElement>('known-actions').append(h('option', { value: action }));
}

onViewContext((view) => {
  const filter = filterFromParams(view.nodeParams);
  const openSequence = parseSequence(view.nodeParams.record);
  fillForm(filter);

  const filterChanged = !sameFilter(filter, state.filter);
  state.filter = filter;
  if (!state.started || filterChanged) {
    state.started = true;
    resetPaging();
    void loadPage();
  }
  // The browser's back and forward buttons change the node parameters without reloading the view.
  if (openSequence !== undefined) {
    void showRecord(openSequence);
  } else {
    showList();
  }
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  applyFilter(readForm());
});
clearButton.addEventListener('click', () => applyFilter(emptyFilter()));
olderButton.addEventListener('click', () => {
  if (!state.nextCursor) return;
  state.cursors[state.page + 1] = state.nextCursor;
  state.page += 1;
  void loadPage();
});
newerButton.addEventListener('click', () => {
  if (state.page === 0) return;
  state.page -= 1;
  void loadPage();
});
backButton.addEventListener('click', () => {
  setNodeParams({ record: undefined });
  showList();
});

function readForm(): AuditFilter {
  return {
    actor: inputs.actor.value.trim(),
    action: inputs.action.value.trim(),
    target: inputs.target.value.trim(),
    outcome: inputs.outcome.value,
    since: localInputToIso(inputs.since.value),
    until: localInputToIso(inputs.until.value),
  };
}

function fillForm(filter: AuditFilter): void {
  inputs.actor.value = filter.actor;
  inputs.action.value = filter.action;
  inputs.target.value = filter.target;
  inputs.outcome.value = filter.outcome;
  inputs.since.value = isoToLocalInput(filter.since);
  inputs.until.value = isoToLocalInput(filter.until);
}

/** Searches with new filters from the first page, and keeps them in the shell route. */
function applyFilter(filter: AuditFilter): void {
  fillForm(filter);
  setNodeParams({ ...filterToParams(filter), record: undefined });
  showList();
  if (sameFilter(filter, state.filter)) {
    return;
  }
  state.filter = filter;
  resetPaging();
  void loadPage();
}

function resetPaging(): void {
  state.cursors = [undefined];
  state.page = 0;
  state.nextCursor = undefined;
}

async function loadPage(): Promise<void> {
  state.request?.abort();
  const request = new AbortController();
  state.request = request;
  main.dataset.state = 'loading';
  statusLine.textContent = 'Loading audit records…';
  showLoading(true);

  let result: ApiResult<EventsPage>;
  try {
    result = await getJson<EventsPage>(
      eventsUrl(state.filter, state.cursors[state.page]),
      request.signal,
    );
  } catch {
    // Aborted: a newer search replaced this one.
    return;
  } finally {
    if (state.request === request) {
      showLoading(false);
    }
  }
  if (state.request !== request) {
    return;
  }

  if (!result.ok) {
    state.records = [];
    state.nextCursor = undefined;
    statusLine.textContent = '';
    replaceChildren(
      results,
      renderProblem(result.status, result.message, { action: 'read the audit trail' }),
    );
    updatePager();
    main.dataset.state = 'ready';
    return;
  }

  state.records = result.data.items;
  state.nextCursor = result.data.nextCursor;
  statusLine.textContent = statusText();
  replaceChildren(
    results,
    state.records.length > 0 ? renderRecordTable(state.records, actions) : null,
  );
  updatePager();
  main.dataset.state = 'ready';
}

function statusText(): string {
  const count = state.records.length;
  if (count === 0) {
    return isFiltered(state.filter)
      ? 'No audit record matches these filters.'
      : 'The audit trail has no records yet.';
  }
  const first = state.page * PAGE_SIZE + 1;
  const last = first + count - 1;
  const range = `Showing records ${first}–${last}`;
  const matching = isFiltered(state.filter) ? ' that match' : '';
  return state.nextCursor
    ? `${range}${matching}, newest first; older records follow.`
    : `${range}${matching}, newest first.`;
}

function updatePager(): void {
  newerButton.disabled = state.page === 0;
  olderButton.disabled = !state.nextCursor;
  pageNumber.textContent = state.page > 0 || state.nextCursor ? `Page ${state.page + 1}` : '';
}

/** Shows one record: from the current page when it is there, otherwise from the API. */
async function showRecord(sequence: number): Promise<void> {
  state.openSequence = sequence;
  results.hidden = true;
  pager.hidden = true;
  statusLine.hidden = true;
  detail.hidden = false;
  main.dataset.view = 'detail';

  const known = state.records.find((record) => record.sequence === sequence);
  if (known) {
    replaceChildren(detailBody, renderRecordDetail(known, actions));
    return;
  }

  replaceChildren(detailBody, h('p', { class: 'muted' }, `Loading record ${sequence}…`));
  const result = await getJson<AuditRecord>(`/api/audit/events/${sequence}`);
  if (state.openSequence !== sequence) {
    return;
  }
  replaceChildren(
    detailBody,
    result.ok
      ? renderRecordDetail(result.data, actions)
      : renderProblem(result.status, result.message, {
          action: 'read the audit trail',
          notFound: `Audit record ${sequence} was not found: it does not exist, or retention removed it.`,
        }),
  );
}

function showList(): void {
  state.openSequence = undefined;
  detail.hidden = true;
  results.hidden = false;
  pager.hidden = false;
  statusLine.hidden = false;
  main.dataset.view = 'list';
}
