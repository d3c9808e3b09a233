import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Kysely } from 'kysely';
import {
  createTestDatabase,
  describeEachDialect,
  type TestDatabase,
} from '../test/support/databases.js';
import { HttpClient } from '../test/support/http-client.js';
import { EXAMPLE_CONFIG, freePort, PROJECT_ROOT } from '../test/support/portal.js';
import {
  type AuditRecord,
  type AuditRecordQuery,
  type ForwardBatch,
  listAuditRecords,
} from './audit/index.js';
import { type AppConfig, loadConfig, mergeConfig } from './config/index.js';
import { connectDatabase } from './database/index.js';
import { ConfigError } from './errors/index.js';
import { createSessions } from './identity/sessions.js';
import { createLogger } from './logging.js';
import { PORTAL_ACTOR } from './portal-audit.js';
import { createPortal, type Portal } from './server.js';

/**
 * The records the portal writes from the start: configuration, roles,
 * catalog refreshes, sign-in and sign-out, and denied requests. A second
 * portal with a wrong client secret covers a sign-in that the identity
 * provider rejects. Secrets are fed through every recorded action, and the
 * last test checks that none of them reached the trail.
 */

const SESSION_COOKIE = 'portal_session';
const AMARA = 'user:default/amara.okafor';
const SOFIA = 'user:default/sofia.rossi';
const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');
const EXAMPLE_ROLES = path.join(PROJECT_ROOT, 'examples', 'roles.yaml');

/** Values that must never reach the trail, by where they were fed in. */
const SECRETS = {
  sessionSecretInConfig: 'config-session-secret-7f3a9c1e5b2d4f6a8c0e2a4b6d8f0a1c',
  clientSecretInConfig: 'config-client-secret-Q9w8E7r6T5y4U3i2',
  amaraPassword: 'amara-password-Zx81Lq',
  sofiaPassword: 'sofia-password-Pk42Mv',
  malloryPassword: 'mallory-password-Hb93Ns',
  wrongPassword: 'wrong-password-Jd27Wc',
  bearerToken: 'bearer-token-Vn58Rt0pQs2uWx4yZa6b',
  basicCredentials: Buffer.from('ci-user:basic-password-Ty63Ko').toString('base64'),
  idToken:
    'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbWFyYSIsIm5vbmNlIjoiYWJjIn0.c2lnbmF0dXJlLUtxNzRMbTBuUA',
  forgedSessionCookie: 'forged-session-cookie-value-Rm36Gx7yK9aB1cD3eF5gH7',
  bareToken: 'bare-api-token-without-scheme-Xc47Ve',
  catalogPassword: 'Hunter2CatalogSecret',
  roleDescriptionToken: 'ghp_RoleDescriptionToken0123456789abcdef',
};

/** Cookie values seen during the tests; they are secrets too. */
const cookieValues: string[] = [];

interface StartedPortal {
  portal: Portal;
  url: string;
  database: TestDatabase;
  folder: string;
  rolesFile: string;
  catalogFile: string;
  configFiles: string[];
  close(): Promise<void>;
}

/**
 * Starts the portal as `backstage-luigi start` does, with the config files
 * passed on, over the example config with a small catalog, a roles file
 * that the test may change, and demo users whose passwords are SECRETS.
 */
async function startAuditPortal(
  dialect: 'sqlite' | 'postgres',
  extraFor: (url: string) => Record<string, unknown> = () => ({}),
): Promise<StartedPortal> {
  const folder = mkdtempSync(path.join(tmpdir(), 'portal-audit-'));
  const rolesFile = path.join(folder, 'roles.yaml');
  copyFileSync(EXAMPLE_ROLES, rolesFile);
  const catalogFile = path.join(folder, 'catalog-with-faults.yaml');
  writeFileSync(catalogFile, catalogWithFaults());

  const database = await createTestDatabase(dialect);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const overrides = mergeConfig(
    {
      app: { baseUrl: url },
      backend: { listen: { host: '127.0.0.1', port } },
      catalog: {
        locations: [
          { type: 'file', target: ORGANISATION_FILE, rules: [{ allow: ['User', 'Group'] }] },
          { type: 'file', target: catalogFile },
        ],
        refresh: { intervalSeconds: 0, watch: false },
      },
      permission: { rolesFile },
      auth: {
        session: { secret: SECRETS.sessionSecretInConfig },
        development: {
          enabled: true,
          users: [
            demoUser('amara', SECRETS.amaraPassword, 'amara.okafor@kestrel-freight.example'),
            demoUser('sofia', SECRETS.sofiaPassword, 'sofia.rossi@kestrel-freight.example'),
            demoUser('mallory', SECRETS.malloryPassword, 'mallory@elsewhere.example'),
          ],
        },
      },
      audit: { checkpoint: { intervalSeconds: 0 } },
    },
    extraFor(url),
  );
  const loaded = loadConfig([EXAMPLE_CONFIG], { overrides });
  const config: AppConfig = { ...loaded.config, database: database.config };
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

  let portal: Portal;
  try {
    portal = await createPortal({
      config,
      logger,
      backgroundRefresh: false,
      configFiles: loaded.files,
    });
    await portal.listen();
  } catch (error) {
    await database.cleanup();
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }

  return {
    portal,
    url,
    database,
    folder,
    rolesFile,
    catalogFile,
    configFiles: loaded.files,
    close: async () => {
      await portal.close();
      await database.cleanup();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

function demoUser(username: string, password: string, email: string) {
  return { username, password, name: username, email, groups: [] };
}

/** One valid Component, and one whose name is a URL with a password, which fails validation. */
function catalogWithFaults(): string {
  return `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: audit-fixture-service
spec:
  type: service
  lifecycle: production
  owner: group:default/platform-team
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: postgres://admin:${SECRETS.catalogPassword}@db.example/x
spec:
  type: service
  lifecycle: production
  owner: group:default/platform-team
`;
}

/** Reads records newest first. */
async function recordsOf(portal: Portal, query: AuditRecordQuery = {}): Promise<AuditRecord[]> {
  return await portal.audit.list({ order: 'descending', limit: 1000, ...query });
}

/** Waits until a record matches, for records that a file watcher causes. */
async function waitForRecord(
  portal: Portal,
  query: AuditRecordQuery,
  matches: (record: AuditRecord) => boolean,
): Promise<AuditRecord> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const found = (await recordsOf(portal, query)).find(matches);
    if (found) {
      return found;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`No audit record matches ${JSON.stringify(query)} within 10 s`);
}

/** Signs in through the development provider and returns the callback's response. */
async function signIn(client: HttpClient, username: string, password: string) {
  const { submitted } = await client.signInWithDevelopmentProvider(username, password, '/');
  const callback = submitted.chain.find((hop) => hop.url.includes('/api/auth/callback'));
  assert.ok(callback, `the sign-in of ${username} passed the callback`);
  for (const cookie of client.cookies()) {
    // Short values such as a flag could appear in a record by chance.
    if (cookie.value.length >= 16) {
      cookieValues.push(cookie.value);
    }
  }
  return callback;
}

describeEachDialect('portal audit records', ({ dialect }) => {
  let started: StartedPortal;
  let second: StartedPortal | undefined;
  let portal: Portal;

  before(async () => {
    started = await startAuditPortal(dialect);
    portal = started.portal;
  });

  after(async () => {
    portal?.permissions.stopWatching();
    await second?.close();
    await started?.close();
  });

  test('config.loaded names the files', async () => {
    const [record] = await recordsOf(portal, { action: 'config.loaded' });

    assert.ok(record);
    assert.equal(record.actor, PORTAL_ACTOR);
    assert.equal(record.outcome, 'succeeded');
    assert.deepEqual(record.details, { files: started.configFiles, database: dialect });
  });

  test('policy.loaded lists the roles at start-up', async () => {
    const [record] = await recordsOf(portal, { action: 'policy.loaded' });

    assert.ok(record);
    assert.equal(record.actor, PORTAL_ACTOR);
    assert.equal(record.target, started.rolesFile);
    assert.equal(record.outcome, 'succeeded');
    assert.ok((record.details.roles as string[]).includes('platform-admin'));
  });

  test('catalog.location.refreshed has counts and faults', async () => {
    const [record] = await recordsOf(portal, {
      action: 'catalog.location.refreshed',
      target: `file:${started.catalogFile}`,
    });

    assert.ok(record);
    assert.equal(record.actor, PORTAL_ACTOR);
    assert.equal(record.outcome, 'succeeded');
    assert.equal(record.details.entities, 1);
    assert.equal(record.details.added, 1);
    assert.equal(record.details.removed, 0);
    assert.equal(record.details.errors, 1);
    assert.equal(record.details.warnings, 0);
    const faults = record.details.faults as Array<Record<string, unknown>>;
    assert.equal(faults.length, 1);
    assert.equal(faults[0]?.code, 'entity-invalid');
    assert.equal(faults[0]?.file, started.catalogFile);
    assert.equal(faults[0]?.line, 13);
    assert.equal(faults[0]?.field, 'metadata.name');
  });

  test('catalog.location.refreshed for the organisation', async () => {
    const [record] = await recordsOf(portal, {
      action: 'catalog.location.refreshed',
      target: `file:${ORGANISATION_FILE}`,
    });

    assert.ok(record);
    assert.equal(record.details.declaredBy, null);
    assert.ok((record.details.entities as number) > 0);
  });

  test('auth.sign-in succeeded with the request', async () => {
    const client = new HttpClient(started.url);
    const callback = await signIn(client, 'amara', SECRETS.amaraPassword);

    const [record] = await recordsOf(portal, { action: 'auth.sign-in', outcome: 'succeeded' });
    assert.ok(record);
    assert.equal(record.actor, AMARA);
    assert.equal(record.target, AMARA);
    assert.equal(record.reason, null);
    assert.equal(record.ip, '127.0.0.1');
    assert.equal(record.userAgent, 'node');
    assert.equal(record.requestId, callback.headers.get('x-request-id'));
    assert.equal(record.details.matchedBy, 'email');
    assert.ok((record.details.groups as string[]).includes('group:default/booking-team'));
  });

  test('auth.sign-in record rolls back with the session', async () => {
    const db = portal.database.db as Kysely<{ identity_sessions: { user_ref: string } }>;
    const sessions = createSessions({
      database: portal.database,
      directory: portal.catalog.directory,
      logger: createLogger({ level: 'silent' }),
      maxAgeHours: 1,
      transitiveGroupOwnership: true,
    });
    const principal = {
      userEntityRef: 'user:default/rollback',
      groupEntityRefs: [],
      ownershipEntityRefs: [],
    };

    await assert.rejects(
      sessions.create(principal, { sub: 'rollback', groups: [] }, async (transaction) => {
        await portal.audit.append(transaction, {
          actor: principal.userEntityRef,
          action: 'auth.sign-in',
          outcome: 'succeeded',
        });
        throw new Error('the sign-in fails after its record');
      }),
      /the sign-in fails after its record/,
    );

    const records = await recordsOf(portal, { actor: principal.userEntityRef });
    assert.equal(records.length, 0);
    const rows = await db
      .selectFrom('identity_sessions')
      .select('user_ref')
      .where('user_ref', '=', principal.userEntityRef)
      .execute();
    assert.equal(rows.length, 0);
  });

  test('auth.sign-in failed at the development login', async () => {
    const client = new HttpClient(started.url);
    const { submitted } = await client.signInWithDevelopmentProvider(
      'sofia',
      SECRETS.wrongPassword,
      '/',
    );
    assert.equal(submitted.final.status, 401);

    const [record] = await recordsOf(portal, { action: 'auth.sign-in', outcome: 'failed' });
    assert.ok(record);
    assert.equal(record.actor, null);
    assert.match(record.reason ?? '', /wrong username or password/);
    assert.deepEqual(record.details, { provider: 'development', username: 'sofia' });
    assert.equal(record.ip, '127.0.0.1');
    assert.ok(record.requestId);
  });

  test('auth.sign-in failed for an unknown user', async () => {
    const client = new HttpClient(started.url);
    const callback = await signIn(client, 'mallory', SECRETS.malloryPassword);
    assert.equal(callback.status, 403);

    const [record] = await recordsOf(portal, { action: 'auth.sign-in', outcome: 'failed' });
    assert.ok(record);
    assert.equal(record.actor, null);
    assert.match(record.reason ?? '', /mallory@elsewhere\.example/);
    assert.equal(record.details.email, 'mallory@elsewhere.example');
    assert.equal(record.requestId, callback.headers.get('x-request-id'));
  });

  test('auth.sign-in failed without a login transaction', async () => {
    const client = new HttpClient(started.url);
    const response = await client.request(
      `/api/auth/callback?code=abc&state=def&id_token=${SECRETS.idToken}`,
    );
    assert.equal(response.status, 400);

    const [record] = await recordsOf(portal, { action: 'auth.sign-in', outcome: 'failed' });
    assert.ok(record);
    assert.match(record.reason ?? '', /no valid login transaction cookie/);
    assert.equal(record.requestId, response.headers.get('x-request-id'));
  });

  test('auth.sign-out succeeded in the session transaction', async () => {
    const client = new HttpClient(started.url);
    await signIn(client, 'sofia', SECRETS.sofiaPassword);

    const response = await client.request('/api/auth/logout', { method: 'POST' });
    assert.equal(response.status, 204);

    const [record] = await recordsOf(portal, { action: 'auth.sign-out' });
    assert.ok(record);
    assert.equal(record.actor, SOFIA);
    assert.equal(record.outcome, 'succeeded');
    assert.equal(record.requestId, response.headers.get('x-request-id'));
  });

  test('auth.sign-out denied from another origin', async () => {
    const client = new HttpClient(started.url);
    await signIn(client, 'sofia', SECRETS.sofiaPassword);

    const response = await client.request('/api/auth/logout', {
      method: 'POST',
      headers: { origin: 'http://attacker.example' },
    });
    assert.equal(response.status, 403);

    const [record] = await recordsOf(portal, { action: 'auth.sign-out' });
    assert.ok(record);
    assert.equal(record.outcome, 'denied');
    assert.match(record.reason ?? '', /origin http:\/\/attacker\.example/);
  });

  test('auth.sign-out without a session is not recorded', async () => {
    const before = await recordsOf(portal, { action: 'auth.sign-out' });
    const client = new HttpClient(started.url);

    const response = await client.request('/api/auth/logout', { method: 'POST' });
    assert.equal(response.status, 204);

    const afterwards = await recordsOf(portal, { action: 'auth.sign-out' });
    assert.equal(afterwards.length, before.length);
  });

  test('auth.unauthenticated without a session', async () => {
    const client = new HttpClient(started.url);
    const response = await client.request('/api/audit/events?actor=x', {
      headers: { 'user-agent': 'audit-test/1.0' },
    });
    assert.equal(response.status, 401);

    const [record] = await recordsOf(portal, { action: 'auth.unauthenticated' });
    assert.ok(record);
    assert.equal(record.actor, null);
    assert.equal(record.target, '/api/audit/events');
    assert.equal(record.outcome, 'denied');
    assert.match(record.reason ?? '', /Sign-in required/);
    assert.equal(record.ip, '127.0.0.1');
    assert.equal(record.userAgent, 'audit-test/1.0');
    assert.equal(record.requestId, response.headers.get('x-request-id'));
    assert.deepEqual(record.details, {
      method: 'GET',
      route: '/api/audit/events',
      session: 'missing',
    });
  });

  test('auth.unauthenticated with an unknown session', async () => {
    const client = new HttpClient(started.url);
    client.setCookie(SESSION_COOKIE, SECRETS.forgedSessionCookie);
    const response = await client.request('/api/auth/me');
    assert.equal(response.status, 401);

    const [record] = await recordsOf(portal, { action: 'auth.unauthenticated' });
    assert.ok(record);
    assert.equal(record.target, '/api/auth/me');
    assert.equal(record.details.session, 'unknown or expired');
    assert.equal(record.requestId, response.headers.get('x-request-id'));
  });

  const authorizationCases: Array<{ header: string; scheme: string }> = [
    { header: `Bearer ${SECRETS.bearerToken}`, scheme: 'Bearer' },
    { header: `Basic ${SECRETS.basicCredentials}`, scheme: 'Basic' },
    { header: SECRETS.bareToken, scheme: 'other' },
  ];
  for (const { header, scheme } of authorizationCases) {
    test(`auth.unauthenticated with ${scheme} credentials`, async () => {
      const client = new HttpClient(started.url);
      const response = await client.request('/api/auth/me', {
        headers: { authorization: header },
      });
      assert.equal(response.status, 401);

      const [record] = await recordsOf(portal, { action: 'auth.unauthenticated' });
      assert.ok(record);
      assert.equal(record.requestId, response.headers.get('x-request-id'));
      assert.equal(record.details.authScheme, scheme);
      assert.equal(record.details.session, undefined);
    });
  }

  test('permission.denied names the permission', async () => {
    const client = new HttpClient(started.url);
    await signIn(client, 'amara', SECRETS.amaraPassword);

    const response = await client.request('/api/audit/events');
    assert.equal(response.status, 403);

    const [record] = await recordsOf(portal, { action: 'permission.denied' });
    assert.ok(record);
    assert.equal(record.actor, AMARA);
    assert.equal(record.target, '/api/audit/events');
    assert.equal(record.outcome, 'denied');
    assert.equal(record.reason, `Permission audit.event.read is not granted to ${AMARA}`);
    assert.equal(record.requestId, response.headers.get('x-request-id'));
    assert.deepEqual(record.details, {
      method: 'GET',
      route: '/api/audit/events',
      permission: 'audit.event.read',
    });
  });

  test('auth.rejected for a session request from another origin', async () => {
    const client = new HttpClient(started.url);
    await signIn(client, 'amara', SECRETS.amaraPassword);

    const response = await client.request('/api/permission/authorize', {
      json: { items: [] },
      headers: { origin: 'http://attacker.example' },
    });
    assert.equal(response.status, 403);

    const [record] = await recordsOf(portal, { action: 'auth.rejected' });
    assert.ok(record);
    assert.equal(record.outcome, 'denied');
    assert.match(record.reason ?? '', /http:\/\/attacker\.example/);
    assert.equal(record.requestId, response.headers.get('x-request-id'));
    assert.deepEqual(record.details, { method: 'POST', route: '/api/permission/authorize' });
  });

  test('a flood of denials gets one record each', async () => {
    const count = 300;
    const before = (await recordsOf(portal, { action: 'auth.unauthenticated' })).length;

    const responses = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        fetch(`${started.url}/api/auth/me`, { headers: { 'x-request-id': `flood-${index}` } }),
      ),
    );
    assert.ok(responses.every((response) => response.status === 401));

    const records = await recordsOf(portal, { action: 'auth.unauthenticated', limit: 10_000 });
    assert.equal(records.length, before + count);
    const ids = new Set(records.map((record) => record.requestId));
    for (let index = 0; index < count; index += 1) {
      assert.ok(ids.has(`flood-${index}`), `request flood-${index} has a record`);
    }
    const report = await portal.audit.verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  });

  test('policy.reloaded with the plan', async () => {
    const text = readFileSync(started.rolesFile, 'utf8');
    const withoutAuditRead = text.replace('      - permission: audit.event.read\n', '');
    assert.notEqual(withoutAuditRead, text, 'the example roles grant audit.event.read');
    portal.permissions.watchRolesFile(createLogger({ level: 'silent' }));
    writeFileSync(
      started.rolesFile,
      `${withoutAuditRead}
  - name: location-readers
    description: "Reads locations; token ${SECRETS.roleDescriptionToken}"
    members:
      - user:amara.okafor
    grants:
      - permission: catalog.location.read
`,
    );

    const record = await waitForRecord(
      portal,
      { action: 'policy.reloaded' },
      (candidate) => candidate.outcome === 'succeeded',
    );
    assert.equal(record.actor, PORTAL_ACTOR);
    assert.equal(record.target, started.rolesFile);
    assert.ok((record.details.roles as string[]).includes('location-readers'));
    const plan = record.details.plan as {
      users: Array<{ subject: string; gained?: string[]; lost?: string[] }>;
      groups: Array<{ subject: string; gained?: string[]; lost?: string[] }>;
      usersChanged: number;
    };
    const sofia = plan.users.find((user) => user.subject === SOFIA);
    assert.deepEqual(sofia?.lost, ['audit.event.read']);
    const amara = plan.users.find((user) => user.subject === AMARA);
    assert.deepEqual(amara?.gained, ['catalog.location.read']);
    const platformTeam = plan.groups.find(
      (group) => group.subject === 'group:default/platform-team',
    );
    assert.deepEqual(platformTeam?.lost, ['audit.event.read']);
    assert.equal(plan.usersChanged, plan.users.length);
  });

  test('policy.reloaded failed keeps the roles', async () => {
    writeFileSync(started.rolesFile, 'roles:\n  - name: Not A Valid Name\n    grants: []\n');

    const record = await waitForRecord(
      portal,
      { action: 'policy.reloaded' },
      (candidate) => candidate.outcome === 'failed',
    );
    assert.match(record.reason ?? '', /the last valid roles stay in force/);
    const faults = record.details.faults as Array<{ path?: string; message: string }>;
    assert.ok(faults.length > 0);
    assert.ok(faults.some((fault) => fault.path?.includes('name')));
    assert.equal(
      portal.permissions
        .currentPolicy()
        .roles.roles.some((role) => role.name === 'location-readers'),
      true,
    );
  });

  test('policy.loaded failed at start-up', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'portal-audit-bad-roles-'));
    const badRoles = path.join(folder, 'roles.yaml');
    writeFileSync(
      badRoles,
      'roles:\n  - name: ok\n    grants:\n      - permission: no.such.permission\n',
    );
    const database = await createTestDatabase(dialect);
    try {
      const loaded = loadConfig([EXAMPLE_CONFIG], {
        overrides: {
          permission: { rolesFile: badRoles },
          catalog: { locations: [], refresh: { intervalSeconds: 0, watch: false } },
          audit: { checkpoint: { intervalSeconds: 0 } },
        },
      });
      await assert.rejects(
        createPortal({
          config: { ...loaded.config, database: database.config },
          logger: createLogger({ level: 'silent' }),
          backgroundRefresh: false,
        }),
      );

      const handle = connectDatabase(database.config);
      try {
        const [record] = await listAuditRecords(handle.db, { action: 'policy.loaded' });
        assert.ok(record);
        assert.equal(record.outcome, 'failed');
        assert.equal(record.target, badRoles);
        assert.match(record.reason ?? '', /./);
        const faults = record.details.faults as Array<{ message: string }>;
        assert.ok(faults.some((fault) => fault.message.includes('no.such.permission')));
      } finally {
        await handle.destroy();
      }
    } finally {
      await database.cleanup();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('auth.sign-in failed at the token endpoint', async () => {
    // auth.oidc points at the portal's own development provider, but with
    // a client secret that the provider does not know.
    second = await startAuditPortal(dialect, (url) => ({
      auth: {
        oidc: {
          issuer: `${url}/dev-idp`,
          clientId: 'backstage-luigi-portal',
          clientSecret: SECRETS.clientSecretInConfig,
        },
      },
    }));
    const client = new HttpClient(second.url);
    const callback = await signIn(client, 'amara', SECRETS.amaraPassword);
    assert.ok(callback.status >= 400, `the callback answered ${callback.status}`);

    const [record] = await recordsOf(second.portal, { action: 'auth.sign-in', outcome: 'failed' });
    assert.ok(record);
    assert.equal(record.actor, null);
    assert.match(record.reason ?? '', /identity provider/);
    assert.equal(record.details.status, callback.status);
    assert.equal(record.requestId, callback.headers.get('x-request-id'));
  });

  test('audit.forward starts with the portal', async () => {
    const received: number[] = [];
    const collector = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ForwardBatch;
        received.push(...body.records.map((record) => record.sequence));
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    const forwarding = await startAuditPortal(dialect, () => ({
      audit: { forward: { url: `http://127.0.0.1:${port}/in` } },
    }));
    try {
      const forwarder = forwarding.portal.auditForwarder;
      assert.ok(forwarder);

      const attempt = await forwarder.forwardOnce();

      assert.equal(attempt.result, 'sent');
      assert.equal(received[0], 1);
      assert.equal(await forwarder.forwardedThrough(), received.at(-1));
    } finally {
      await forwarding.close();
      collector.closeAllConnections();
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  });

  test('audit.forward with a bad header stops the start', async () => {
    await assert.rejects(
      startAuditPortal(dialect, () => ({
        audit: { forward: { url: 'http://127.0.0.1:9/in', headers: { 'Bad Header': 'x' } } },
      })),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.details.some((detail) => detail.path === 'audit.forward.headers.Bad Header'),
    );
  });

  test('no secret reaches the trail', async () => {
    const portals = [portal, second?.portal].filter((item): item is Portal => item !== undefined);
    const actions = new Set<string>();
    const texts: string[] = [];
    for (const each of portals) {
      const records = await recordsOf(each, { limit: 10_000 });
      for (const record of records) {
        actions.add(`${record.action} ${record.outcome}`);
      }
      // The stored rows, as an export or a database reader sees them.
      texts.push(
        JSON.stringify(await each.database.db.selectFrom('audit_records').selectAll().execute()),
      );
    }

    for (const expected of [
      'config.loaded succeeded',
      'policy.loaded succeeded',
      'policy.reloaded succeeded',
      'policy.reloaded failed',
      'catalog.location.refreshed succeeded',
      'auth.sign-in succeeded',
      'auth.sign-in failed',
      'auth.sign-out succeeded',
      'auth.sign-out denied',
      'auth.unauthenticated denied',
      'permission.denied denied',
      'auth.rejected denied',
    ]) {
      assert.ok(actions.has(expected), `the secrets went through ${expected}`);
    }

    const all = texts.join('\n').toLowerCase();
    assert.ok(cookieValues.length > 0, 'the sign-ins set cookies');
    const secrets = [
      ...Object.entries(SECRETS),
      ...cookieValues.map((value, index) => [`cookie ${index}`, value] as const),
    ];
    for (const [name, value] of secrets) {
      assert.equal(all.includes(value.toLowerCase()), false, `${name} is in the trail`);
    }
  });
});
