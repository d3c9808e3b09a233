/** Records per page of the Audit view. */
export const PAGE_SIZE = 25;

/** The outcomes a record can have, as `GET /api/audit/events` names them. */
export const OUTCOMES = ['succeeded', 'failed', 'denied'] as const;

/** Actions the portal records, offered as suggestions in the action filter. */
export const KNOWN_ACTIONS = [
  'auth.sign-in',
  'auth.sign-out',
  'auth.unauthenticated',
  'auth.rejected',
  'permission.denied',
  'policy.loaded',
  'policy.reloaded',
  'catalog.location.refreshed',
  'config.loaded',
];

/** One record as `GET /api/audit/events` returns it. */
export interface AuditRecord {
  sequence: number;
  time: string;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: string;
  reason: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  previousHash: string;
  hash: string;
}

export interface EventsPage {
  items: AuditRecord[];
  nextCursor?: string;
}

/** The filters of the view; an empty string is no filter. Times are ISO 8601 in UTC. */
export interface AuditFilter {
  actor: string;
  action: string;
  target: string;
  outcome: string;
  since: string;
  until: string;
}

export const FILTER_KEYS = ['actor', 'action', 'target', 'outcome', 'since', 'until'] as const;

export function emptyFilter(): AuditFilter {
  return { actor: '', action: '', target: '', outcome: '', since: '', until: '' };
}

/**
 * Reads the filters from Luigi node parameters (`~actor=…`), unescaped as
 * `onViewContext` delivers them, ignoring an unknown outcome.
 */
export function filterFromParams(params: Readonly<Record<string, string>>): AuditFilter {
  const filter = emptyFilter();
  for (const key of FILTER_KEYS) {
    filter[key] = (params[key] ?? '').trim();
  }
  if (!(OUTCOMES as readonly string[]).includes(filter.outcome)) {
    filter.outcome = '';
  }
  return filter;
}

/** Converts the filters to node parameters; an empty filter becomes undefined, which Luigi removes. */
export function filterToParams(filter: AuditFilter): Record<string, string | undefined> {
  const params: Record<string, string | undefined> = {};
  for (const key of FILTER_KEYS) {
    params[key] = filter[key] || undefined;
  }
  return params;
}

export function sameFilter(a: AuditFilter, b: AuditFilter): boolean {
  return FILTER_KEYS.every((key) => a[key] === b[key]);
}

export function isFiltered(filter: AuditFilter): boolean {
  return FILTER_KEYS.some((key) => filter[key] !== '');
}

/** Builds the URL of one page: the filters, the page size and the page's cursor, except for the first page. */
export function eventsUrl(filter: AuditFilter, cursor: string | undefined): string {
  const query = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    if (filter[key]) {
      query.set(key, filter[key]);
    }
  }
  query.set('limit', String(PAGE_SIZE));
  if (cursor) {
    query.set('cursor', cursor);
  }
  return `/api/audit/events?${query.toString()}`;
}

/**
 * Converts the value of a `datetime-local` input, which is in the browser's
 * time zone, to ISO 8601 in UTC; an empty or unreadable value becomes ''.
 */
export function localInputToIso(value: string): string {
  if (!value) {
    return '';
  }
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? '' : time.toISOString();
}

/** Converts ISO 8601 to the value of a `datetime-local` input in the browser's time zone. */
export function isoToLocalInput(iso: string): string {
  const time = new Date(iso);
  if (!iso || Number.isNaN(time.getTime())) {
    return '';
  }
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}T${pad(time.getHours())}:${pad(time.getMinutes())}`;
}

/** Shows a record time as `2024-05-01 12:00:00 UTC`, with milliseconds left out. */
export function formatTime(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

/** Parses the `~record=` node parameter: a sequence number, or undefined. */
export function parseSequence(value: string | undefined): number | undefined {
  if (!value || !/^[1-9]\d{0,15}$/.test(value)) {
    return undefined;
  }
  const sequence = Number(value);
  return Number.isSafeInteger(sequence) ? sequence : undefined;
}
