import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startExampleMicroFrontend } from '../examples/micro-frontend/server.mjs';
import { loadConfig } from '../src/config/index.js';
import { describeEachDialect } from './support/databases.js';
import { HttpClient } from './support/http-client.js';
import { EXAMPLE_CONFIG, freePort, PROJECT_ROOT, startTestPortal } from './support/portal.js';

/**
 * MicroFrontend entities registered in the catalog, through the whole
 * portal: which are served, where the faults of the others are listed, and
 * which JWT audience each served node may obtain. Two example micro
 * frontends with their own backends check the tokens. booking-team (amara)
 * may use deployments, routing-team (lucia) may use billing.
 */

const DEPLOYMENTS_PERMISSION = 'tools.deployments.view';
const BILLING_PERMISSION = 'tools.billing.view';
const ENTITY_TAB_PATH = 'catalog/:kind/:namespace/:name/deployments';

const TOOL_ROLES = `
  - name: deployers
    members: [group:booking-team]
    grants:
      - permission: ${DEPLOYMENTS_PERMISSION}
  - name: billers
    members: [group:routing-team]
    grants:
      - permission: ${BILLING_PERMISSION}
`;

function microFrontend(name: string, spec: Record<string, unknown>): string {
  const lines = Object.entries(spec).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`);
  return [
    'apiVersion: backstage-luigi.io/v1',
    'kind: MicroFrontend',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    ...lines,
  ].join('\n');
}

interface ErrorEntry {
  entityRef?: string;
  field?: string;
  code?: string;
  message: string;
  file?: string;
}

describeEachDialect('micro frontends registered in the catalog', (context) => {
  let folder: string;
  let catalogFile: string;
  let portalUrl: string;
  let closePortal: () => Promise<void>;
  let deployments: { url: string; close: () => Promise<void> };
  let billing: { url: string; close: () => Promise<void> };

  before(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'shell-registrations-'));
    const deploymentsUrl = `http://127.0.0.1:${await freePort()}`;
    const billingUrl = `http://127.0.0.1:${await freePort()}`;
    const deploymentsAudience = `${deploymentsUrl}/api`;
    const billingAudience = `${billingUrl}/api`;

    const rolesFile = path.join(folder, 'roles.yaml');
    const baseRoles = readFileSync(path.join(PROJECT_ROOT, 'examples', 'roles.yaml'), 'utf8');
    writeFileSync(rolesFile, `${baseRoles.trimEnd()}\n${TOOL_ROLES}`);

    catalogFile = path.join(folder, 'tools.yaml');
    writeFileSync(
      catalogFile,
      [
        microFrontend('deployments', {
          path: 'deployments',
          label: 'Deployments',
          viewUrl: `${deploymentsUrl}/`,
          permission: DEPLOYMENTS_PERMISSION,
          audience: deploymentsAudience,
          entityTabs: [
            {
              pathSegment: 'deployments',
              label: 'Deployments',
              viewUrl: `${deploymentsUrl}/?entity=:kind/:namespace/:name`,
              kinds: ['Component'],
            },
          ],
        }),
        microFrontend('billing', {
          path: 'billing',
          label: 'Billing',
          viewUrl: `${billingUrl}/`,
          permission: BILLING_PERMISSION,
          audience: billingAudience,
        }),
        microFrontend('unknown-permission', {
          path: 'reports',
          label: 'Reports',
          viewUrl: `${billingUrl}/reports/`,
          permission: 'tools.reports.view',
          audience: 'https://reports.example.com',
        }),
        microFrontend('foreign-origin', {
          path: 'foreign',
          label: 'Foreign',
          viewUrl: 'http://127.0.0.1:9/foreign/',
          permission: BILLING_PERMISSION,
          audience: 'https://foreign.example.com',
        }),
        microFrontend('path-taken', {
          path: 'catalog',
          label: 'Another catalog',
          viewUrl: `${billingUrl}/catalog/`,
          permission: BILLING_PERMISSION,
          audience: 'https://taken.example.com',
        }),
      ].join('\n---\n'),
    );

    const example = loadConfig([EXAMPLE_CONFIG]).config;
    const portal = await startTestPortal({
      dialect: context.dialect,
      overrides: {
        catalog: {
          locations: [...example.catalog.locations, { type: 'file', target: catalogFile }],
        },
        permission: { rolesFile },
        shell: {
          allowedOrigins: [deploymentsUrl, billingUrl],
          permissions: [
            { name: DEPLOYMENTS_PERMISSION, description: 'Use the deployments tool' },
            { name: BILLING_PERMISSION, description: 'Use the billing tool' },
          ],
        },
      },
    });
    portalUrl = portal.url;
    closePortal = portal.close;
    deployments = await startExampleMicroFrontend({
      portalUrl,
      audience: deploymentsAudience,
      port: Number(new URL(deploymentsUrl).port),
    });
    billing = await startExampleMicroFrontend({
      portalUrl,
      audience: billingAudience,
      port: Number(new URL(billingUrl).port),
    });
  });

  after(async () => {
    await closePortal?.();
    await deployments?.close();
    await billing?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  async function signIn(username: string): Promise<HttpClient> {
    const client = new HttpClient(portalUrl);
    await client.signInWithDevelopmentProvider(username, 'demo');
    return client;
  }

  async function errorsOf(client: HttpClient, query: string): Promise<ErrorEntry[]> {
    const response = await client.request(`/api/catalog/ingestion-errors?${query}`);
    assert.equal(response.status, 200, response.body);
    const { items } = JSON.parse(response.body) as { items: Array<{ errors: ErrorEntry[] }> };
    return items.flatMap((item) => item.errors);
  }

  async function requestToken(client: HttpClient, nodePath: string) {
    const response = await client.request('/api/shell/token', { json: { nodePath } });
    return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown> };
  }

  test('faulty registrations are in the error list', async () => {
    const sofia = await signIn('sofia');
    const errors = await errorsOf(sofia, `location=${encodeURIComponent(catalogFile)}`);
    const faults = errors
      .filter((error) => error.code?.startsWith('micro-frontend-'))
      .map((error) => `${error.code} ${error.entityRef} ${error.field}`)
      .sort();

    assert.deepEqual(faults, [
      'micro-frontend-origin-not-allowed microfrontend:default/foreign-origin spec.viewUrl',
      'micro-frontend-path-conflict microfrontend:default/path-taken spec.path',
      'micro-frontend-permission-unknown microfrontend:default/unknown-permission spec.permission',
    ]);
    for (const error of errors) {
      assert.equal(error.file, catalogFile, `${error.code} names its file`);
    }
    const unknown = errors.find((error) => error.code === 'micro-frontend-permission-unknown');
    assert.match(unknown?.message ?? '', /'tools\.reports\.view', which is not registered/);
  });

  test('error list finds the location by entity', async () => {
    const sofia = await signIn('sofia');
    const errors = await errorsOf(sofia, 'entityRef=microfrontend:default/foreign-origin');
    const missing = await errorsOf(sofia, 'entityRef=microfrontend:default/no-such-tool');

    const fault = errors.find(
      (error) => error.entityRef === 'microfrontend:default/foreign-origin',
    );
    assert.equal(fault?.code, 'micro-frontend-origin-not-allowed');
    assert.match(fault?.message ?? '', /origin http:\/\/127\.0\.0\.1:9 is not in/);
    assert.deepEqual(missing, []);
  });

  test('error list needs catalog.location.read', async () => {
    const amara = await signIn('amara');
    const response = await amara.request('/api/catalog/ingestion-errors');

    assert.equal(response.status, 403);
  });

  test('faulty registrations are never served', async () => {
    const sofia = await signIn('sofia');
    const response = await sofia.request('/api/shell/config');
    const paths = (
      JSON.parse(response.body) as { nodes: Array<{ pathSegment: string }> }
    ).nodes.map((node) => node.pathSegment);

    assert.equal(response.status, 200);
    assert.ok(!paths.includes('reports'), 'unknown permission is not served');
    assert.ok(!paths.includes('foreign'), 'foreign origin is not served');
    assert.equal(paths.filter((segment) => segment === 'catalog').length, 1);
  });

  test('registered node token has its audience', async () => {
    const amara = await signIn('amara');
    const issued = await requestToken(amara, 'deployments');

    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const claims = decodeJwt(String(issued.body.token));
    assert.equal(claims.aud, `${deployments.url}/api`);
    assert.equal(claims.sub, 'user:default/amara.okafor');
    assert.ok((claims.exp ?? 0) - (claims.iat ?? 0) <= 300, 'lives at most 5 minutes');

    const keys = createRemoteJWKSet(new URL(`${portalUrl}/.well-known/jwks.json`));
    const verified = await jwtVerify(String(issued.body.token), keys, {
      audience: `${deployments.url}/api`,
      issuer: portalUrl,
    });
    assert.equal(verified.payload.sub, 'user:default/amara.okafor');
  });

  test('entity tab token has its audience', async () => {
    const amara = await signIn('amara');
    const issued = await requestToken(amara, ENTITY_TAB_PATH);

    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    assert.equal(issued.body.audience, `${deployments.url}/api`);
  });

  test('user gets no token for another node', async () => {
    const amara = await signIn('amara');
    const lucia = await signIn('lucia');

    const amaraBilling = await requestToken(amara, 'billing');
    const luciaDeployments = await requestToken(lucia, 'deployments');
    const luciaTab = await requestToken(lucia, ENTITY_TAB_PATH);

    assert.equal(amaraBilling.status, 403);
    assert.equal(luciaDeployments.status, 403);
    assert.equal(luciaTab.status, 403);
  });

  test('faulty registration has no token', async () => {
    const sofia = await signIn('sofia');

    for (const nodePath of ['reports', 'foreign']) {
      const issued = await requestToken(sofia, nodePath);
      assert.equal(issued.status, 404, nodePath);
    }
  });

  test('backend rejects another node token', async () => {
    const amara = await signIn('amara');
    const lucia = await signIn('lucia');
    const deploymentsToken = String((await requestToken(amara, 'deployments')).body.token);
    const billingToken = String((await requestToken(lucia, 'billing')).body.token);

    const call = (base: string, token: string) =>
      fetch(`${base}/api/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await call(deployments.url, deploymentsToken)).status, 200);
    assert.equal((await call(billing.url, billingToken)).status, 200);
    const crossed = await call(billing.url, deploymentsToken);
    assert.equal(crossed.status, 401);
    assert.equal(
      ((await crossed.json()) as { code?: string }).code,
      'ERR_JWT_CLAIM_VALIDATION_FAILED',
    );
    assert.equal((await call(deployments.url, billingToken)).status, 401);
  });
});
