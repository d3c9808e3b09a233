import { h } from '../common/dom.js';
import { type AuditFilter, type AuditRecord, formatTime } from './model.js';

/** Callbacks of the table and the detail view, for a record or a filter value that the user picks. */
export interface RecordActions {
  open(sequence: number): void;
  filterBy(key: keyof AuditFilter, value: string): void;
}

const BADGE_BY_OUTCOME: Readonly<Record<string, string>> = {
  succeeded: 'badge badge-clean',
  failed: 'badge badge-error',
  denied: 'badge badge-warning',
};

function outcomeBadge(outcome: string): HTMLSpanElement {
  return h('span', { class: BADGE_BY_OUTCOME[outcome] ?? 'badge' }, outcome);
}

/** Renders a page of records as a table, newest first; the time of each row opens its detail. */
export function renderRecordTable(
  records: readonly AuditRecord[],
  actions: RecordActions,
): HTMLElement {
  const rows = records.map((record) => {
    const open = h(
      'button',
      { type: 'button', class: 'link-button', 'aria-label': `Open record ${record.sequence}` },
      formatTime(record.time),
    );
    open.addEventListener('click', () => actions.open(record.sequence));
    return h(
      'tr',
      { 'data-sequence': String(record.sequence) },
      h('td', { class: 'nowrap' }, open),
      h('td', { class: 'ref' }, record.actor ?? 'anonymous'),
      h('td', { class: 'nowrap' }, record.action),
      h('td', { class: 'ref' }, record.target ?? ''),
      h('td', null, outcomeBadge(record.outcome)),
      h('td', { class: 'description' }, record.reason ?? ''),
    );
  });

  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { id: 'records', class: 'audit-table' },
      h('caption', { class: 'visually-hidden' }, 'Audit records, newest first'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['Time', 'Actor', 'Action', 'Target', 'Outcome', 'Reason'].map((label) =>
            h('th', { scope: 'col' }, label),
          ),
        ),
      ),
      h('tbody', null, ...rows),
    ),
  );
}

/**
 * Renders every field of one record. Actor, action and target are buttons
 * that search for other records with the same value.
 */
export function renderRecordDetail(record: AuditRecord, actions: RecordActions): HTMLElement {
  const filterButton = (key: keyof AuditFilter, value: string | null, label: string) => {
    if (value === null) {
      return h('span', { class: 'muted' }, key === 'actor' ? 'anonymous' : 'none');
    }
    const button = h(
      'button',
      { type: 'button', class: 'link-button', title: `Show the records with this ${label}` },
      value,
    );
    button.addEventListener('click', () => actions.filterBy(key, value));
    return button;
  };
  const text = (value: string | null) => value ?? h('span', { class: 'muted' }, 'none');

  const facts: Array<[string, Node | string]> = [
    ['Sequence', String(record.sequence)],
    ['Time', formatTime(record.time)],
    ['Actor', filterButton('actor', record.actor, 'actor')],
    ['Action', filterButton('action', record.action, 'action')],
    ['Target', filterButton('target', record.target, 'target')],
    ['Outcome', outcomeBadge(record.outcome)],
    ['Reason', text(record.reason)],
    ['IP address', text(record.ip)],
    ['User agent', text(record.userAgent)],
    ['Request id', text(record.requestId)],
    ['Hash', h('code', null, record.hash)],
    ['Previous hash', h('code', null, record.previousHash)],
  ];

  return h(
    'article',
    { class: 'audit-record', 'data-sequence': String(record.sequence) },
    h('h2', null, `Record ${record.sequence}`),
    h(
      'dl',
      { class: 'facts' },
      ...facts.flatMap(([label, value]) => [h('dt', null, label), h('dd', null, value)]),
    ),
    h('h3', null, 'Details'),
    h('pre', { id: 'record-details' }, JSON.stringify(record.details, null, 2)),
  );
}
