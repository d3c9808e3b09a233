import { createHmac } from 'node:crypto';
import type { ExecutionContext, ExecutionResult, RequestExecutor } from '../types.js';
import { type DeploymentOrder, readDeploymentOrder } from './deployment-request.js';
import { checkDeliveryStatus, describeEndpoint, postForDelivery } from './http-delivery.js';

/** Header with the HMAC-SHA256 signature, as `sha256=<hex>`. */
export const SIGNATURE_HEADER = 'X-Portal-Signature';
/** Header with the signing time in Unix seconds; the signature covers it. */
export const TIMESTAMP_HEADER = 'X-Portal-Timestamp';
/** Header with the request's idempotency key, the same on every attempt. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

export interface DeploymentWebhookConfig {
  url: string;
  /** The shared HMAC key. Never logged and never part of a message. */
  secret: string;
  timeoutSeconds: number;
}

export interface DeploymentWebhookOptions {
  config: DeploymentWebhookConfig;
  /** Milliseconds since the epoch; tests pass a fixed clock. */
  now?: () => number;
}

/** The JSON body POSTed to the receiver; docs/workflows-executors.md documents it. */
export interface DeploymentWebhookPayload {
  type: 'deployment';
  requestId: string;
  entityRef: string;
  environment: string;
  version: string | null;
  gitRef: string | null;
  requester: string;
  approvers: string[];
  idempotencyKey: string;
  /** 1 for the first attempt; a retry carries the same idempotency key. */
  attempt: number;
}

/**
 * Computes the signature header value for one delivery: HMAC-SHA256 with the
 * shared secret over `<timestamp>.<body>`, hex-encoded, as `sha256=<hex>`.
 */
export function signDeploymentWebhook(secret: string, timestamp: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `sha256=${digest}`;
}

/**
 * Creates the executor of `deployment` requests that POSTs each approved
 * deployment, signed, to `config.url`. It runs automatically once a request
 * is approved. A timeout, a refused connection, 408, 429 and 5xx are
 * retryable; any other non-2xx status fails the request with the status in
 * the message.
 */
export function createDeploymentWebhookExecutor(
  options: DeploymentWebhookOptions,
): RequestExecutor {
  const { config } = options;
  const now = options.now ?? Date.now;
  const endpoint = describeEndpoint(config.url);
  const timeoutMs = Math.round(config.timeoutSeconds * 1000);

  return {
    type: 'deployment',
    trigger: 'automatic',

    async execute(context: ExecutionContext): Promise<ExecutionResult> {
      const order = readDeploymentOrder(context);
      const body = JSON.stringify(toPayload(order));
      const timestamp = Math.floor(now() / 1000);

      const response = await postForDelivery({
        target: 'the deployment webhook',
        url: config.url,
        endpoint,
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signDeploymentWebhook(config.secret, timestamp, body),
          [TIMESTAMP_HEADER]: String(timestamp),
          [IDEMPOTENCY_KEY_HEADER]: order.idempotencyKey,
        },
        body,
        timeoutMs,
        signal: context.signal,
      });
      checkDeliveryStatus('the deployment webhook', response);

      context.logger.info({ endpoint, status: response.status }, 'deployment webhook delivered');
      return {
        result: {
          executor: 'webhook',
          endpoint,
          status: response.status,
          deliveredAt: new Date(now()).toISOString(),
        },
      };
    },
  };
}

function toPayload(order: DeploymentOrder): DeploymentWebhookPayload {
  return {
    type: 'deployment',
    requestId: order.requestId,
    entityRef: order.entityRef,
    environment: order.environment,
    version: order.version ?? null,
    gitRef: order.gitRef ?? null,
    requester: order.requester,
    approvers: order.approvers,
    idempotencyKey: order.idempotencyKey,
    attempt: order.attempt,
  };
}
