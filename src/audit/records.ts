import type { Kysely } from 'kysely';
import { InputError } from '../errors/index.js';
import { recordFromRow } from './chain.js';
import type { AuditOutcome, AuditRecord } from './event.js';
import type { AuditTables } from './tables.js';

/** The largest page listAuditRecords returns. */
export const MAX_RECORDS_PER_QUERY = 10_000;

/** Filters of listAuditRecords; every filter given must match. */
export interface AuditRecordQuery {
  /** Records at or after this time. */
  since?: Date | undefined;
  /** Records before this time. */
  until?: Date | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  target?: string | undefined;
  outcome?: AuditOutcome | undefined;
  /** Records with a greater sequence number: the cursor of an ascending page. */
  afterSequence?: number | undefined;
  /** Records with a smaller sequence number: the cursor of a descending page. */
  beforeSequence?: number | undefined;
  /** Sequence order; ascending by default. */
  order?: 'ascending' | 'descending' | undefined;
  /** At most this many records, 1 to 10,000; 100 by default. */
  limit?: number | undefined;
}

/** Reads records that match the query, in sequence order. */
export async function listAuditRecords(
  // biome-ignore lint/suspicious/noExplicitAny: callers pass their own typed Kysely or transaction.
  executor: Kysely<any>,
  query: AuditRecordQuery = {},
): Promise<AuditRecord[]> {
  const limit = query.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RECORDS_PER_QUERY) {
    throw new InputError(
      `limit ${limit} is invalid: use a whole number from 1 to ${MAX_RECORDS_PER_QUERY}`,
    );
  }

  const db = executor as Kysely<AuditTables>;
  let select = db.selectFrom('audit_records').selectAll();
  if (query.since) {
    select = select.where('time', '>=', query.since.toISOString());
  }
  if (query.until) {
    select = select.where('time', '<', query.until.toISOString());
  }
  if (query.actor !== undefined) {
    select = select.where('actor', '=', query.actor);
  }
  if (query.action !== undefined) {
    select = select.where('action', '=', query.action);
  }
  if (query.target !== undefined) {
    select = select.where('target', '=', query.target);
  }
  if (query.outcome !== undefined) {
    select = select.where('outcome', '=', query.outcome);
  }
  if (query.afterSequence !== undefined) {
    select = select.where('sequence', '>', query.afterSequence);
  }
  if (query.beforeSequence !== undefined) {
    select = select.where('sequence', '<', query.beforeSequence);
  }
  const rows = await select
    .orderBy('sequence', query.order === 'descending' ? 'desc' : 'asc')
    .limit(limit)
    .execute();
  return rows.map(recordFromRow);
}
