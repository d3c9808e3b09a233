import type { Logger } from 'pino';
import type { WorkflowsConfig } from '../config/index.js';
import { checkDeliveryStatus, postForDelivery } from './executors/http-delivery.js';
import {
  type RequestNotificationKind,
  type RequestNotifier,
  RetryableExecutionError,
  type WorkflowRequest,
} from './types.js';

/** `workflows.notifications` after the config schema parsed it. */
export type WorkflowNotificationsConfig = NonNullable<WorkflowsConfig['notifications']>;

export interface RequestNotifierOptions {
  /** `app.baseUrl`; each message links to a view of the portal under it. */
  baseUrl: string;
  logger: Logger;
  /** The link of a message; defaults to {@link defaultRequestLink}. */
  requestUrl?: (requestId: string, kind: RequestNotificationKind) => string;
  /** Notifications that may wait; when the queue is full the oldest is dropped. Default 500. */
  queueSize?: number;
  /** Attempts per notification, the first included. Default 4. */
  maxAttempts?: number;
  /** Milliseconds before the first retry; each further retry waits twice as long, at most 30 s. Default 1,000. */
  retryDelayMs?: number;
  /** Milliseconds to wait for the webhook's response. Default 5,000. */
  timeoutMs?: number;
}

/** A RequestNotifier that sends from an in-memory queue in the background. */
export interface WebhookRequestNotifier extends RequestNotifier {
  /** Resolves once every queued notification was sent or given up. */
  flush(): Promise<void>;
  /** Drops what is queued, aborts the call in flight and resolves when the sender has stopped. */
  stop(): Promise<void>;
}

/** A Slack Block Kit text object. */
interface SlackText {
  type: 'plain_text' | 'mrkdwn';
  text: string;
}

/** The JSON body POSTed to the webhook: Slack's incoming-webhook format. */
export interface SlackMessage {
  /** The plain summary that clients show where they cannot show blocks. */
  text: string;
  blocks: (
    | { type: 'header'; text: SlackText }
    | { type: 'section'; text?: SlackText; fields?: SlackText[] }
    | { type: 'context'; elements: SlackText[] }
  )[];
}

interface QueuedNotification {
  kind: RequestNotificationKind;
  requestId: string;
  body: string;
}

const MAX_RETRY_DELAY_MS = 30_000;

/** Slack's limits: 150 characters for a header, 2,000 for a field. */
const MAX_HEADER_CHARACTERS = 150;
const MAX_FIELD_CHARACTERS = 2_000;

const TYPE_LABELS: Readonly<Record<string, string>> = {
  deployment: 'Deployment',
  'aws-credentials': 'AWS credentials',
  'role-elevation': 'Role elevation',
};

/**
 * Returns the link of a notification: a submitted request goes to the
 * Approvals view, where approvers decide it, and a decision or result goes
 * to the Requests view, which highlights the request given in `~request`.
 */
export function defaultRequestLink(
  baseUrl: string,
  requestId: string,
  kind: RequestNotificationKind,
): string {
  const base = baseUrl.replace(/\/+$/, '');
  if (kind === 'submitted') {
    return `${base}/approvals`;
  }
  return `${base}/requests?~request=${encodeURIComponent(requestId)}`;
}

/**
 * Creates the notifier of `workflows.notifications`. `notify` only queues
 * the message and never throws. A background sender POSTs one message at a
 * time and retries a timeout, a connection fault, 408, 429 and 5xx with a
 * doubling delay. It gives up on any other status and after `maxAttempts`,
 * and logs that with the request id. Logs show only the webhook's origin,
 * because the path of a Slack webhook URL is its credential.
 */
export function createRequestNotifier(
  config: WorkflowNotificationsConfig,
  options: RequestNotifierOptions,
): WebhookRequestNotifier {
  const { logger } = options;
  const url = config.webhook.url;
  const endpoint = new URL(url).origin;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const requestUrl =
    options.requestUrl ??
    ((id: string, kind: RequestNotificationKind) => defaultRequestLink(baseUrl, id, kind));
  const queueSize = options.queueSize ?? 500;
  const maxAttempts = options.maxAttempts ?? 4;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 5_000;

  const queue: QueuedNotification[] = [];
  const abort = new AbortController();
  let sending: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      // Not unref'd: the retries are bounded, and stop() cancels the wait.
      const timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const deliver = async (item: QueuedNotification): Promise<void> => {
    const context = { requestId: item.requestId, kind: item.kind, endpoint };
    let delay = retryDelayMs;
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      try {
        const response = await postForDelivery({
          target: 'the notification webhook',
          url,
          endpoint,
          headers: { 'content-type': 'application/json' },
          body: item.body,
          timeoutMs,
          signal: abort.signal,
        });
        checkDeliveryStatus('the notification webhook', response);
        return;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (abort.signal.aborted) {
          logger.warn(
            { ...context, attempt, error: message },
            'request notification abandoned at shutdown',
          );
          return;
        }
        if (!(error instanceof RetryableExecutionError)) {
          logger.error(
            { ...context, attempt, error: message },
            'request notification rejected; not retrying',
          );
          return;
        }
        if (attempt === maxAttempts) {
          logger.error(
            { ...context, attempt, error: message },
            'request notification failed; giving up',
          );
          return;
        }
        logger.warn(
          { ...context, attempt, retryInMs: delay, error: message },
          'request notification failed; retrying',
        );
        await pause(delay);
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      }
    }
  };

  const sendAll = async (): Promise<void> => {
    for (let item = queue.shift(); item && !abort.signal.aborted; item = queue.shift()) {
      await deliver(item);
    }
  };

  const flush = async (): Promise<void> => {
    while (sending) {
      await sending;
    }
  };

  const startSending = () => {
    if (sending || abort.signal.aborted) {
      return;
    }
    sending = sendAll()
      .catch((error: unknown) => {
        // deliver catches every delivery fault, so this is a programming error.
        logger.error(
          { endpoint, error: error instanceof Error ? error.message : String(error) },
          'request notification sender stopped after an error',
        );
      })
      .finally(() => {
        sending = undefined;
        if (queue.length > 0) {
          startSending();
        }
      });
  };

  return {
    async notify(kind, request) {
      try {
        if (abort.signal.aborted) {
          logger.warn(
            { requestId: request.id, kind },
            'request notification dropped: the notifier has stopped',
          );
          return;
        }

        const message = buildSlackMessage(kind, request, requestUrl(request.id, kind));
        queue.push({ kind, requestId: request.id, body: JSON.stringify(message) });
        if (queue.length > queueSize) {
          const dropped = queue.shift();
          logger.warn(
            { requestId: dropped?.requestId, kind: dropped?.kind, queueSize },
            'request notification dropped: the queue is full',
          );
        }
        startSending();
      } catch (error) {
        logger.error(
          {
            requestId: request?.id,
            kind,
            error: error instanceof Error ? error.message : String(error),
          },
          'request notification could not be queued',
        );
      }
    },

    flush,

    async stop() {
      const dropped = queue.length;
      queue.length = 0;
      abort.abort();
      wakeUp?.();
      await flush();
      if (dropped > 0) {
        logger.warn({ endpoint, dropped }, 'request notifications dropped at shutdown');
      }
    },
  };
}

/** Builds the Slack-compatible message about one moment of a request. */
export function buildSlackMessage(
  kind: RequestNotificationKind,
  request: WorkflowRequest,
  link: string,
): SlackMessage {
  const typeLabel = TYPE_LABELS[request.type] ?? request.type;
  const title = `${typeLabel} request ${request.state}`;
  const environment = request.parameters.environment;

  const fields: SlackText[] = [field('Type', request.type)];
  if (request.entityRef) {
    fields.push(field('Entity', request.entityRef));
  }
  if (typeof environment === 'string') {
    fields.push(field('Environment', environment));
  }
  fields.push(field('Requester', request.requester), field('State', request.state));
  if (request.breakGlass) {
    fields.push(field('Break-glass', 'yes: flagged for review'));
  }

  const blocks: SlackMessage['blocks'] = [
    { type: 'header', text: { type: 'plain_text', text: cut(title, MAX_HEADER_CHARACTERS) } },
    { type: 'section', fields },
  ];
  if (request.reason) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: cut(`*Reason*\n${escapeMrkdwn(request.reason)}`, MAX_FIELD_CHARACTERS),
      },
    });
  }
  blocks.push(
    { type: 'section', text: { type: 'mrkdwn', text: `<${escapeMrkdwn(link)}|Open the request>` } },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `${kind} · request ${escapeMrkdwn(request.id)}` }],
    },
  );

  const about = request.entityRef ? ` for ${request.entityRef}` : '';
  const where = typeof environment === 'string' ? ` in ${environment}` : '';
  const summary = `${title}${about}${where}, requested by ${request.requester}`;
  return { text: `${escapeMrkdwn(summary)}: <${escapeMrkdwn(link)}>`, blocks };
}

function field(label: string, value: string): SlackText {
  return { type: 'mrkdwn', text: cut(`*${label}*\n${escapeMrkdwn(value)}`, MAX_FIELD_CHARACTERS) };
}

/** Slack reads `&`, `<` and `>` as control characters in message text. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
