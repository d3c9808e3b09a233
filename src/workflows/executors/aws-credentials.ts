import {
  AssumeRoleCommand,
  type AssumeRoleCommandOutput,
  STSClient,
  type STSClientConfig,
} from '@aws-sdk/client-sts';
import type { AppConfig } from '../../config/index.js';
import { InputError, PortalError } from '../../errors/index.js';
import {
  type ExecutionContext,
  type ExecutionResult,
  type RequestExecutor,
  RetryableExecutionError,
} from '../types.js';
import { roleSessionNameOf, sessionTagsOf, sourceIdentityOf } from './aws-session-names.js';

export type AwsCredentialsConfig = NonNullable<AppConfig['workflows']['awsCredentials']>;

/** Shortest and longest DurationSeconds of AssumeRole (AWS STS API reference). */
export const MIN_STS_DURATION_SECONDS = 900;
export const MAX_STS_DURATION_SECONDS = 43_200;

/** DurationSeconds when neither the request nor a limit sets one: STS's own default. */
export const DEFAULT_STS_DURATION_SECONDS = 3_600;

/** STS error codes of a fault that a later attempt may not meet. */
const RETRYABLE_STS_ERRORS = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'InternalFailure',
  'IDPCommunicationError',
  'TimeoutError',
  'AbortError',
]);

export interface AwsCredentialsExecutorOptions {
  /**
   * Credentials that sign the STS calls instead of the SDK's default chain,
   * such as static test credentials.
   */
  credentials?: STSClientConfig['credentials'];
  /** Attempts of the SDK's own retry strategy per execution; 3 (the SDK default) unless set. */
  maxAttempts?: number;
}

/** A role of the config, resolved for one request. */
interface ConfiguredRole {
  name: string;
  arn: string;
  accountId: string;
  sessionPolicy: string | undefined;
  maxDurationSeconds: number | undefined;
}

/**
 * Creates the executor of `aws-credentials` requests. It waits until the
 * requester collects the request, then calls STS AssumeRole once and returns
 * the temporary credentials as the execution's secret, which the engine
 * shows once and never stores. The stored result names the role and the
 * session, never a credential.
 */
export function createAwsCredentialsExecutor(
  config: AwsCredentialsConfig,
  options: AwsCredentialsExecutorOptions = {},
): RequestExecutor {
  const client = new STSClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  });

  return {
    type: 'aws-credentials',
    trigger: 'requester',
    checkParameters(parameters) {
      checkAccount(resolveRole(config, parameters.role), parameters.account);
    },
    async execute(context: ExecutionContext): Promise<ExecutionResult> {
      const { request, logger } = context;
      const role = resolveRole(config, request.parameters.role);
      checkAccount(role, request.parameters.account);
      const durationSeconds = sessionSeconds(
        request.parameters.durationSeconds,
        context.maxDurationSeconds,
        role,
      );

      const sourceIdentity = sourceIdentityOf(request.requester);
      const roleSessionName = roleSessionNameOf(request.requester, request.id);
      const { tags, omittedTeams } = sessionTagsOf(context.requester, request.id);
      if (omittedTeams.length > 0) {
        logger.warn(
          { requestId: request.id, omittedTeams },
          'teams left out of the team session tag, which STS limits to 256 characters',
        );
      }

      logger.info(
        { requestId: request.id, roleArn: role.arn, durationSeconds, roleSessionName },
        'assuming AWS role',
      );
      let output: AssumeRoleCommandOutput;
      try {
        output = await client.send(
          new AssumeRoleCommand({
            RoleArn: role.arn,
            RoleSessionName: roleSessionName,
            SourceIdentity: sourceIdentity,
            DurationSeconds: durationSeconds,
            Tags: tags,
            ...(role.sessionPolicy ? { Policy: role.sessionPolicy } : {}),
          }),
          { abortSignal: context.signal },
        );
      } catch (error) {
        const translated = translateStsError(error, role);
        logger.error(
          {
            requestId: request.id,
            roleArn: role.arn,
            code: translated.code,
            message: translated.message,
          },
          'AWS AssumeRole failed',
        );
        throw translated;
      }

      const credentials = output.Credentials;
      if (
        !credentials?.AccessKeyId ||
        !credentials.SecretAccessKey ||
        !credentials.SessionToken ||
        !credentials.Expiration
      ) {
        throw new PortalError(
          'AWS_ASSUME_ROLE_FAILED',
          `STS AssumeRole of ${role.arn} returned no complete credentials: check the STS endpoint ${config.endpoint ?? `of ${config.region}`}`,
        );
      }
      const expiration = credentials.Expiration.toISOString();
      logger.info(
        {
          requestId: request.id,
          roleArn: role.arn,
          assumedRoleId: output.AssumedRoleUser?.AssumedRoleId,
          expiration,
        },
        'AWS role assumed',
      );

      return {
        result: {
          role: role.name,
          roleArn: role.arn,
          assumedRoleArn: output.AssumedRoleUser?.Arn ?? null,
          assumedRoleId: output.AssumedRoleUser?.AssumedRoleId ?? null,
          roleSessionName,
          sourceIdentity: output.SourceIdentity ?? sourceIdentity,
          durationSeconds,
          expiration,
        },
        secret: {
          AccessKeyId: credentials.AccessKeyId,
          SecretAccessKey: credentials.SecretAccessKey,
          SessionToken: credentials.SessionToken,
          Expiration: expiration,
        },
      };
    },
  };
}

/** Finds the configured role that a request names, by its config name or its ARN. */
function resolveRole(config: AwsCredentialsConfig, requested: unknown): ConfiguredRole {
  const entries = Object.entries(config.roles);
  const found = entries.find(([name, role]) => name === requested || role.arn === requested);
  if (!found) {
    const names = entries.map(([name]) => name).sort();
    throw new InputError(
      `AWS role ${JSON.stringify(requested)} is not configured: request one of ${names.join(', ')}, or add it to workflows.awsCredentials.roles`,
      { details: [{ path: 'parameters.role', value: requested, message: 'unknown AWS role' }] },
    );
  }

  const [name, role] = found;
  return {
    name,
    arn: role.arn,
    // The schema checked the ARN form arn:<partition>:iam::<account>:role/<name>.
    accountId: role.arn.split(':')[4] ?? '',
    sessionPolicy: role.sessionPolicy,
    maxDurationSeconds: role.maxDurationSeconds,
  };
}

function checkAccount(role: ConfiguredRole, account: unknown): void {
  if (account === undefined || account === role.accountId) {
    return;
  }
  throw new InputError(
    `AWS account ${JSON.stringify(account)} does not match role ${role.name}, which belongs to account ${role.accountId}: request a role of that account`,
    { details: [{ path: 'parameters.account', value: account, message: 'account mismatch' }] },
  );
}

/**
 * Returns the DurationSeconds of the call: the requested duration, capped by
 * the approval rule, the role's configured maximum and STS's 43,200 seconds.
 * A request for less than STS's 900 seconds receives 900, unless a cap is
 * below 900, which fails because STS cannot issue so short a session.
 */
function sessionSeconds(
  requested: unknown,
  ruleMaxSeconds: number | undefined,
  role: ConfiguredRole,
): number {
  if (requested !== undefined && (!Number.isInteger(requested) || (requested as number) < 1)) {
    throw new InputError(
      `durationSeconds ${JSON.stringify(requested)} is invalid: use a whole number of seconds from ${MIN_STS_DURATION_SECONDS} to ${MAX_STS_DURATION_SECONDS}`,
      { details: [{ path: 'parameters.durationSeconds', value: requested, message: 'invalid' }] },
    );
  }

  const cap = Math.min(
    ruleMaxSeconds ?? MAX_STS_DURATION_SECONDS,
    role.maxDurationSeconds ?? MAX_STS_DURATION_SECONDS,
    MAX_STS_DURATION_SECONDS,
  );
  if (cap < MIN_STS_DURATION_SECONDS) {
    throw new InputError(
      `AWS role ${role.name} is limited to ${cap} seconds by its approval rule, but STS issues sessions of at least ${MIN_STS_DURATION_SECONDS} seconds: raise the rule's maxDuration to 15 minutes or more`,
    );
  }
  const duration = (requested as number | undefined) ?? DEFAULT_STS_DURATION_SECONDS;
  return Math.max(MIN_STS_DURATION_SECONDS, Math.min(duration, cap));
}

/**
 * Turns an SDK error into a RetryableExecutionError for throttling, 5xx
 * responses and network faults, and into a PortalError for every other
 * fault. STS error messages name roles and accounts, never credentials.
 */
function translateStsError(error: unknown, role: ConfiguredRole): PortalError {
  const fault = error as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
    code?: unknown;
  };
  const name = fault.name ?? 'Error';
  const status = fault.$metadata?.httpStatusCode;
  const description = `STS AssumeRole of ${role.arn} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${fault.message ?? String(error)}`;

  if (name === 'CredentialsProviderError') {
    return new PortalError(
      'AWS_CREDENTIALS_MISSING',
      `${description}. Give the portal AWS credentials through the SDK's default chain, such as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile or an instance role`,
      { cause: error },
    );
  }
  // A system error code such as ECONNREFUSED or ETIMEDOUT means no response arrived.
  const networkFault =
    status === undefined && typeof fault.code === 'string' && /^E[A-Z]+$/.test(fault.code);
  if (
    networkFault ||
    (status !== undefined && status >= 500) ||
    status === 429 ||
    fault.$retryable !== undefined ||
    RETRYABLE_STS_ERRORS.has(name)
  ) {
    return new RetryableExecutionError(description, { cause: error });
  }
  return new PortalError('AWS_ASSUME_ROLE_FAILED', description, { cause: error });
}
