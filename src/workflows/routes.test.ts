import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../test/support/databases.js';
import { HttpClient } from '../../test/support/http-client.js';
import { PROJECT_ROOT, startTestPortal, type TestPortal } from '../../test/support/portal.js';
import type { RequestDetails } from './index.js';
import type { RequestExecutor } from './types.js';

/**
 * The request API over HTTP with the example organisation, roles and
 * approval rules. Amara and Jonas are in booking-team, which owns
 * booking-api. Priya is in tracking-team, and Ines is in sre-team.
 */

const DEMO_PASSWORD = 'demo';
const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');

interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path?: string; message: string }> };
}

/** Records each deployment it runs; succeeds at once. */
function createRecordingExecutor(): RequestExecutor & { calls: string[] } {
  const calls: string[] = [];
  return {
    type: 'deployment',
    trigger: 'automatic',
    calls,
    async execute(context) {
      calls.push(context.idempotencyKey);
      return { result: { deployed: context.request.parameters.version } };
    },
  };
}

/** Returns a secret once per call, as the STS executor does. */
const credentialsExecutor: RequestExecutor = {
  type: 'aws-credentials',
  trigger: 'requester',
  async execute(context) {
    return {
      result: { role: context.request.parameters.role, expiresIn: 900 },
      secret: { accessKeyId: 'ASIATESTKEY', secretAccessKey: 'not-a-real-secret' },
    };
  },
};

describeEachDialect('workflow requests API', ({ dialect }) => {
  let started: TestPortal;
  const deployments = createRecordingExecutor();
  const clients: Record<string, HttpClient> = {};

  before(async () => {
    started = await startTestPortal({
      dialect,
      overrides: {
        catalog: {
          locations: [
            { type: 'file', target: ORGANISATION_FILE, rules: [{ allow: ['User', 'Group'] }] },
          ],
        },
        audit: { checkpoint: { intervalSeconds: 0 } },
        workflows: { engine: { pollIntervalSeconds: 0.2, retryBaseDelayMs: 10 } },
      },
      workflows: { executors: [deployments, credentialsExecutor] },
    });
    for (const user of ['amara', 'jonas', 'priya', 'ines', 'sofia']) {
      const client = new HttpClient(started.url);
      await client.signInWithDevelopmentProvider(user, DEMO_PASSWORD, '/');
      clients[user] = client;
    }
  });

  after(async () => {
    await started?.close();
  });

  const as = (user: string) => {
    const client = clients[user];
    assert.ok(client, `no client for ${user}`);
    return client;
  };

  async function post(user: string, url: string, json: unknown) {
    const response = await as(user).request(url, { method: 'POST', json });
    return { status: response.status, body: JSON.parse(response.body) as unknown };
  }

  async function createDeployment(user: string, environment: string, version = '1.0.0') {
    return await post(user, '/api/workflows/requests', {
      type: 'deployment',
      parameters: { entity: 'component:default/booking-api', environment, version },
      reason: 'release',
    });
  }

  async function waitForState(id: string, state: string): Promise<RequestDetails> {
    const deadline = Date.now() + 5000;
    while (true) {
      const response = await as('amara').request(`/api/workflows/requests/${id}`);
      const body = JSON.parse(response.body) as RequestDetails;
      if (body.state === state || Date.now() > deadline) {
        return body;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  test('lists request types with schemas', async () => {
    const response = await as('amara').request('/api/workflows/types');
    assert.equal(response.status, 200);
    const body = JSON.parse(response.body) as {
      items: Array<{ name: string; parameters: { properties?: Record<string, unknown> } }>;
    };
    assert.deepEqual(
      body.items.map((item) => item.name),
      ['aws-credentials', 'deployment', 'role-elevation'],
    );
    const deployment = body.items.find((item) => item.name === 'deployment');
    assert.ok(deployment?.parameters.properties?.environment);
  });

  test('role elevation offers the defined roles', async () => {
    const response = await as('amara').request('/api/workflows/types');
    const body = JSON.parse(response.body) as {
      items: Array<{
        name: string;
        parameters: { properties?: Record<string, { enum?: unknown[] }> };
      }>;
    };
    const elevation = body.items.find((item) => item.name === 'role-elevation');
    const roles = elevation?.parameters.properties?.role?.enum ?? [];
    const defined = started.portal.permissions
      .currentPolicy()
      .roles.roles.map((role) => role.name)
      .sort();
    assert.ok(defined.includes('site-reliability'), defined.join(', '));
    assert.deepEqual(roles, defined);
    const deployment = body.items.find((item) => item.name === 'deployment');
    assert.equal(deployment?.parameters.properties?.environment?.enum, undefined);
  });

  test('production deployment needs a teammate', async () => {
    const created = await createDeployment('amara', 'production');
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const request = created.body as RequestDetails;
    assert.equal(request.state, 'submitted');
    assert.equal(request.ruleId, 'deploy-production');
    assert.equal(request.requester, 'user:default/amara.okafor');

    const self = await post('amara', `/api/workflows/requests/${request.id}/approve`, {});
    assert.equal(self.status, 403);

    const outsider = await post('priya', `/api/workflows/requests/${request.id}/approve`, {});
    assert.equal(outsider.status, 403);

    const inbox = await as('jonas').request('/api/workflows/inbox');
    const items = (
      JSON.parse(inbox.body) as { items: Array<RequestDetails & { rule: { id: string } }> }
    ).items;
    const listed = items.find((item) => item.id === request.id);
    assert.ok(listed, 'the request is in the teammate inbox');
    assert.equal(listed.rule.id, 'deploy-production');
    assert.equal(listed.reason, 'release');

    const approved = await post('jonas', `/api/workflows/requests/${request.id}/approve`, {
      comment: 'looks good',
    });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));

    const finished = await waitForState(request.id, 'succeeded');
    assert.equal(finished.state, 'succeeded');
    assert.deepEqual(finished.result, { deployed: '1.0.0' });
    assert.equal(finished.attempts, 1);
    assert.deepEqual(
      finished.decisions.map((decision) => decision.approver),
      ['user:default/jonas.weber'],
    );

    const again = await post('jonas', `/api/workflows/requests/${request.id}/deny`, {});
    assert.equal(again.status, 409);

    const audit = await started.portal.audit.list({
      target: `workflow-request:${request.id}`,
      limit: 50,
    });
    assert.deepEqual(
      audit.map((record) => record.action),
      [
        'request.submitted',
        // amara approving her own request, then priya, who owns nothing of it.
        'permission.denied',
        'permission.denied',
        'request.approved',
        'request.executing',
        'request.succeeded',
      ],
    );
  });

  test('owner outside production is approved automatically', async () => {
    const created = await createDeployment('amara', 'staging', '2.0.0');
    assert.equal(created.status, 201);
    const request = created.body as RequestDetails;
    assert.equal(request.state, 'approved');
    assert.equal(request.ruleId, 'deploy-owner-outside-production');
    const finished = await waitForState(request.id, 'succeeded');
    assert.equal(finished.state, 'succeeded');
  });

  test('bad parameters name the field', async () => {
    const missing = await post('amara', '/api/workflows/requests', {
      type: 'deployment',
      parameters: { entity: 'component:default/booking-api', version: '1' },
    });
    assert.equal(missing.status, 400);
    const paths = (missing.body as ErrorBody).error.details.map((detail) => detail.path);
    assert.ok(paths.includes('parameters.environment'), JSON.stringify(paths));

    const unknown = await post('amara', '/api/workflows/requests', {
      type: 'coffee',
      parameters: {},
    });
    assert.equal(unknown.status, 400);
    assert.equal((unknown.body as ErrorBody).error.details[0]?.path, 'type');

    const both = await post('amara', '/api/workflows/requests', {
      type: 'deployment',
      parameters: {
        entity: 'component:default/booking-api',
        environment: 'production',
        version: '1',
        gitRef: 'main',
      },
    });
    assert.equal(both.status, 400);
    assert.equal((both.body as ErrorBody).error.details[0]?.path, 'parameters.version');

    const badId = await as('amara').request('/api/workflows/requests/not-an-id');
    assert.equal(badId.status, 400);

    const missingRequest = await as('amara').request(
      '/api/workflows/requests/00000000-0000-4000-8000-000000000000',
    );
    assert.equal(missingRequest.status, 404);
  });

  test('create on another team entity is denied', async () => {
    // priya reads every production API, but route-api belongs to routing-team.
    const denied = await post('priya', '/api/workflows/requests', {
      type: 'deployment',
      parameters: { entity: 'api:default/route-api', environment: 'staging', version: '1.0.0' },
    });
    assert.equal(denied.status, 403, JSON.stringify(denied.body));
    const audit = await started.portal.audit.list({ action: 'permission.denied', limit: 50 });
    assert.ok(
      audit.some(
        (record) =>
          record.actor === 'user:default/priya.raman' &&
          record.details.permission === 'deployment.request.create',
      ),
    );
  });

  test('requester cancels, others may not', async () => {
    const created = await createDeployment('amara', 'production', '3.0.0');
    const request = created.body as RequestDetails;
    const foreign = await post('jonas', `/api/workflows/requests/${request.id}/cancel`, {});
    assert.equal(foreign.status, 403);
    const cancelled = await post('amara', `/api/workflows/requests/${request.id}/cancel`, {});
    assert.equal(cancelled.status, 200);
    assert.equal((cancelled.body as RequestDetails).state, 'cancelled');
    const late = await post('jonas', `/api/workflows/requests/${request.id}/approve`, {});
    assert.equal(late.status, 409);
  });

  test('break-glass credentials reach review and collect', async () => {
    const created = await post('amara', '/api/workflows/requests', {
      type: 'aws-credentials',
      parameters: {
        entity: 'component:default/booking-api',
        role: 'deployer',
        environment: 'production',
        durationSeconds: 900,
      },
      reason: 'incident 42',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const request = created.body as RequestDetails;
    assert.equal(request.ruleId, 'aws-credentials-production');

    const tooLong = await post('amara', '/api/workflows/requests', {
      type: 'aws-credentials',
      parameters: {
        entity: 'component:default/booking-api',
        role: 'deployer',
        environment: 'production',
        durationSeconds: 7200,
      },
      reason: 'incident 42',
    });
    assert.equal(tooLong.status, 400);
    assert.equal((tooLong.body as ErrorBody).error.details[0]?.path, 'parameters.durationSeconds');

    const noComment = await post('amara', `/api/workflows/requests/${request.id}/approve`, {});
    assert.equal(noComment.status, 400);
    const selfApproved = await post('amara', `/api/workflows/requests/${request.id}/approve`, {
      comment: 'database is down, SRE unreachable',
    });
    assert.equal(selfApproved.status, 200, JSON.stringify(selfApproved.body));
    assert.equal((selfApproved.body as RequestDetails).breakGlass, true);

    const forbiddenQueue = await as('amara').request('/api/workflows/review');
    assert.equal(forbiddenQueue.status, 403);
    const queue = await as('ines').request('/api/workflows/review');
    assert.equal(queue.status, 200);
    const queued = (JSON.parse(queue.body) as { items: RequestDetails[] }).items;
    assert.ok(queued.some((item) => item.id === request.id));

    const foreignCollect = await post('jonas', `/api/workflows/requests/${request.id}/collect`, {});
    assert.equal(foreignCollect.status, 403);
    const collected = await as('amara').request(`/api/workflows/requests/${request.id}/collect`, {
      method: 'POST',
      json: {},
    });
    assert.equal(collected.status, 200, collected.body);
    assert.equal(collected.headers.get('cache-control'), 'no-store');
    const collectedBody = JSON.parse(collected.body) as {
      request: RequestDetails;
      secret: Record<string, string>;
    };
    assert.equal(collectedBody.secret.secretAccessKey, 'not-a-real-secret');
    assert.equal(collectedBody.request.state, 'succeeded');

    const reread = await as('amara').request(`/api/workflows/requests/${request.id}`);
    assert.ok(!reread.body.includes('not-a-real-secret'));
    const twice = await post('amara', `/api/workflows/requests/${request.id}/collect`, {});
    assert.equal(twice.status, 409);

    const reviewed = await post('ines', `/api/workflows/requests/${request.id}/review`, {
      comment: 'incident confirmed',
    });
    assert.equal(reviewed.status, 200);
    const reviewedAgain = await post('ines', `/api/workflows/requests/${request.id}/review`, {});
    assert.equal(reviewedAgain.status, 409);

    const records = await started.portal.audit.list({
      target: `workflow-request:${request.id}`,
      limit: 50,
    });
    assert.ok(!JSON.stringify(records).includes('not-a-real-secret'));
  });

  test('requester may not review own break-glass request', async () => {
    const created = await post('ines', '/api/workflows/requests', {
      type: 'aws-credentials',
      parameters: {
        entity: 'component:default/metrics-gateway',
        role: 'deployer',
        environment: 'production',
        durationSeconds: 900,
      },
      reason: 'incident 43',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const request = created.body as RequestDetails;
    const selfApproved = await post('ines', `/api/workflows/requests/${request.id}/approve`, {
      comment: 'metrics are down, nobody else on call',
    });
    assert.equal(selfApproved.status, 200, JSON.stringify(selfApproved.body));

    const ownReview = await post('ines', `/api/workflows/requests/${request.id}/review`, {
      comment: 'all fine',
    });
    assert.equal(ownReview.status, 403, JSON.stringify(ownReview.body));
    assert.match((ownReview.body as ErrorBody).error.message, /is your own/);

    const reread = await as('ines').request(`/api/workflows/requests/${request.id}`);
    const details = JSON.parse(reread.body) as RequestDetails;
    assert.equal(details.review?.pending, true, JSON.stringify(details.review));
    const denials = await started.portal.audit.list({ action: 'permission.denied', limit: 50 });
    assert.ok(
      denials.some(
        (record) =>
          record.target === `workflow-request:${request.id}` &&
          record.details.permission === 'request.review',
      ),
    );
  });

  test('hidden entity is refused like a missing one', async () => {
    // amara may not read card-vault-db, and no entity ghost-service exists.
    const answers = [];
    for (const entity of ['resource:default/card-vault-db', 'component:default/ghost-service']) {
      for (const body of [
        { type: 'deployment', parameters: { entity, environment: 'staging', version: '1.0.0' } },
        {
          type: 'aws-credentials',
          parameters: { entity, role: 'deployer', environment: 'staging', durationSeconds: 900 },
          reason: 'debugging',
        },
      ]) {
        const response = await post('amara', '/api/workflows/requests', body);
        assert.equal(
          response.status,
          400,
          `${body.type} ${entity}: ${JSON.stringify(response.body)}`,
        );
        const error = (response.body as ErrorBody).error;
        assert.equal(error.details[0]?.path, 'parameters.entity');
        answers.push(JSON.stringify(error).replaceAll(entity, 'ENTITY'));
      }
    }
    assert.equal(answers[0], answers[2], 'deployment: hidden and missing read the same');
    assert.equal(answers[1], answers[3], 'aws-credentials: hidden and missing read the same');
    assert.ok(!answers.some((answer) => answer.includes('Permission')), answers.join('\n'));
  });

  test('denied approval does not name a hidden entity', async () => {
    const created = await createDeployment('amara', 'production', '4.0.0');
    const request = created.body as RequestDetails;
    const denied = await post('priya', `/api/workflows/requests/${request.id}/approve`, {});
    assert.equal(denied.status, 403);
    assert.doesNotMatch((denied.body as ErrorBody).error.message, /booking-api/);
    const read = await as('priya').request(`/api/workflows/requests/${request.id}`);
    assert.equal(read.status, 403);
    assert.doesNotMatch(read.body, /booking-api|amara/);
  });

  test('role elevation applies at once', async () => {
    const vault = '/api/catalog/entities/by-name/resource/default/card-vault-db';
    assert.equal((await as('amara').request(vault)).status, 404);

    const unknownRole = await post('amara', '/api/workflows/requests', {
      type: 'role-elevation',
      parameters: { role: 'no-such-role', durationSeconds: 600 },
      reason: 'card data incident',
    });
    assert.equal(unknownRole.status, 400);
    assert.equal((unknownRole.body as ErrorBody).error.details[0]?.path, 'parameters.role');

    const created = await post('amara', '/api/workflows/requests', {
      type: 'role-elevation',
      parameters: { role: 'security-reviewer', durationSeconds: 600 },
      reason: 'card data incident',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const request = created.body as RequestDetails;
    const approved = await post('sofia', `/api/workflows/requests/${request.id}/approve`, {
      comment: 'for the incident',
    });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));

    const done = await waitForState(request.id, 'succeeded');
    assert.equal(done.state, 'succeeded', JSON.stringify(done.result));
    assert.equal((await as('amara').request(vault)).status, 200);
    assert.equal((await as('jonas').request(vault)).status, 404);
  });

  test('lists own requests only', async () => {
    const response = await as('jonas').request('/api/workflows/requests');
    assert.equal(response.status, 200);
    const body = JSON.parse(response.body) as { items: RequestDetails[] };
    assert.ok(body.items.every((item) => item.requester === 'user:default/jonas.weber'));
    const amara = await as('amara').request('/api/workflows/requests?state=succeeded');
    const amaraItems = (JSON.parse(amara.body) as { items: RequestDetails[] }).items;
    assert.ok(amaraItems.length >= 2);
    assert.ok(amaraItems.every((item) => item.state === 'succeeded'));
  });
});
