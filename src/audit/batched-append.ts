import type { AuditExecutor } from './chain.js';
import type { AuditEvent } from './event.js';
import type { AuditTrail } from './trail.js';

/** Maximum number of events that one transaction of a batched appender appends. */
export const MAX_EVENTS_PER_BATCH = 256;

/** Appends standalone events, sharing one transaction among those that arrive together. */
export interface BatchedAppender {
  /** Resolves once the event's record has committed; rejects when its transaction failed. */
  append(event: AuditEvent): Promise<void>;
}

interface PendingEvent {
  event: AuditEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Creates an appender for events that belong to no transaction of their own,
 * such as denied requests. While one transaction commits, the events that
 * arrive meanwhile wait and then go into the next transaction together, so a
 * flood of events costs one commit per batch instead of one per event. Each
 * event still gets its own record. When a batch fails, its events are
 * appended again one by one, so one malformed event fails alone.
 */
export function createBatchedAppender(
  audit: Pick<AuditTrail, 'append'>,
  db: AuditExecutor,
): BatchedAppender {
  const pending: PendingEvent[] = [];
  let flushing = false;

  const appendAll = async (batch: readonly PendingEvent[]): Promise<void> => {
    await db.transaction().execute(async (transaction) => {
      for (const item of batch) {
        await audit.append(transaction, item.event);
      }
    });
  };

  const flush = async (): Promise<void> => {
    flushing = true;
    while (pending.length > 0) {
      const batch = pending.splice(0, MAX_EVENTS_PER_BATCH);
      try {
        await appendAll(batch);
        for (const item of batch) {
          item.resolve();
        }
        continue;
      } catch (error) {
        if (batch.length === 1) {
          batch[0]?.reject(error);
          continue;
        }
      }
      for (const item of batch) {
        await appendAll([item]).then(item.resolve, item.reject);
      }
    }
    flushing = false;
  };

  return {
    append: (event) =>
      new Promise<void>((resolve, reject) => {
        pending.push({ event, resolve, reject });
        if (!flushing) {
          void flush();
        }
      }),
  };
}
