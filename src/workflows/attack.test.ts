import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../test/support/databases.js';
import { HttpClient } from '../../test/support/http-client.js';
import { PROJECT_ROOT, startTestPortal, type TestPortal } from '../../test/support/portal.js';
import { ConfigError } from '../errors/index.js';
import type { RequestDetails } from './index.js';
import { parseApprovalRules } from './rules-file.js';
import { ApprovalRulesSource } from './rules-watch.js';
import type { RequestExecutor } from './types.js';

/**
 * Hostile input and authorisation probes against the request API, with the
 * example organisation. Amara and Jonas are in booking-team, which owns
 * booking-api. Priya is in tracking-team, and Ines is in sre-team. The roles
 * and approval rules are copies in a temporary folder, so a test can change
 * them while the portal runs.
 */

const DEMO_PASSWORD = 'demo';
const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');
const BOOKING_API = 'component:default/booking-api';

interface ErrorBody {
  error: {
    code: string;
    message: string;
    details?: Array<{ path?: string; value?: unknown; message: string }>;
  };
}

/** Returns a secret on every call, as the STS executor does. */
const credentialsExecutor: RequestExecutor = {
  type: 'aws-credentials',
  trigger: 'requester',
  async execute(context) {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return {
      result: { role: context.request.parameters.role },
      secret: { secretAccessKey: `secret-of-${context.request.id}` },
    };
  },
};

/** Deployments succeed at once. */
const deploymentExecutor: RequestExecutor = {
  type: 'deployment',
  trigger: 'automatic',
  async execute() {
    return { result: { deployed: true } };
  },
};

describeEachDialect('workflow requests API under attack', ({ dialect }) => {
  let started: TestPortal;
  let folder: string;
  let rolesFile: string;
  const clients: Record<string, HttpClient> = {};

  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'workflow-attack-'));
    rolesFile = path.join(folder, 'roles.yaml');
    await writeFile(rolesFile, await readFile(path.join(PROJECT_ROOT, 'examples', 'roles.yaml')));
    const rules = await readFile(
      path.join(PROJECT_ROOT, 'examples', 'approval-rules.yaml'),
      'utf8',
    );
    // A rule whose requests expire at once, for decisions after expiry.
    const expiring = [
      'rules:',
      '  - id: deploy-expiring',
      '    match:',
      '      types: [deployment]',
      '      environments: [expiring]',
      '    approvals:',
      '      from: [owners]',
      '    pendingLifetime: 1s',
    ].join('\n');
    await writeFile(
      path.join(folder, 'approval-rules.yaml'),
      `${expiring}\n${rules.slice(rules.indexOf('rules:') + 'rules:'.length)}`,
    );

    started = await startTestPortal({
      dialect,
      overrides: {
        catalog: {
          locations: [
            { type: 'file', target: ORGANISATION_FILE, rules: [{ allow: ['User', 'Group'] }] },
          ],
        },
        permission: { rolesFile },
        audit: { checkpoint: { intervalSeconds: 0 } },
        workflows: {
          rulesFile: path.join(folder, 'approval-rules.yaml'),
          engine: { pollIntervalSeconds: 0.2, retryBaseDelayMs: 10 },
        },
      },
      workflows: { executors: [deploymentExecutor, credentialsExecutor] },
    });
    for (const user of ['amara', 'jonas', 'priya', 'ines', 'sofia']) {
      const client = new HttpClient(started.url);
      await client.signInWithDevelopmentProvider(user, DEMO_PASSWORD, '/');
      clients[user] = client;
    }
  });

  after(async () => {
    await started?.close();
    await rm(folder, { recursive: true, force: true });
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

  async function create(user: string, body: unknown) {
    return await post(user, '/api/workflows/requests', body);
  }

  async function deployment(user: string, environment: string, extra: object = {}) {
    const created = await create(user, {
      type: 'deployment',
      parameters: { entity: BOOKING_API, environment, version: '1.0.0' },
      reason: 'release',
      ...extra,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as RequestDetails;
  }

  function assertInputError(
    response: { status: number; body: unknown },
    field: string,
    label: string,
  ) {
    assert.equal(response.status, 400, `${label}: ${JSON.stringify(response.body)}`);
    const error = (response.body as ErrorBody).error;
    const paths = (error.details ?? []).map((detail) => detail.path);
    assert.ok(
      paths.includes(field) || error.message.includes(field),
      `${label}: expected ${field} in ${JSON.stringify(error)}`,
    );
  }

  test('wrong types and unknown fields name the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ type: 42, parameters: {} }, 'type'],
      [{ type: 'deployment', parameters: 'x' }, 'parameters'],
      [{ type: 'deployment', parameters: [] }, 'parameters'],
      [{ type: 'deployment', parameters: {}, reason: 7 }, 'reason'],
      [{ type: 'deployment', parameters: {}, extra: true }, 'extra'],
      [
        {
          type: 'deployment',
          parameters: { entity: BOOKING_API, environment: 'staging', version: 1 },
        },
        'parameters.version',
      ],
      [
        {
          type: 'deployment',
          parameters: { entity: BOOKING_API, environment: 'Prod uction', version: '1' },
        },
        'parameters.environment',
      ],
      [
        {
          type: 'deployment',
          parameters: { entity: BOOKING_API, environment: 'staging', version: '1', x: 1 },
        },
        'parameters.x',
      ],
      [
        {
          type: 'deployment',
          parameters: { entity: { kind: 'component' }, environment: 'staging', version: '1' },
        },
        'parameters.entity',
      ],
      [
        {
          type: 'role-elevation',
          parameters: { role: 'security-reviewer', durationSeconds: 900.5 },
          reason: 'r',
        },
        'parameters.durationSeconds',
      ],
      [
        {
          type: 'role-elevation',
          parameters: { role: 'security-reviewer', durationSeconds: -60 },
          reason: 'r',
        },
        'parameters.durationSeconds',
      ],
      [
        {
          type: 'role-elevation',
          parameters: { role: 'security-reviewer', durationSeconds: 1e308 },
          reason: 'r',
        },
        'parameters.durationSeconds',
      ],
      [
        {
          type: 'role-elevation',
          parameters: { role: 'security-reviewer', durationSeconds: '600' },
          reason: 'r',
        },
        'parameters.durationSeconds',
      ],
    ];
    for (const [body, field] of cases) {
      assertInputError(await create('amara', body), field, JSON.stringify(body));
    }
  });

  test('deep nesting and huge strings are rejected', async () => {
    // Written by hand, because JSON.stringify itself overflows at this depth.
    const nested = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    const deep = await postRaw(
      as('amara'),
      '/api/workflows/requests',
      `{"type":"deployment","parameters":${nested}}`,
    );
    assert.equal(deep.status, 400, deep.body.slice(0, 300));
    assert.match(deep.body, /parameters/);

    const longReason = await create('amara', {
      type: 'deployment',
      parameters: { entity: BOOKING_API, environment: 'production', version: '1' },
      reason: 'x'.repeat(5000),
    });
    assertInputError(longReason, 'reason', 'long reason');

    const longVersion = await create('amara', {
      type: 'deployment',
      parameters: { entity: BOOKING_API, environment: 'production', version: 'v'.repeat(129) },
    });
    assertInputError(longVersion, 'parameters.version', 'long version');

    const huge = await as('amara').request('/api/workflows/requests', {
      method: 'POST',
      json: { type: 'deployment', parameters: {}, reason: 'x'.repeat(3 * 1024 * 1024) },
    });
    assert.equal(huge.status, 413, huge.body.slice(0, 300));
    assert.match(huge.body, /"code"/);
  });

  test('prototype keys change nothing', async () => {
    for (const body of [
      `{"type":"deployment","parameters":{"entity":"${BOOKING_API}","environment":"staging","version":"1","__proto__":{"admin":true}}}`,
      `{"type":"deployment","__proto__":{"reason":"x"},"parameters":{}}`,
      `{"type":"deployment","constructor":{"prototype":{"admin":true}},"parameters":{}}`,
      `{"type":"__proto__","parameters":{}}`,
      `{"type":"constructor","parameters":{}}`,
      `{"type":"toString","parameters":{}}`,
    ]) {
      const response = await postRaw(as('amara'), '/api/workflows/requests', body);
      assert.equal(response.status, 400, `${body}: ${response.status} ${response.body}`);
    }
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });

  test('NUL and control characters in texts are refused with a 400', async () => {
    const nulReason = await create('amara', {
      type: 'deployment',
      parameters: { entity: BOOKING_API, environment: 'production', version: '1' },
      reason: 'bad\u0000reason',
    });
    assertInputError(nulReason, 'reason', 'NUL reason');

    for (const [field, value] of [
      ['version', '1\u0000'],
      ['version', '1.0\n2.0'],
      ['gitRef', 'main\u0007'],
    ] as const) {
      const response = await create('amara', {
        type: 'deployment',
        parameters: { entity: BOOKING_API, environment: 'production', [field]: value },
      });
      assertInputError(response, `parameters.${field}`, JSON.stringify(value));
    }
    const nulRole = await create('amara', {
      type: 'role-elevation',
      parameters: { role: 'security-reviewer\u0000', durationSeconds: 600 },
      reason: 'incident',
    });
    assertInputError(nulRole, 'parameters.role', 'NUL role');

    const unicode = await deployment('amara', 'production', {
      reason: 'r\u00e9l\u00e9ase \u{1F680} \u202Eevil\nsecond line',
    });
    const reread = await as('amara').request(`/api/workflows/requests/${unicode.id}`);
    assert.equal(reread.status, 200);
    assert.equal((JSON.parse(reread.body) as RequestDetails).reason, unicode.reason);

    const request = await deployment('amara', 'production');
    const nulComment = await post('jonas', `/api/workflows/requests/${request.id}/deny`, {
      comment: 'no\u0000',
    });
    assertInputError(nulComment, 'comment', 'NUL comment');
    const unchanged = await as('amara').request(`/api/workflows/requests/${request.id}`);
    assert.equal((JSON.parse(unchanged.body) as RequestDetails).state, 'submitted');
  });

  test('entity references in odd forms', async () => {
    const upper = await create('amara', {
      type: 'deployment',
      parameters: {
        entity: 'Component:Default/Booking-API',
        environment: 'production',
        version: '1',
      },
    });
    assert.equal(upper.status, 201, JSON.stringify(upper.body));
    assert.equal((upper.body as RequestDetails).entityRef, BOOKING_API);

    for (const entity of [
      'component:other/booking-api',
      'group:default/booking-team',
      'component:default/../booking-api',
      'component:default/booking-api/extra',
      ':/',
      ' ',
    ]) {
      const response = await create('amara', {
        type: 'deployment',
        parameters: { entity, environment: 'production', version: '1' },
      });
      assert.ok(
        response.status === 400 || response.status === 403,
        `${entity}: ${response.status} ${JSON.stringify(response.body)}`,
      );
    }
  });

  test('control characters in entity references are a 400, not a database fault', async () => {
    // PostgreSQL rejects a NUL in a compared text, which was a 500 here.
    for (const entity of [
      'component:default/booking-api\u0000',
      'component:default/booking\u0007api',
    ]) {
      const response = await create('amara', {
        type: 'deployment',
        parameters: { entity, environment: 'production', version: '1' },
      });
      assertInputError(response, 'parameters.entity', JSON.stringify(entity));
    }
  });

  test('role names from the prototype chain are unknown roles', async () => {
    for (const role of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const response = await create('amara', {
        type: 'role-elevation',
        parameters: { role, durationSeconds: 600 },
        reason: 'incident',
      });
      assertInputError(response, 'parameters.role', role);
    }
  });

  test('non-JSON bodies and wrong content types', async () => {
    const cases: Array<[string, string]> = [
      ['text/plain', 'type=deployment'],
      ['application/json', '{"type":'],
      ['application/json', 'null'],
      ['application/json', '[]'],
      ['application/json', '"deployment"'],
      ['application/x-www-form-urlencoded', 'type=deployment'],
      ['application/json', ''],
    ];
    for (const [contentType, body] of cases) {
      const response = await postRaw(as('amara'), '/api/workflows/requests', body, contentType);
      assert.ok(
        response.status === 400 || response.status === 415,
        `${contentType} ${body}: ${response.status} ${response.body}`,
      );
      const parsed = JSON.parse(response.body) as ErrorBody;
      assert.ok(parsed.error.message.length > 0);
    }
    const text = await postRaw(as('amara'), '/api/workflows/requests', 'deploy it', 'text/plain');
    assert.equal(text.status, 400);
    assert.match(
      text.body,
      /is text, not JSON: send a JSON object with content-type: application\/json/,
    );
  });

  test('ids that are not UUIDs', async () => {
    for (const id of [
      '..%2F..%2Fetc%2Fpasswd',
      '%2e%2e',
      'ABCDEF00-0000-4000-8000-000000000000',
      "1' OR '1'='1",
      'x'.repeat(3000),
    ]) {
      const read = await as('amara').request(`/api/workflows/requests/${id}`);
      // Fastify refuses an overlong path parameter with 414, in the same error shape.
      assert.ok([400, 404, 414].includes(read.status), `${id}: ${read.status}`);
      const error = (JSON.parse(read.body) as ErrorBody).error;
      assert.ok(error.message.length > 0);
      const approve = await post('amara', `/api/workflows/requests/${id}/approve`, {});
      assert.ok([400, 404, 414].includes(approve.status), `${id}: ${approve.status}`);
    }
  });

  test('list, inbox and review queries name the bad parameter', async () => {
    for (const [url, field] of [
      ['/api/workflows/requests?state=bogus', 'state'],
      ['/api/workflows/requests?limit=0', 'limit'],
      ['/api/workflows/requests?limit=1e9', 'limit'],
      ['/api/workflows/requests?limit=abc', 'limit'],
      ['/api/workflows/requests?requester=user:default/jonas.weber', 'requester'],
      ['/api/workflows/inbox?state=submitted', 'state'],
      ['/api/workflows/inbox?limit=-1', 'limit'],
      ['/api/workflows/review?all=yes', 'all'],
      ['/api/workflows/review?__proto__=1', '__proto__'],
    ] as const) {
      const user = url.includes('review') ? 'ines' : 'amara';
      const response = await as(user).request(url);
      assertInputError({ status: response.status, body: JSON.parse(response.body) }, field, url);
    }
  });

  test('nobody decides their own request by any route', async () => {
    const request = await deployment('amara', 'production');
    for (const decision of ['approve', 'deny', 'review']) {
      const response = await post('amara', `/api/workflows/requests/${request.id}/${decision}`, {
        comment: 'me',
      });
      assert.ok(
        response.status === 403 || response.status === 409,
        `${decision}: ${response.status} ${JSON.stringify(response.body)}`,
      );
    }
    const collect = await post('amara', `/api/workflows/requests/${request.id}/collect`, {});
    assert.equal(collect.status, 409);
    const reread = await as('amara').request(`/api/workflows/requests/${request.id}`);
    assert.equal((JSON.parse(reread.body) as RequestDetails).state, 'submitted');
  });

  test('others may not read, cancel or collect a request', async () => {
    const request = await deployment('amara', 'production');
    const read = await as('priya').request(`/api/workflows/requests/${request.id}`);
    assert.equal(read.status, 403);
    const cancel = await post('priya', `/api/workflows/requests/${request.id}/cancel`, {});
    assert.equal(cancel.status, 403);
    const collect = await post('priya', `/api/workflows/requests/${request.id}/collect`, {});
    assert.equal(collect.status, 403);
    const list = await as('priya').request(`/api/workflows/requests?state=submitted&limit=200`);
    const items = (JSON.parse(list.body) as { items: RequestDetails[] }).items;
    assert.ok(items.every((item) => item.requester === 'user:default/priya.raman'));
    const filtered = await as('priya').request(
      '/api/workflows/requests?requester=user:default/amara.okafor',
    );
    assert.equal(filtered.status, 400);
    const inbox = await as('priya').request('/api/workflows/inbox');
    const inboxItems = (JSON.parse(inbox.body) as { items: RequestDetails[] }).items;
    assert.ok(!inboxItems.some((item) => item.id === request.id));
    const review = await as('priya').request('/api/workflows/review');
    assert.equal(review.status, 403);
  });

  test('an approver who lost the permission cannot approve', async () => {
    const request = await deployment('amara', 'production');
    const original = await readFile(rolesFile, 'utf8');
    const without = original.replace(
      / {6}- permission: deployment\.request\.approve\n( {8}.*\n)+?(?= {6}- permission)/,
      '',
    );
    assert.notEqual(without, original, 'the grant was removed');
    try {
      await writeFile(rolesFile, without);
      started.portal.permissions.reload();
      const inbox = await as('jonas').request('/api/workflows/inbox');
      const items = (JSON.parse(inbox.body) as { items: RequestDetails[] }).items;
      assert.ok(!items.some((item) => item.id === request.id));
      const approve = await post('jonas', `/api/workflows/requests/${request.id}/approve`, {});
      assert.equal(approve.status, 403, JSON.stringify(approve.body));
    } finally {
      await writeFile(rolesFile, original);
      started.portal.permissions.reload();
    }
    const approve = await post('jonas', `/api/workflows/requests/${request.id}/approve`, {});
    assert.equal(approve.status, 200, JSON.stringify(approve.body));
  });

  test('fifty concurrent approvals, denials and cancels give one outcome', async () => {
    const request = await deployment('amara', 'production');
    const calls = Array.from({ length: 50 }, (_, index) => {
      const kind = index % 3;
      if (kind === 0) {
        return post('jonas', `/api/workflows/requests/${request.id}/approve`, {});
      }
      if (kind === 1) {
        return post('jonas', `/api/workflows/requests/${request.id}/deny`, {});
      }
      return post('amara', `/api/workflows/requests/${request.id}/cancel`, {});
    });
    const results = await Promise.all(calls);
    const statuses = results.map((result) => result.status);
    assert.ok(
      statuses.every((status) => status === 200 || status === 409),
      JSON.stringify(statuses),
    );
    // One decision on the submitted request; an approved request may then
    // still be cancelled before it runs, which is a second, later transition.
    const records = await started.portal.audit.list({
      target: `workflow-request:${request.id}`,
      limit: 100,
    });
    const outcomes = records
      .map((record) => record.action)
      .filter((action) =>
        ['request.approved', 'request.denied', 'request.cancelled'].includes(action),
      );
    assert.ok(
      [
        ['request.approved'],
        ['request.denied'],
        ['request.cancelled'],
        ['request.approved', 'request.cancelled'],
      ].some((expected) => JSON.stringify(expected) === JSON.stringify(outcomes)),
      JSON.stringify(outcomes),
    );
    assert.equal(statuses.filter((status) => status === 200).length, outcomes.length);
  });

  test('two concurrent collects show the secret once', async () => {
    const created = await create('amara', {
      type: 'aws-credentials',
      parameters: {
        entity: BOOKING_API,
        role: 'deployer',
        environment: 'staging',
        durationSeconds: 900,
      },
      reason: 'debugging',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const request = created.body as RequestDetails;
    assert.equal(request.state, 'approved');
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        post('amara', `/api/workflows/requests/${request.id}/collect`, {}),
      ),
    );
    const withSecret = results.filter((result) =>
      JSON.stringify(result.body).includes(`secret-of-${request.id}`),
    );
    assert.equal(withSecret.length, 1, JSON.stringify(results.map((result) => result.status)));
    assert.ok(results.every((result) => result.status === 200 || result.status === 409));
  });

  test('a broken rules file while running keeps the rules and is audited', async () => {
    const workflows = started.portal.workflows;
    assert.ok(workflows);
    // The test portal starts without file watchers; this turns on the rules watcher only.
    workflows.start({ sweeper: false, watchRules: true });
    const rulesFile = path.join(folder, 'approval-rules.yaml');
    const good = await readFile(rulesFile, 'utf8');
    const reloads = async (outcome: string) =>
      (await started.portal.audit.list({ action: 'approval-rules.reloaded', limit: 50 })).filter(
        (record) => record.outcome === outcome,
      );
    const waitFor = async (outcome: string) => {
      const deadline = Date.now() + 5000;
      while ((await reloads(outcome)).length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return await reloads(outcome);
    };
    try {
      await writeFile(
        rulesFile,
        `${good}\n  - id: deploy-production\n    autoApprove: yes please\n`,
      );
      const failed = await waitFor('failed');
      assert.equal(failed.length, 1, 'one failed reload is recorded');
      assert.equal(failed[0]?.actor, 'service:request-engine');
      assert.match(JSON.stringify(failed[0]?.details), /used twice|autoApprove/);
      const request = await deployment('amara', 'production');
      assert.equal(request.ruleId, 'deploy-production');
      assert.equal(request.state, 'submitted');
    } finally {
      await writeFile(rulesFile, good);
    }
    const succeeded = await waitFor('succeeded');
    assert.equal(succeeded.length, 1);
    assert.ok(((succeeded[0]?.details.rules ?? []) as string[]).includes('deploy-expiring'));
  });

  test('no decision after expiry', async () => {
    const request = await deployment('amara', 'expiring');
    assert.ok(request.expiresAt);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const approve = await post('jonas', `/api/workflows/requests/${request.id}/approve`, {});
    assert.equal(approve.status, 409, JSON.stringify(approve.body));
    assert.match((approve.body as ErrorBody).error.message, /expired/);
    const cancel = await post('amara', `/api/workflows/requests/${request.id}/cancel`, {});
    assert.equal(cancel.status, 409, JSON.stringify(cancel.body));
    const inbox = await as('jonas').request('/api/workflows/inbox');
    assert.ok(!inbox.body.includes(request.id));
  });
});

/** Posts a raw body with a content type, as a client that is not a browser might. */
async function postRaw(
  client: HttpClient,
  url: string,
  body: string,
  contentType = 'application/json',
) {
  return await client.request(url, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
}

const KNOWN_TYPES = ['deployment', 'aws-credentials', 'role-elevation'];

/** Builds a rules file with one rule whose durations are the given YAML values. */
function rulesWithDurations(maxDuration: string, pendingLifetime = '1h'): string {
  return [
    'rules:',
    '  - id: deploy',
    '    match: { types: [deployment] }',
    '    approvals: { from: [owners] }',
    `    maxDuration: ${maxDuration}`,
    `    pendingLifetime: ${pendingLifetime}`,
  ].join('\n');
}

function parseFaults(text: string): string {
  try {
    parseApprovalRules('rules.yaml', text, KNOWN_TYPES);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return JSON.stringify({ message: error.message, details: error.details });
  }
  return 'accepted';
}

test('approval rules with durations out of range are refused', () => {
  for (const value of ['0s', '0', '"0d"', '-1h', '-5', '1.5', '99999999999d', '1e20', '"1e3s"']) {
    const faults = parseFaults(rulesWithDurations(value));
    assert.notEqual(faults, 'accepted', `maxDuration ${value} was accepted`);
    assert.match(faults, /maxDuration/, value);
  }
  for (const value of ['0s', '400d', '99999d']) {
    const faults = parseFaults(rulesWithDurations('1h', value));
    assert.match(faults, /pendingLifetime/, value);
  }
  assert.equal(parseFaults(rulesWithDurations('12h', '365d')), 'accepted');
  assert.equal(parseFaults(rulesWithDurations('43200', '90m')), 'accepted');
});

test('broken approval rules files name the fault', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /rules/],
    ['rules: [', /rules\.yaml/],
    ['rules: {}', /rules/],
    ['rules: []\nextra: 1', /extra/],
    ['rules:\n  - id: a\n    autoApprove: true\n    colour: red', /colour/],
    ['rules:\n  - id: a\n    autoApprove: true\n  - id: a\n    autoApprove: true', /used twice/],
    ['rules:\n  - id: a\n    match: { types: [coffee] }\n    autoApprove: true', /coffee/],
    ['rules:\n  - id: a\n    approvals: { count: 1000000, from: [owners] }', /count/],
    ['rules:\n  - id: a\n    approvals: { from: [{ group: "user:default/x" }] }', /group/],
    ['rules:\n  - id: __proto__\n    autoApprove: true', /id/],
    ['rules:\n  - id: a\n    autoApprove: true\n    __proto__: { breakGlass: true }', /__proto__/],
    ['- just\n- a list', /rules/],
  ];
  for (const [text, expected] of cases) {
    const faults = parseFaults(text);
    assert.notEqual(faults, 'accepted', text);
    assert.match(faults, expected, text);
  }
});

test('a broken rules file on reload keeps the last good rules', async () => {
  const folder = await mkdtemp(path.join(tmpdir(), 'rules-reload-'));
  try {
    const file = path.join(folder, 'rules.yaml');
    await writeFile(file, rulesWithDurations('1h'));
    const source = new ApprovalRulesSource(file, () => KNOWN_TYPES);
    for (const broken of ['rules: [', rulesWithDurations('0s'), '\u0000\u0001', '']) {
      await writeFile(file, broken);
      assert.throws(() => source.reload(), ConfigError);
      assert.equal(source.current().rules[0]?.maxDuration, 3600);
    }
    await rm(file);
    assert.throws(() => source.reload(), /cannot be read/);
    assert.equal(source.current().rules.length, 1);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
