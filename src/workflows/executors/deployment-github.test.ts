import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import { RetryableExecutionError } from '../types.js';
import {
  createDeploymentGithubExecutor,
  type DeploymentGithubConfig,
  GITHUB_WORKFLOW_ANNOTATION,
  type GithubDispatchBody,
  parseGithubWorkflow,
} from './deployment-github.js';
import { ExecutionFailedError } from './http-delivery.js';
import {
  createCapturingLogger,
  deploymentRequest,
  duplicateKeys,
  executionContext,
  FIXED_NOW_MS,
  type ReceiverAnswer,
  runnerLogger,
  startTestReceiver,
  type TestReceiver,
} from './test-helpers.js';

const TOKEN = 'ghp_test0123456789abcdefghijklmnopqrstuv';

function component(name: string, annotations: Record<string, string> = {}): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default', annotations },
    spec: { type: 'service', lifecycle: 'production', owner: 'group:default/team-orders' },
  };
}

/** Creates a catalog lookup over a fixed set of entities, keyed by lowercase reference. */
function fakeCatalog(entities: Record<string, Entity>) {
  const lookups: string[] = [];
  return {
    lookups,
    readEntity: async (entityRef: string) => {
      lookups.push(entityRef);
      return entities[entityRef];
    },
  };
}

const catalog = fakeCatalog({
  'component:default/orders': component('orders', {
    [GITHUB_WORKFLOW_ANNOTATION]: 'acme/orders-service/deploy.yml',
  }),
  'component:default/billing': component('billing'),
  'component:default/broken': component('broken', {
    [GITHUB_WORKFLOW_ANNOTATION]: 'acme/deploy.yml',
  }),
});

describe('deployment GitHub executor', () => {
  let github: TestReceiver;
  let answer: () => ReceiverAnswer = () => ({ status: 204 });

  const githubConfig = (
    overrides: Partial<DeploymentGithubConfig> = {},
  ): DeploymentGithubConfig => ({
    apiUrl: `${github.origin}/api/v3/`,
    token: TOKEN,
    repository: 'acme/platform-deploys',
    workflow: 'release.yaml',
    ref: 'main',
    timeoutSeconds: 5,
    ...overrides,
  });

  before(async () => {
    github = await startTestReceiver(() => answer());
  });

  after(async () => {
    await github.close();
  });

  test('dispatches annotated workflow', async () => {
    answer = () => ({ status: 204 });
    const { logger, lines } = createCapturingLogger();
    const executor = createDeploymentGithubExecutor({
      config: githubConfig(),
      readEntity: catalog.readEntity,
      now: () => FIXED_NOW_MS,
    });
    const request = deploymentRequest();
    const first = github.received.length;

    const outcome = await executor.execute(
      executionContext(request, { logger: runnerLogger(logger, request) }),
    );

    assert.equal(executor.type, 'deployment');
    assert.equal(executor.trigger, 'automatic');
    assert.equal(github.received.length, first + 1);
    const call = github.received[first];
    assert.ok(call);
    assert.equal(call.method, 'POST');
    assert.equal(
      call.path,
      '/api/v3/repos/acme/orders-service/actions/workflows/deploy.yml/dispatches',
    );
    assert.equal(call.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(call.headers.accept, 'application/vnd.github+json');
    assert.equal(call.headers['x-github-api-version'], '2022-11-28');
    assert.equal(call.headers['content-type'], 'application/json');
    assert.equal(call.headers['user-agent'], 'backstage-luigi');

    const body = JSON.parse(call.body) as GithubDispatchBody;
    assert.deepEqual(Object.keys(body).sort(), ['inputs', 'ref']);
    assert.equal(body.ref, 'main');
    assert.deepEqual(Object.keys(body.inputs).sort(), [
      'entity',
      'environment',
      'idempotency_key',
      'request_id',
      'version',
    ]);
    assert.equal(body.inputs.entity, 'component:default/orders');
    assert.equal(body.inputs.environment, 'production');
    assert.equal(body.inputs.version, '1.4.2');
    assert.equal(body.inputs.request_id, request.id);
    assert.equal(body.inputs.idempotency_key, `deployment-${request.id}`);

    assert.equal(outcome.result.executor, 'github-actions');
    assert.equal(outcome.result.repository, 'acme/orders-service');
    assert.equal(outcome.result.workflow, 'deploy.yml');
    assert.equal(outcome.result.ref, 'main');
    assert.equal(outcome.result.status, 204);
    assert.equal(outcome.result.dispatchedAt, '2026-12-05T10:00:00.000Z');

    const logged = lines.join('\n');
    const dispatched = lines.find((line) => line.includes('deployment workflow dispatched'));
    assert.ok(dispatched, logged);
    assert.match(dispatched, new RegExp(request.id));
    assert.deepEqual(duplicateKeys(dispatched), [], dispatched);
    assert.doesNotMatch(logged, new RegExp(TOKEN));
  });

  test('falls back to configured workflow', async () => {
    answer = () => ({ status: 204 });
    const executor = createDeploymentGithubExecutor({
      config: githubConfig(),
      readEntity: catalog.readEntity,
    });
    const request = deploymentRequest({
      entityRef: 'component:default/billing',
      parameters: { environment: 'staging', gitRef: 'release/2026-12' },
    });
    const first = github.received.length;

    await executor.execute(executionContext(request));

    const call = github.received[first];
    assert.equal(
      call?.path,
      '/api/v3/repos/acme/platform-deploys/actions/workflows/release.yaml/dispatches',
    );
    const body = JSON.parse(call?.body ?? '{}') as GithubDispatchBody;
    assert.equal(body.ref, 'release/2026-12', 'a gitRef is the ref the workflow runs at');
    assert.equal(body.inputs.version, 'release/2026-12');
    assert.equal(body.inputs.entity, 'component:default/billing');
    assert.ok(catalog.lookups.includes('component:default/billing'));
  });

  test('no workflow fails permanently', async () => {
    const executor = createDeploymentGithubExecutor({
      config: githubConfig({ repository: undefined, workflow: undefined }),
      readEntity: catalog.readEntity,
    });
    const first = github.received.length;

    for (const entityRef of ['component:default/billing', 'component:default/missing']) {
      await assert.rejects(
        executor.execute(executionContext(deploymentRequest({ entityRef }))),
        (error) => {
          assert.ok(error instanceof ExecutionFailedError);
          assert.match(error.message, new RegExp(`entity ${entityRef}`));
          assert.match(error.message, /backstage-luigi\.io\/github-workflow annotation/);
          return true;
        },
      );
    }
    assert.equal(github.received.length, first, 'nothing may be sent');
  });

  test('invalid annotation fails permanently', async () => {
    const executor = createDeploymentGithubExecutor({
      config: githubConfig(),
      readEntity: catalog.readEntity,
    });

    await assert.rejects(
      executor.execute(
        executionContext(deploymentRequest({ entityRef: 'component:default/broken' })),
      ),
      (error) => {
        assert.ok(error instanceof ExecutionFailedError);
        assert.match(error.message, /'acme\/deploy\.yml' must have three parts/);
        return true;
      },
    );
  });

  test('failed entity lookup is retryable', async () => {
    const executor = createDeploymentGithubExecutor({
      config: githubConfig(),
      readEntity: async () => {
        throw new Error('database is locked');
      },
    });

    await assert.rejects(
      executor.execute(executionContext(deploymentRequest())),
      RetryableExecutionError,
    );
  });

  const statusCases: {
    name: string;
    reply: Extract<ReceiverAnswer, { status: number }>;
    retryable: boolean;
    message: RegExp;
  }[] = [
    {
      name: '422 names missing trigger',
      reply: {
        status: 422,
        body: '{"message":"Workflow does not have \'workflow_dispatch\' trigger"}',
      },
      retryable: false,
      message: /422: Workflow does not have 'workflow_dispatch' trigger: the workflow needs/,
    },
    {
      name: '401 asks for new token',
      reply: { status: 401, body: '{"message":"Bad credentials"}' },
      retryable: false,
      message: /401: Bad credentials: renew workflows\.deployment\.githubActions\.token/,
    },
    {
      name: '403 without rate limit',
      reply: { status: 403, body: '{"message":"Resource not accessible by integration"}' },
      retryable: false,
      message: /403: Resource not accessible by integration: give the token/,
    },
    {
      name: '403 rate limit is retryable',
      reply: {
        status: 403,
        body: '{"message":"API rate limit exceeded"}',
        headers: { 'x-ratelimit-remaining': '0' },
      },
      retryable: true,
      message: /403 for workflow acme\/orders-service\/deploy\.yml: API rate limit exceeded/,
    },
    {
      name: '404 names workflow',
      reply: { status: 404, body: '{"message":"Not Found"}' },
      retryable: false,
      message: /404 for workflow acme\/orders-service\/deploy\.yml: check the repository/,
    },
    {
      name: '429 is retryable',
      reply: { status: 429, body: '' },
      retryable: true,
      message: /429/,
    },
    {
      name: '502 is retryable',
      reply: { status: 502, body: 'bad gateway' },
      retryable: true,
      message: /502 for workflow .*: bad gateway/,
    },
    {
      name: '200 counts as dispatched',
      reply: { status: 200, body: '{}' },
      retryable: false,
      message: /^$/,
    },
  ];
  for (const { name, reply, retryable, message } of statusCases) {
    test(name, async () => {
      answer = () => reply;
      const executor = createDeploymentGithubExecutor({
        config: githubConfig(),
        readEntity: catalog.readEntity,
      });
      const running = executor.execute(executionContext(deploymentRequest()));

      if (reply.status === 200) {
        assert.equal((await running).result.status, 200);
        return;
      }
      await assert.rejects(running, (error) => {
        assert.equal(error instanceof RetryableExecutionError, retryable);
        assert.equal(error instanceof ExecutionFailedError, !retryable);
        assert.match((error as Error).message, message);
        assert.doesNotMatch((error as Error).message, new RegExp(TOKEN));
        return true;
      });
    });
  }
});

describe('parseGithubWorkflow', () => {
  const cases: { value: string; expected: ReturnType<typeof parseGithubWorkflow> | RegExp }[] = [
    {
      value: 'acme/orders/deploy.yml',
      expected: { owner: 'acme', repo: 'orders', workflow: 'deploy.yml' },
    },
    {
      value: 'acme/orders.api/161335',
      expected: { owner: 'acme', repo: 'orders.api', workflow: '161335' },
    },
    { value: 'acme/orders', expected: /must have three parts/ },
    { value: 'acme/orders/.github/workflows/deploy.yml', expected: /must have three parts/ },
    { value: 'ac me/orders/deploy.yml', expected: /owner 'ac me'/ },
    { value: 'acme/../deploy.yml', expected: /repository '\.\.'/ },
    { value: 'acme/orders/deploy.sh', expected: /workflow 'deploy\.sh'/ },
  ];
  for (const { value, expected } of cases) {
    test(`parses '${value}'`, () => {
      const parsed = parseGithubWorkflow(value);
      if (expected instanceof RegExp) {
        assert.equal(typeof parsed, 'string');
        assert.match(parsed as string, expected);
      } else {
        assert.deepEqual(parsed, expected);
      }
    });
  }
});
