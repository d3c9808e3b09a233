import { type Child, h } from '../common/dom.js';
import { entityPagePath, parseEntityRef } from '../common/entity-ref.js';
import { formatFileLine, type IngestionFault, severityOf } from '../common/ingestion.js';
import { shellLink } from '../common/luigi.js';
import { formatAge, type LocationMatch, type LocationReport, shortFile } from './model.js';

/** Number of fault rows a location shows at first, and adds per click on its button. */
export const FAULT_ROWS_PER_STEP = 100;

export interface RenderOptions {
  /** Shell route of the catalog, below which entity pages sit. */
  catalogPath: string;
  /** Whether a severity or text filter is active. */
  filtered: boolean;
  now: Date;
}

/**
 * Renders one page of locations. A location with faults is a disclosure whose
 * fault table is built only when it opens, so a closed location adds no table
 * rows. It starts open when it has matching errors, or matching faults of any
 * severity while a filter is active.
 */
export function renderLocations(
  matches: readonly LocationMatch[],
  options: RenderOptions,
): HTMLOListElement {
  return h(
    'ol',
    { class: 'locations', id: 'location-list' },
    ...matches.map((match) => renderLocation(match, options)),
  );
}

function renderLocation(match: LocationMatch, options: RenderOptions): HTMLLIElement {
  const { location } = match;
  const item = h('li', { class: 'location', 'data-location-id': location.id });
  if (location.faults.length === 0) {
    item.append(h('div', { class: 'location-summary' }, ...summaryParts(location, options)));
    return item;
  }

  const details = h(
    'details',
    null,
    h('summary', { class: 'location-summary' }, ...summaryParts(location, options)),
  );
  let built = false;
  const build = () => {
    if (built) return;
    built = true;
    details.append(renderFaults(match, options));
  };
  details.addEventListener('toggle', () => {
    if (details.open) build();
  });
  if (match.errors > 0 || (options.filtered && match.faults.length > 0)) {
    details.open = true;
    build();
  }
  item.append(details);
  return item;
}

function summaryParts(location: LocationReport, options: RenderOptions): Child[] {
  return [
    h(
      'span',
      { class: 'location-head' },
      h('span', { class: 'location-target' }, location.target),
      h('span', { class: 'location-counts' }, ...countBadges(location)),
    ),
    h(
      'span',
      { class: 'location-meta muted' },
      location.type ? `${location.type} · ` : '',
      refreshedText(location.refreshedAt, options.now),
    ),
  ];
}

function countBadges(location: LocationReport): Child[] {
  if (location.faults.length === 0) {
    return [h('span', { class: 'badge badge-clean' }, 'No faults')];
  }
  const other = location.faults.length - location.errors - location.warnings;
  return [
    location.errors > 0
      ? h('span', { class: 'badge badge-error' }, plural(location.errors, 'error'))
      : null,
    location.warnings > 0
      ? h('span', { class: 'badge badge-warning' }, plural(location.warnings, 'warning'))
      : null,
    other > 0 ? h('span', { class: 'badge' }, plural(other, 'other fault')) : null,
  ];
}

function refreshedText(refreshedAt: string | null, now: Date): Child {
  if (!refreshedAt) {
    return 'not refreshed yet';
  }
  const date = new Date(refreshedAt);
  const exact = Number.isNaN(date.getTime()) ? refreshedAt : date.toLocaleString();
  return h(
    'span',
    null,
    'refreshed ',
    h('time', { datetime: refreshedAt, title: exact }, formatAge(refreshedAt, now)),
  );
}

/** Builds the fault table of one location: its first rows and a button that adds more. */
function renderFaults(match: LocationMatch, options: RenderOptions): HTMLElement {
  const { location, faults } = match;
  const container = h('div', { class: 'faults' });
  if (faults.length === 0) {
    container.append(h('p', { class: 'muted' }, 'No fault of this location matches the filters.'));
    return container;
  }

  const body = h('tbody');
  const table = h(
    'table',
    { class: 'fault-table' },
    h('caption', { class: options.filtered ? undefined : 'visually-hidden' }, caption(match)),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ...['Severity', 'Where', 'Entity', 'Field', 'Message'].map((label) =>
          h('th', { scope: 'col' }, label),
        ),
      ),
    ),
    body,
  );
  const more = h('button', { type: 'button', class: 'more-faults' });
  let shownRows = 0;
  const showMore = () => {
    const next = faults.slice(shownRows, shownRows + FAULT_ROWS_PER_STEP);
    body.append(...next.map((fault) => renderFault(fault, location, options)));
    shownRows += next.length;
    const rest = faults.length - shownRows;
    more.hidden = rest === 0;
    more.textContent = `Show ${Math.min(rest, FAULT_ROWS_PER_STEP)} more (${shownRows.toLocaleString('en')} of ${faults.length.toLocaleString('en')} shown)`;
  };
  more.addEventListener('click', showMore);
  showMore();

  container.append(h('div', { class: 'table-scroll' }, table), more);
  return container;
}

function caption(match: LocationMatch): string {
  const total = match.location.faults.length;
  if (match.faults.length === total) {
    return `${plural(total, 'fault')} of ${match.location.target}`;
  }
  return `${match.faults.length.toLocaleString('en')} of ${plural(total, 'fault')} match the filters`;
}

function renderFault(
  fault: IngestionFault,
  location: LocationReport,
  options: RenderOptions,
): HTMLTableRowElement {
  const severity = severityOf(fault);
  const file = fault.file ?? location.target;
  return h(
    'tr',
    { 'data-severity': severity },
    h(
      'td',
      { 'data-label': 'Severity' },
      h('span', { class: `badge badge-${severity}` }, severity),
    ),
    h(
      'td',
      { class: 'fault-where', 'data-label': 'Where' },
      h('span', { title: file }, formatFileLine(shortFile(file, location.target), fault.line)),
      fault.docIndex !== undefined
        ? h('span', { class: 'description' }, `document ${fault.docIndex + 1}`)
        : null,
    ),
    h(
      'td',
      { class: 'fault-entity', 'data-label': 'Entity' },
      entityLink(fault.entityRef, options.catalogPath),
    ),
    h('td', { class: 'fault-field', 'data-label': 'Field' }, fault.field ?? ''),
    h(
      'td',
      { class: 'fault-message', 'data-label': 'Message' },
      fault.message,
      fault.code ? h('span', { class: 'description fault-code' }, fault.code) : null,
    ),
  );
}

function entityLink(ref: string | undefined, catalogPath: string): Child {
  if (!ref) return '';
  const entity = parseEntityRef(ref);
  return entity ? shellLink(entityPagePath(catalogPath, entity), ref) : ref;
}

export function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en')} ${noun}${count === 1 ? '' : 's'}`;
}
