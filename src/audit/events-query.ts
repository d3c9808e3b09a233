import { InputError } from '../errors/index.js';
import { AUDIT_OUTCOMES, type AuditOutcome } from './event.js';

/** Records in one page of `GET /api/audit/events` when `limit` is not given. */
export const DEFAULT_EVENTS_PAGE_SIZE = 50;

/** The largest `limit` of `GET /api/audit/events`. */
export const MAX_EVENTS_PAGE_SIZE = 500;

/** Longest accepted value of each filter, in characters: what the record's column stores at most. */
const MAX_FILTER_LENGTH = { actor: 512, action: 128, target: 2_048 } as const;

const PARAMETERS = ['actor', 'action', 'target', 'outcome', 'since', 'until', 'limit', 'cursor'];

/** A date (`2024-05-01`, midnight UTC) or a date and time with `Z` or an offset. */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

const TIME_EXAMPLE = 'such as 2024-05-01 or 2024-05-01T12:00:00Z';

/** The parsed query of `GET /api/audit/events`. */
export interface EventsQuery {
  actor?: string;
  action?: string;
  target?: string;
  outcome?: AuditOutcome;
  since?: Date;
  until?: Date;
  limit: number;
  /** Records with a smaller sequence number than this, from the cursor. */
  beforeSequence?: number;
}

/**
 * Parses the query parameters of `GET /api/audit/events`. An empty value
 * counts as absent, as an HTML form sends an empty field. Throws an
 * InputError that names the parameter and the fix for any of these:
 * - an unknown or repeated parameter, a control character, a value over its length;
 * - an outcome that does not exist, a limit out of range;
 * - a time that is not ISO 8601, a range that ends before it starts;
 * - a cursor that this API did not issue.
 */
export function parseEventsQuery(raw: Record<string, unknown>): EventsQuery {
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(raw)) {
    if (!PARAMETERS.includes(name)) {
      throw inputError(name, `Unknown parameter '${name}': use ${PARAMETERS.join(', ')}`);
    }
    if (typeof value !== 'string') {
      throw inputError(name, `${name} is given more than once: give it once`);
    }
    const control = findControlCharacter(value);
    if (control !== -1) {
      const code = value.charCodeAt(control).toString(16).toUpperCase().padStart(4, '0');
      throw inputError(
        name,
        `${name} contains the control character U+${code} at position ${control}: remove it`,
      );
    }
    if (value !== '') {
      values.set(name, value);
    }
  }

  const query: EventsQuery = { limit: DEFAULT_EVENTS_PAGE_SIZE };
  for (const name of ['actor', 'action', 'target'] as const) {
    const value = values.get(name);
    if (value === undefined) {
      continue;
    }
    if (value.length > MAX_FILTER_LENGTH[name]) {
      throw inputError(
        name,
        `${name} is ${value.length} characters long: use at most ${MAX_FILTER_LENGTH[name]}, the longest value a record stores`,
      );
    }
    query[name] = value;
  }

  const outcome = values.get('outcome');
  if (outcome !== undefined) {
    if (!AUDIT_OUTCOMES.includes(outcome as AuditOutcome)) {
      throw inputError(
        'outcome',
        `outcome '${quote(outcome)}' is invalid: use ${AUDIT_OUTCOMES.join(', ')}`,
      );
    }
    query.outcome = outcome as AuditOutcome;
  }

  const since = values.get('since');
  if (since !== undefined) {
    query.since = parseTime('since', since);
  }
  const until = values.get('until');
  if (until !== undefined) {
    query.until = parseTime('until', until);
  }
  if (query.since && query.until && query.since.getTime() >= query.until.getTime()) {
    throw inputError(
      'until',
      `until ${query.until.toISOString()} is not after since ${query.since.toISOString()}: give a range that ends after it starts`,
    );
  }

  const limit = values.get('limit');
  if (limit !== undefined) {
    const parsed = /^\d{1,6}$/.test(limit) ? Number(limit) : Number.NaN;
    if (!(parsed >= 1 && parsed <= MAX_EVENTS_PAGE_SIZE)) {
      throw inputError(
        'limit',
        `limit '${quote(limit)}' is invalid: use a whole number from 1 to ${MAX_EVENTS_PAGE_SIZE}`,
      );
    }
    query.limit = parsed;
  }

  const cursor = values.get('cursor');
  if (cursor !== undefined) {
    query.beforeSequence = decodeEventsCursor(cursor);
  }
  return query;
}

/** Encodes the cursor of the page that starts below `sequence`. */
export function encodeEventsCursor(sequence: number): string {
  return Buffer.from(JSON.stringify({ before: sequence })).toString('base64url');
}

/** Decodes a cursor of encodeEventsCursor; throws an InputError for anything else. */
export function decodeEventsCursor(cursor: string): number {
  const invalid = () =>
    inputError(
      'cursor',
      `cursor '${quote(cursor)}' is invalid: pass the nextCursor of the previous page unchanged, or leave cursor out for the newest records`,
    );
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) {
    throw invalid();
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    throw invalid();
  }
  const keys = Object.keys(decoded);
  const before = (decoded as { before?: unknown }).before;
  if (keys.length !== 1 || !Number.isSafeInteger(before) || (before as number) < 1) {
    throw invalid();
  }
  return before as number;
}

function parseTime(name: string, value: string): Date {
  const invalid = () =>
    inputError(
      name,
      `${name} '${quote(value)}' is invalid: use an ISO 8601 date, or a date and time with Z or an offset, ${TIME_EXAMPLE}`,
    );
  const match = ISO_8601.exec(value);
  if (!match) {
    throw invalid();
  }
  const [year, month, day, hour, minute, second] = match
    .slice(1, 7)
    .map((part) => Number(part ?? '0')) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const inRange =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  const time = Date.parse(match[4] === undefined ? `${value}T00:00:00Z` : value);
  if (!inRange || Number.isNaN(time)) {
    throw invalid();
  }
  return new Date(time);
}

/** Index of the first C0 control character or DEL, or -1. */
function findControlCharacter(value: string): number {
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) {
      return index;
    }
  }
  return -1;
}

/** Cuts a value to its first 40 characters for a message. */
function quote(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

function inputError(path: string, message: string): InputError {
  return new InputError(message, { details: [{ path, message }] });
}
