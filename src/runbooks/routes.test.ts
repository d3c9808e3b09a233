import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../test/support/databases.js';
import { HttpClient } from '../../test/support/http-client.js';
import { PROJECT_ROOT, startTestPortal, type TestPortal } from '../../test/support/portal.js';
import type { EntityRunbooks } from './routes.js';

/**
 * The runbook API against the example organisation's people, with a catalog
 * file and roles of its own: owners read their runbooks, the SRE team is on
 * call for production services, and contractors are denied outright.
 */

const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');
const DEMO_PASSWORD = 'demo';
const ORDERS = 'component:default/orders-service';
const LABS = 'component:default/labs-tool';

const CATALOG = `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: orders-service
  annotations:
    backstage-luigi.io/runbook: ./runbooks/orders.md, ./runbooks/missing.md, ../escape.md
    backstage-luigi.io/runbook-inline: "# Escalation\\n\\nPage the lead. <script>alert(1)</script>"
spec:
  type: service
  lifecycle: production
  owner: booking-team
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: labs-tool
  annotations:
    backstage-luigi.io/runbook: ./runbooks/labs.md
spec:
  type: service
  lifecycle: experimental
  owner: booking-team
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: quiet-service
spec:
  type: service
  lifecycle: production
  owner: booking-team
`;

const ROLES = `
roles:
  - name: readers
    members: [group:engineering]
    grants:
      - permission: catalog.entity.read
      - permission: runbook.read
        conditions: { rule: IS_ENTITY_OWNER, params: { claims: [$ownerRefs] } }
  - name: on-call
    members: [group:sre-team]
    grants:
      - permission: runbook.read
        conditions: { rule: HAS_SPEC, params: { key: lifecycle, value: production } }
  - name: contractors
    members: [group:contractors]
    grants:
      - permission: runbook.read
        effect: deny
  - name: no-experiments
    members: [group:security-team]
    grants:
      - permission: catalog.entity.read
        effect: deny
        conditions: { rule: HAS_SPEC, params: { key: lifecycle, value: experimental } }
`;

describeEachDialect('runbook API', ({ dialect }) => {
  let folder: string;
  let portal: TestPortal;
  const clients = new Map<string, HttpClient>();

  before(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'runbook-api-'));
    const service = path.join(folder, 'service');
    mkdirSync(path.join(service, 'runbooks'), { recursive: true });
    writeFileSync(path.join(service, 'catalog-info.yaml'), CATALOG);
    writeFileSync(
      path.join(service, 'runbooks', 'orders.md'),
      '# Orders outage\n\n[dashboard](https://grafana.example/d/orders) [bad](javascript:alert(1))\n',
    );
    writeFileSync(path.join(service, 'runbooks', 'labs.md'), '# Labs\n');
    writeFileSync(path.join(folder, 'escape.md'), '# Outside\n');
    const rolesFile = path.join(folder, 'roles.yaml');
    writeFileSync(rolesFile, ROLES);

    portal = await startTestPortal({
      dialect,
      overrides: {
        catalog: {
          locations: [
            { type: 'file', target: ORGANISATION_FILE, rules: [{ allow: ['User', 'Group'] }] },
            { type: 'file', target: path.join(service, 'catalog-info.yaml') },
          ],
        },
        permission: { rolesFile },
      },
    });
  });

  after(async () => {
    await portal?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  async function clientOf(username: string): Promise<HttpClient> {
    let client = clients.get(username);
    if (!client) {
      client = new HttpClient(portal.url);
      await client.signInWithDevelopmentProvider(username, DEMO_PASSWORD, '/');
      clients.set(username, client);
    }
    return client;
  }

  async function getRunbooks(username: string, ref: string) {
    const [kind, rest] = ref.split(':') as [string, string];
    const [namespace, name] = rest.split('/') as [string, string];
    const client = await clientOf(username);
    return await client.request(`/api/runbooks/by-entity/${kind}/${namespace}/${name}`, {
      headers: { accept: 'application/json' },
    });
  }

  test('owner reads rendered runbooks', async () => {
    const response = await getRunbooks('amara', ORDERS);

    assert.equal(response.status, 200, response.body);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = JSON.parse(response.body) as EntityRunbooks;
    assert.equal(body.entityRef, ORDERS);
    assert.deepEqual(
      body.runbooks.map((runbook) => [runbook.title, runbook.source, 'html' in runbook]),
      [
        ['Orders outage', 'file:./runbooks/orders.md', true],
        ['missing.md', 'file:./runbooks/missing.md', false],
        ['escape.md', 'file:../escape.md', false],
        ['Escalation', 'inline', true],
      ],
    );
    const [orders, missing, outside, inline] = body.runbooks;
    assert.match(
      'html' in orders! ? orders.html : '',
      /href="https:\/\/grafana\.example\/d\/orders"/,
    );
    assert.doesNotMatch('html' in orders! ? orders.html : '', /href="javascript:/i);
    assert.equal('error' in missing! && missing.error.code, 'RUNBOOK_NOT_FOUND');
    assert.equal('error' in outside! && outside.error.code, 'RUNBOOK_PATH_INVALID');
    assert.match('html' in inline! ? inline.html : '', /&lt;script&gt;/);
  });

  test('read is recorded in the audit trail', async () => {
    await getRunbooks('amara', ORDERS);
    const records = await portal.portal.audit.list({
      action: 'runbook.read',
      actor: 'user:default/amara.okafor',
      target: ORDERS,
    });
    assert.ok(records.length >= 1, 'a runbook.read record for amara');
    const record = records.at(-1)!;
    assert.equal(record.outcome, 'succeeded');
    assert.deepEqual(record.details.runbooks, [
      { source: 'file:./runbooks/orders.md', shown: true },
      { source: 'file:./runbooks/missing.md', shown: false },
      { source: 'file:../escape.md', shown: false },
      { source: 'inline', shown: true },
    ]);
    assert.ok(record.requestId, 'the record carries the request id');
  });

  test('non-owner gets 403 with a record', async () => {
    const response = await getRunbooks('lucia', ORDERS);

    assert.equal(response.status, 403, response.body);
    const body = JSON.parse(response.body) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'NOT_ALLOWED');
    assert.match(
      body.error.message,
      /runbooks of component:default\/orders-service are restricted/,
    );
    const denials = await portal.portal.audit.list({
      action: 'permission.denied',
      actor: 'user:default/lucia.moreno',
    });
    assert.equal(denials.length, 1);
    assert.equal(denials[0]!.details.permission, 'runbook.read');
    assert.equal(denials[0]!.target, '/api/runbooks/by-entity/component/default/orders-service');
    const reads = await portal.portal.audit.list({
      action: 'runbook.read',
      actor: 'user:default/lucia.moreno',
    });
    assert.equal(reads.length, 0);
  });

  test('on-call group reads production runbooks', async () => {
    const response = await getRunbooks('ines', ORDERS);
    assert.equal(response.status, 200, response.body);
    assert.equal((JSON.parse(response.body) as EntityRunbooks).runbooks.length, 4);
  });

  test('on-call group is denied other lifecycles', async () => {
    const response = await getRunbooks('ines', LABS);
    assert.equal(response.status, 403, response.body);
  });

  test('owner reads other lifecycles', async () => {
    const response = await getRunbooks('amara', LABS);
    assert.equal(response.status, 200, response.body);
    const body = JSON.parse(response.body) as EntityRunbooks;
    assert.deepEqual(
      body.runbooks.map((runbook) => runbook.title),
      ['Labs'],
    );
  });

  test('denied role gets 403 before the handler', async () => {
    const response = await getRunbooks('oliver', ORDERS);

    assert.equal(response.status, 403, response.body);
    assert.match(
      response.body,
      /Permission runbook\.read is not granted to user:default\/oliver\.brandt/,
    );
    const denials = await portal.portal.audit.list({
      action: 'permission.denied',
      actor: 'user:default/oliver.brandt',
    });
    assert.equal(denials.length, 1);
  });

  test('entity without runbooks lists none', async () => {
    const response = await getRunbooks('amara', 'component:default/quiet-service');
    assert.equal(response.status, 200, response.body);
    assert.deepEqual(JSON.parse(response.body), {
      entityRef: 'component:default/quiet-service',
      runbooks: [],
    });
    const reads = await portal.portal.audit.list({
      action: 'runbook.read',
      target: 'component:default/quiet-service',
    });
    assert.equal(reads.length, 0);
  });

  test('unknown entity is not found', async () => {
    const response = await getRunbooks('amara', 'component:default/nothing-here');
    assert.equal(response.status, 404, response.body);
    assert.match(response.body, /Entity component:default\/nothing-here was not found/);
  });

  test('unreadable entity is not found', async () => {
    const response = await getRunbooks('hannah', LABS);
    assert.equal(response.status, 404, response.body);
    assert.match(response.body, /Entity component:default\/labs-tool was not found/);
  });

  test('anonymous request gets 401', async () => {
    const response = await new HttpClient(portal.url).request(
      '/api/runbooks/by-entity/component/default/orders-service',
    );
    assert.equal(response.status, 401);
  });
});
