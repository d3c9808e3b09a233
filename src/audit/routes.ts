import type { FastifyInstance } from 'fastify';
import { InputError, NotFoundError } from '../errors/index.js';
import type { AuditRecord } from './event.js';
import { encodeEventsCursor, parseEventsQuery } from './events-query.js';
import { AUDIT_EVENT_READ } from './permissions.js';
import type { AuditTrail } from './trail.js';

/** A page of `GET /api/audit/events`, newest record first. */
export interface AuditEventsPage {
  items: AuditRecord[];
  /** Present when older records match: pass it as `cursor` for the next page. */
  nextCursor?: string;
}

/**
 * Registers `GET /api/audit/events` (search, newest first, cursor paging)
 * and `GET /api/audit/events/:sequence` (one record). Both require
 * audit.event.read. The audit capability does not import permissions, so
 * the route names the permission and the HTTP server's access check decides.
 */
export async function registerAuditRoutes(
  app: FastifyInstance,
  audit: Pick<AuditTrail, 'list'>,
): Promise<void> {
  const access = { config: { access: { permission: AUDIT_EVENT_READ } } };

  app.get('/api/audit/events', access, async (request): Promise<AuditEventsPage> => {
    const query = parseEventsQuery(request.query as Record<string, unknown>);

    // One record more than the page shows whether an older page exists.
    const records = await audit.list({
      actor: query.actor,
      action: query.action,
      target: query.target,
      outcome: query.outcome,
      since: query.since,
      until: query.until,
      beforeSequence: query.beforeSequence,
      order: 'descending',
      limit: query.limit + 1,
    });

    const items = records.slice(0, query.limit);
    const last = items.at(-1);
    if (records.length > query.limit && last) {
      return { items, nextCursor: encodeEventsCursor(last.sequence) };
    }
    return { items };
  });

  app.get('/api/audit/events/:sequence', access, async (request): Promise<AuditRecord> => {
    const { sequence: text } = request.params as { sequence: string };
    const sequence = /^[1-9]\d{0,15}$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(sequence)) {
      const message = `sequence '${text.slice(0, 40)}' is invalid: use the sequence number of a record, a whole number from 1`;
      throw new InputError(message, { details: [{ path: 'sequence', message }] });
    }

    const [record] = await audit.list({ afterSequence: sequence - 1, limit: 1 });
    if (!record || record.sequence !== sequence) {
      throw new NotFoundError(
        `Audit record ${sequence} was not found: it was not appended yet, or retention removed it`,
      );
    }
    return record;
  });
}
