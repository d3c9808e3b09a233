import {
  type IngestionFault,
  type IngestionLocation,
  readIngestionLocations,
  severityOf,
  severityRank,
} from '../common/ingestion.js';

/** A catalog location with every fault of its last refresh, errors first. */
export interface LocationReport {
  id: string;
  type: string;
  target: string;
  /** ISO time of the last refresh; null before the first one. */
  refreshedAt: string | null;
  faults: IngestionFault[];
  errors: number;
  warnings: number;
}

/** The severity filter: every fault, errors only or warnings only. */
export type SeverityFilter = '' | 'error' | 'warning';

export interface LocationFilter {
  severity: SeverityFilter;
  /** Case-insensitive text matched against the target and each fault's fields. */
  text: string;
}

/** A location that passes the filter, with the faults that match it. */
export interface LocationMatch {
  location: LocationReport;
  faults: IngestionFault[];
  errors: number;
  warnings: number;
}

/**
 * Joins `GET /api/catalog/locations` (a list of `{ data: { id, type, target } }`)
 * with `GET /api/catalog/ingestion-errors` by location id. Locations keep the
 * order of the first list; a location that only the second lists follows at
 * the end. Faults are sorted errors first and otherwise keep the server's
 * order, which is by file, document and line.
 */
export function mergeLocations(listBody: unknown, reportBody: unknown): LocationReport[] {
  const reports = new Map<string, IngestionLocation>();
  for (const report of readIngestionLocations(reportBody)) {
    if (typeof report.id === 'string') {
      reports.set(report.id, report);
    }
  }

  const merged: LocationReport[] = [];
  const seen = new Set<string>();
  for (const item of Array.isArray(listBody) ? listBody : []) {
    const data = (item as { data?: { id?: unknown; type?: unknown; target?: unknown } }).data;
    if (!data || typeof data.id !== 'string' || seen.has(data.id)) continue;
    seen.add(data.id);
    merged.push(
      toReport(data.id, reports.get(data.id), {
        type: String(data.type ?? ''),
        target: String(data.target ?? ''),
      }),
    );
  }
  for (const [id, report] of reports) {
    if (!seen.has(id)) {
      merged.push(toReport(id, report, { type: report.type ?? '', target: report.target ?? '' }));
    }
  }
  return merged;
}

function toReport(
  id: string,
  report: IngestionLocation | undefined,
  listed: { type: string; target: string },
): LocationReport {
  const faults = sortErrorsFirst(report?.errors ?? []);
  const counts = countSeverities(faults);
  return {
    id,
    type: listed.type || report?.type || '',
    target: listed.target || report?.target || '',
    refreshedAt: report?.refreshedAt ?? null,
    faults,
    ...counts,
  };
}

function sortErrorsFirst(faults: readonly IngestionFault[]): IngestionFault[] {
  // Array.prototype.sort is stable, so faults of one severity keep their order.
  return [...faults].sort((a, b) => severityRank(severityOf(a)) - severityRank(severityOf(b)));
}

function countSeverities(faults: readonly IngestionFault[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const fault of faults) {
    const severity = severityOf(fault);
    if (severity === 'error') errors += 1;
    else if (severity === 'warning') warnings += 1;
  }
  return { errors, warnings };
}

export function isFiltered(filter: LocationFilter): boolean {
  return filter.severity !== '' || filter.text.trim() !== '';
}

/**
 * Keeps the locations that match the filter, each with its matching faults,
 * and sorts them: locations with matching errors first, then those with
 * matching warnings, then the rest, each group in the given order.
 *
 * A fault matches when it has the chosen severity and the text occurs in its
 * file, entity reference, field, message or code. When the text occurs in
 * the location's target or type, every fault of the chosen severity matches.
 * Without a filter every location is kept, including those without faults.
 * With a filter, a location is kept only when a fault matches, or when the
 * text matches its target and no severity is chosen.
 */
export function filterLocations(
  locations: readonly LocationReport[],
  filter: LocationFilter,
): LocationMatch[] {
  const text = filter.text.trim().toLowerCase();
  const filtered = isFiltered(filter);

  const matches: LocationMatch[] = [];
  for (const location of locations) {
    const targetMatches = text !== '' && includesText([location.target, location.type], text);
    const faults = location.faults.filter(
      (fault) =>
        (filter.severity === '' || severityOf(fault) === filter.severity) &&
        (text === '' || targetMatches || faultMatches(fault, text)),
    );

    const keep = !filtered || faults.length > 0 || (targetMatches && filter.severity === '');
    if (keep) {
      matches.push({ location, faults, ...countSeverities(faults) });
    }
  }

  return matches
    .map((match, index) => ({ match, index }))
    .sort((a, b) => groupOf(a.match) - groupOf(b.match) || a.index - b.index)
    .map(({ match }) => match);
}

function groupOf(match: LocationMatch): number {
  if (match.errors > 0) return 0;
  if (match.warnings > 0) return 1;
  return 2;
}

function faultMatches(fault: IngestionFault, text: string): boolean {
  return includesText([fault.file, fault.entityRef, fault.field, fault.message, fault.code], text);
}

function includesText(values: ReadonlyArray<string | undefined>, text: string): boolean {
  return values.some((value) => value?.toLowerCase().includes(text) === true);
}

/** Totals over the matches, for the status line. */
export function totalsOf(matches: readonly LocationMatch[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const match of matches) {
    errors += match.errors;
    warnings += match.warnings;
  }
  return { errors, warnings };
}

/** Reads the severity node parameter; any other value means every severity. */
export function parseSeverity(value: string | undefined): SeverityFilter {
  return value === 'error' || value === 'warning' ? value : '';
}

/**
 * Shortens a fault's file for display: a file in the folder of the location's
 * target, or below it, is shown relative to that folder.
 */
export function shortFile(file: string, target: string): string {
  const slash = target.lastIndexOf('/');
  if (slash <= 0) return file;
  const folder = target.slice(0, slash + 1);
  return file.startsWith(folder) && file.length > folder.length ? file.slice(folder.length) : file;
}

const RELATIVE_TIME = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/**
 * Formats how long ago `iso` was, such as "5 minutes ago". A time ahead of
 * `now`, from clocks that differ slightly, reads "now"; an unreadable time is
 * returned as is.
 */
export function formatAge(iso: string, now: Date): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;

  const seconds = Math.min(0, Math.round((time - now.getTime()) / 1000));
  const steps: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ['second', 60],
    ['minute', 60],
    ['hour', 24],
    ['day', Number.POSITIVE_INFINITY],
  ];
  let value = seconds;
  for (const [unit, size] of steps) {
    if (Math.abs(value) < size) {
      return RELATIVE_TIME.format(value, unit);
    }
    value = Math.round(value / size);
  }
  return iso;
}

/** One page of a list: its items and the 1-based positions of the first and last. */
export interface Page<T> {
  items: T[];
  /** The page actually shown, from 0: the requested one, moved into range. */
  index: number;
  count: number;
  first: number;
  last: number;
}

/** Cuts page `index` (from 0) of `size` items out of `items`, clamping the index into range. */
export function pageOf<T>(items: readonly T[], index: number, size: number): Page<T> {
  const count = Math.max(1, Math.ceil(items.length / size));
  const clamped = Math.min(Math.max(0, index), count - 1);
  const start = clamped * size;
  const pageItems = items.slice(start, start + size);
  return {
    items: pageItems,
    index: clamped,
    count,
    first: pageItems.length > 0 ? start + 1 : 0,
    last: start + pageItems.length,
  };
}
