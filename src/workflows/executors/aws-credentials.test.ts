import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { awsCredentialsExecutorSchema } from '../../config/schema.js';
import { InputError, PortalError } from '../../errors/index.js';
import type { Principal } from '../../permissions/index.js';
import { type ExecutionContext, RetryableExecutionError, type WorkflowRequest } from '../types.js';
import { type AwsCredentialsConfig, createAwsCredentialsExecutor } from './aws-credentials.js';

const REQUEST_ID = '3f1c9a52-7d4e-4b8a-9c61-0e2f5a7b8c9d';
const ACCESS_KEY_ID = 'ASIAPORTALTESTKEY0001';
const SECRET_ACCESS_KEY = 'wJalrXUtnPORTALTESTsecretKEY/0123456789ab';
const SESSION_TOKEN = 'FwoGZXIvYXdzPORTALTESTsessionTOKEN+abcdefghijklmnop==';
const SIGNING_KEY_ID = 'AKIDPORTALTEST';
const SIGNING_SECRET = 'portal-test-signing-secret';

const SESSION_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
};

const ada: Principal = {
  userEntityRef: 'user:default/ada',
  ownershipEntityRefs: ['user:default/ada', 'group:default/payments'],
  groupEntityRefs: ['group:default/payments', 'group:default/sre'],
};

/** What the local STS endpoint received in one call. */
interface StsCall {
  headers: IncomingHttpHeaders;
  params: URLSearchParams;
}

type StsReply = { status: number; body: string };

function assumeRoleReply(params: URLSearchParams): StsReply {
  const sessionName = params.get('RoleSessionName') ?? '';
  return {
    status: 200,
    body: `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>${params.get('SourceIdentity')}</SourceIdentity>
    <AssumedRoleUser>
      <AssumedRoleId>AROAPORTALTEST:${sessionName}</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/deployer/${sessionName}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${ACCESS_KEY_ID}</AccessKeyId>
      <SecretAccessKey>${SECRET_ACCESS_KEY}</SecretAccessKey>
      <SessionToken>${SESSION_TOKEN}</SessionToken>
      <Expiration>2026-12-05T11:00:00Z</Expiration>
    </Credentials>
    <PackedPolicySize>7</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>`,
  };
}

function errorReply(status: number, code: string, message: string): StsReply {
  return {
    status,
    body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>
  <RequestId>0c8d2e9a-1b7f-4c3e-9a5d-6f4b2e1d0c9a</RequestId>
</ErrorResponse>`,
  };
}

function requestOf(
  parameters: Record<string, unknown>,
  requester = ada.userEntityRef,
): WorkflowRequest {
  return {
    id: REQUEST_ID,
    type: 'aws-credentials',
    requester,
    entityRef: null,
    parameters,
    reason: 'investigate failed payouts',
    state: 'executing',
    ruleId: 'aws-credentials',
    breakGlass: false,
    createdAt: '2026-12-05T10:00:00.000Z',
    updatedAt: '2026-12-05T10:00:00.000Z',
    expiresAt: null,
    attempts: 0,
    result: null,
  };
}

describe('aws-credentials executor', () => {
  let server: Server;
  let endpoint: string;
  const calls: StsCall[] = [];
  let reply: (params: URLSearchParams) => StsReply = assumeRoleReply;
  let logLines: string[] = [];

  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        calls.push({ headers: request.headers, params });
        const { status, body } = reply(params);
        response.writeHead(status, { 'content-type': 'text/xml' });
        response.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    calls.length = 0;
    reply = assumeRoleReply;
    logLines = [];
  });

  function configOf(roles: Record<string, unknown> = {}): AwsCredentialsConfig {
    return awsCredentialsExecutorSchema.parse({
      region: 'eu-central-1',
      endpoint,
      roles: {
        deployer: {
          arn: 'arn:aws:iam::123456789012:role/deployer',
          sessionPolicy: SESSION_POLICY,
          maxDurationSeconds: 7200,
        },
        reader: { arn: 'arn:aws:iam::210987654321:role/read-only' },
        ...roles,
      },
    });
  }

  function contextOf(
    request: WorkflowRequest,
    maxDurationSeconds: number | undefined,
    requester: Principal = ada,
  ): ExecutionContext {
    const destination = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    return {
      request,
      idempotencyKey: request.id,
      attempt: 1,
      requester,
      maxDurationSeconds,
      signal: new AbortController().signal,
      logger: pino({ level: 'debug' }, destination),
    };
  }

  function executorOf(config = configOf()) {
    return createAwsCredentialsExecutor(config, {
      credentials: { accessKeyId: SIGNING_KEY_ID, secretAccessKey: SIGNING_SECRET },
      maxAttempts: 1,
    });
  }

  test('sends every AssumeRole parameter', async () => {
    await executorOf().execute(
      contextOf(
        requestOf({ role: 'deployer', account: '123456789012', durationSeconds: 5400 }),
        3600,
      ),
    );

    assert.equal(calls.length, 1);
    const { params } = calls[0] as StsCall;
    assert.equal(params.get('Action'), 'AssumeRole');
    assert.equal(params.get('Version'), '2011-06-15');
    assert.equal(params.get('RoleArn'), 'arn:aws:iam::123456789012:role/deployer');
    assert.equal(params.get('RoleSessionName'), `ada@${REQUEST_ID}`);
    assert.equal(params.get('SourceIdentity'), 'ada');
    assert.equal(params.get('DurationSeconds'), '3600');
    assert.equal(params.get('Tags.member.1.Key'), 'request-id');
    assert.equal(params.get('Tags.member.1.Value'), REQUEST_ID);
    assert.equal(params.get('Tags.member.2.Key'), 'team');
    assert.equal(params.get('Tags.member.2.Value'), 'payments:sre');
    assert.equal(params.get('Tags.member.3.Key'), null);
    assert.equal(params.get('Policy'), JSON.stringify(SESSION_POLICY));
  });

  test('signs the call with SigV4', async () => {
    await executorOf().execute(
      contextOf(requestOf({ role: 'deployer', durationSeconds: 900 }), undefined),
    );

    const { headers } = calls[0] as StsCall;
    assert.match(
      headers.authorization ?? '',
      /^AWS4-HMAC-SHA256 Credential=AKIDPORTALTEST\/\d{8}\/eu-central-1\/sts\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/,
    );
    assert.match(String(headers['x-amz-date']), /^\d{8}T\d{6}Z$/);
    assert.equal(headers['content-type'], 'application/x-www-form-urlencoded');
  });

  test('returns credentials only as the secret', async () => {
    const outcome = await executorOf().execute(
      contextOf(requestOf({ role: 'deployer', durationSeconds: 1800 }), undefined),
    );

    assert.deepEqual(outcome.secret, {
      AccessKeyId: ACCESS_KEY_ID,
      SecretAccessKey: SECRET_ACCESS_KEY,
      SessionToken: SESSION_TOKEN,
      Expiration: '2026-12-05T11:00:00.000Z',
    });
    assert.deepEqual(outcome.result, {
      role: 'deployer',
      roleArn: 'arn:aws:iam::123456789012:role/deployer',
      assumedRoleArn: `arn:aws:sts::123456789012:assumed-role/deployer/ada@${REQUEST_ID}`,
      assumedRoleId: `AROAPORTALTEST:ada@${REQUEST_ID}`,
      roleSessionName: `ada@${REQUEST_ID}`,
      sourceIdentity: 'ada',
      durationSeconds: 1800,
      expiration: '2026-12-05T11:00:00.000Z',
    });
  });

  test('logs no credential', async () => {
    await executorOf().execute(
      contextOf(requestOf({ role: 'deployer', durationSeconds: 900 }), undefined),
    );

    const logged = logLines.join('');
    assert.match(logged, /AWS role assumed/);
    for (const secret of [ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN, SIGNING_SECRET]) {
      assert.equal(logged.includes(secret), false, `the log contains ${secret}`);
    }
  });

  test('role by ARN without session policy', async () => {
    await executorOf().execute(
      contextOf(
        requestOf({ role: 'arn:aws:iam::210987654321:role/read-only', durationSeconds: 900 }),
        undefined,
      ),
    );

    const { params } = calls[0] as StsCall;
    assert.equal(params.get('RoleArn'), 'arn:aws:iam::210987654321:role/read-only');
    assert.equal(params.has('Policy'), false);
  });

  test('unknown role names configured roles', async () => {
    await assert.rejects(
      executorOf().execute(
        contextOf(requestOf({ role: 'admin', durationSeconds: 900 }), undefined),
      ),
      (error: unknown) =>
        error instanceof InputError &&
        error.message ===
          'AWS role "admin" is not configured: request one of deployer, reader, or add it to workflows.awsCredentials.roles',
    );
    assert.equal(calls.length, 0);
  });

  test('account must match the role', async () => {
    await assert.rejects(
      executorOf().execute(
        contextOf(
          requestOf({ role: 'deployer', account: '999999999999', durationSeconds: 900 }),
          undefined,
        ),
      ),
      /AWS account "999999999999" does not match role deployer, which belongs to account 123456789012/,
    );
    assert.equal(calls.length, 0);
  });

  const durationCases: Array<{
    name: string;
    requested: number | undefined;
    ruleMax: number | undefined;
    sent: string;
  }> = [
    { name: 'requested within limits', requested: 1800, ruleMax: 3600, sent: '1800' },
    { name: 'capped by the rule', requested: 5400, ruleMax: 3600, sent: '3600' },
    { name: 'capped by the role', requested: 10_800, ruleMax: undefined, sent: '7200' },
    { name: 'raised to the STS minimum', requested: 300, ruleMax: 3600, sent: '900' },
    { name: 'STS default without request', requested: undefined, ruleMax: undefined, sent: '3600' },
  ];
  for (const { name, requested, ruleMax, sent } of durationCases) {
    test(`duration ${name}`, async () => {
      const parameters =
        requested === undefined
          ? { role: 'deployer' }
          : { role: 'deployer', durationSeconds: requested };
      const outcome = await executorOf().execute(contextOf(requestOf(parameters), ruleMax));

      assert.equal(calls[0]?.params.get('DurationSeconds'), sent);
      assert.equal(outcome.result.durationSeconds, Number(sent));
    });
  }

  test('rule cap below STS minimum fails', async () => {
    await assert.rejects(
      executorOf().execute(contextOf(requestOf({ role: 'deployer', durationSeconds: 900 }), 600)),
      /limited to 600 seconds by its approval rule, but STS issues sessions of at least 900 seconds/,
    );
    assert.equal(calls.length, 0);
  });

  test('sanitises names and tags', async () => {
    const requester: Principal = {
      userEntityRef: 'user:ops/grace hopper',
      ownershipEntityRefs: ['user:ops/grace hopper', 'group:ops/on-call'],
      groupEntityRefs: ['group:ops/on-call', 'group:default/platform'],
    };

    await executorOf().execute(
      contextOf(
        requestOf({ role: 'deployer', durationSeconds: 900 }, requester.userEntityRef),
        undefined,
        requester,
      ),
    );

    const { params } = calls[0] as StsCall;
    assert.equal(params.get('SourceIdentity'), 'ops.grace-hopper');
    assert.equal(params.get('RoleSessionName'), `ops.grace-hopper@${REQUEST_ID}`);
    assert.equal(params.get('Tags.member.2.Value'), 'ops.on-call:platform');
  });

  const faultCases: Array<{ name: string; reply: StsReply; retryable: boolean; code: string }> = [
    {
      name: 'throttling is retryable',
      reply: errorReply(400, 'Throttling', 'Rate exceeded'),
      retryable: true,
      code: 'EXECUTION_RETRYABLE',
    },
    {
      name: '503 is retryable',
      reply: errorReply(503, 'ServiceUnavailable', 'Service unavailable'),
      retryable: true,
      code: 'EXECUTION_RETRYABLE',
    },
    {
      name: 'access denied is permanent',
      reply: errorReply(403, 'AccessDenied', 'not authorized to perform sts:AssumeRole'),
      retryable: false,
      code: 'AWS_ASSUME_ROLE_FAILED',
    },
    {
      name: 'validation error is permanent',
      reply: errorReply(400, 'ValidationError', 'DurationSeconds exceeds the MaxSessionDuration'),
      retryable: false,
      code: 'AWS_ASSUME_ROLE_FAILED',
    },
  ];
  for (const fault of faultCases) {
    test(`STS fault: ${fault.name}`, async () => {
      reply = () => fault.reply;

      await assert.rejects(
        executorOf().execute(
          contextOf(requestOf({ role: 'deployer', durationSeconds: 900 }), undefined),
        ),
        (error: unknown) =>
          error instanceof PortalError &&
          error.code === fault.code &&
          error instanceof RetryableExecutionError === fault.retryable &&
          error.message.startsWith(
            'STS AssumeRole of arn:aws:iam::123456789012:role/deployer failed',
          ),
      );
      assert.match(logLines.join(''), /AWS AssumeRole failed/);
    });
  }

  test('refused connection is retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const config = { ...configOf(), endpoint: `http://127.0.0.1:${port}` };

    await assert.rejects(
      executorOf(config).execute(
        contextOf(requestOf({ role: 'deployer', durationSeconds: 900 }), undefined),
      ),
      RetryableExecutionError,
    );
  });
});

describe('aws-credentials config', () => {
  const base = {
    region: 'eu-central-1',
    roles: { deployer: { arn: 'arn:aws:iam::123456789012:role/deployer' } },
  };

  const invalidCases: Array<{ name: string; config: unknown; message: RegExp }> = [
    {
      name: 'region',
      config: { ...base, region: 'Frankfurt' },
      message: /must be an AWS Region such as eu-central-1/,
    },
    { name: 'empty roles', config: { ...base, roles: {} }, message: /must list at least one role/ },
    {
      name: 'role ARN',
      config: { ...base, roles: { deployer: { arn: 'arn:aws:iam::123:user/ada' } } },
      message: /must be an IAM role ARN/,
    },
    {
      name: 'session policy JSON',
      config: {
        ...base,
        roles: { deployer: { arn: base.roles.deployer.arn, sessionPolicy: '{"Version":' } },
      },
      message: /must be JSON text of an IAM policy/,
    },
    {
      name: 'session policy length',
      config: {
        ...base,
        roles: {
          deployer: { arn: base.roles.deployer.arn, sessionPolicy: { Sid: 'x'.repeat(2100) } },
        },
      },
      message: /is 2110 characters as compact JSON; STS accepts at most 2048/,
    },
    {
      name: 'role duration',
      config: {
        ...base,
        roles: { deployer: { arn: base.roles.deployer.arn, maxDurationSeconds: 600 } },
      },
      message: /Too small|>=900/,
    },
  ];
  for (const { name, config, message } of invalidCases) {
    test(`rejects invalid ${name}`, () => {
      const parsed = awsCredentialsExecutorSchema.safeParse(config);

      assert.equal(parsed.success, false);
      assert.match(parsed.error?.issues.map((issue) => issue.message).join('\n') ?? '', message);
    });
  }

  test('session policy text becomes compact JSON', () => {
    const parsed = awsCredentialsExecutorSchema.parse({
      ...base,
      roles: {
        deployer: { arn: base.roles.deployer.arn, sessionPolicy: '{ "Version": "2012-10-17" }' },
      },
    });

    assert.equal(parsed.roles.deployer?.sessionPolicy, '{"Version":"2012-10-17"}');
  });
});
