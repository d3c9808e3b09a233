import type { Kysely } from 'kysely';
import { InputError } from '../errors/index.js';
import { canonicalJson } from './canonical.js';
import type { AuditRecord } from './event.js';
import { RECORD_COLUMNS } from './record-batches.js';
import { listAuditRecords } from './records.js';

export type ExportFormat = 'jsonl' | 'csv';

/** The destination of an export: resolves once it accepts the text, so large exports respect backpressure. */
export type ExportSink = (text: string) => Promise<void>;

/** Columns of a CSV export, in order: the stored record columns. */
export const CSV_COLUMNS = RECORD_COLUMNS;

const PAGE_SIZE = 5_000;

/** Reads `text` as an export format; throws InputError naming the accepted ones. */
export function parseExportFormat(text: string): ExportFormat {
  if (text !== 'jsonl' && text !== 'csv') {
    throw new InputError(`--format '${text}' is not supported: use jsonl or csv`);
  }
  return text;
}

/**
 * Writes the records from `since` (inclusive) to `until` (exclusive) in
 * sequence order, page by page, and resolves to the number written. JSON
 * Lines carries one record object per line; CSV has a header row and the
 * details as canonical JSON text, so both keep what verification needs.
 */
export async function exportAuditRecords(
  // biome-ignore lint/suspicious/noExplicitAny: callers pass their own typed Kysely.
  db: Kysely<any>,
  options: { since?: Date | undefined; until?: Date | undefined; format: ExportFormat },
  write: ExportSink,
): Promise<number> {
  if (options.format === 'csv') {
    await write(`${CSV_COLUMNS.join(',')}\r\n`);
  }

  let count = 0;
  let afterSequence: number | undefined;
  for (;;) {
    const page = await listAuditRecords(db, {
      since: options.since,
      until: options.until,
      afterSequence,
      limit: PAGE_SIZE,
    });
    if (page.length === 0) {
      return count;
    }
    const format = options.format === 'csv' ? csvLine : jsonLine;
    await write(page.map(format).join(''));
    count += page.length;
    afterSequence = page.at(-1)?.sequence;
  }
}

function jsonLine(record: AuditRecord): string {
  return `${JSON.stringify(record)}\n`;
}

function csvLine(record: AuditRecord): string {
  const values = [
    String(record.sequence),
    record.time,
    record.actor,
    record.action,
    record.target,
    record.outcome,
    record.reason,
    record.ip,
    record.userAgent,
    record.requestId,
    canonicalJson(record.details),
    record.previousHash,
    record.hash,
  ];
  return `${values.map(csvField).join(',')}\r\n`;
}

/**
 * Quotes a CSV field as RFC 4180 describes when it contains a comma, quote or
 * line break. An empty field stands for null.
 *
 * NOTE: Values are written unchanged, so the export can be checked against
 * the hashes. A spreadsheet may read a value that starts with =, +, - or @
 * as a formula; import the file as text.
 */
function csvField(value: string | null): string {
  if (value === null) {
    return '';
  }
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
