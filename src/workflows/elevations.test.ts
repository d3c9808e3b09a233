import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import { describeEachDialect } from '../../test/support/databases.js';
import type { AuditTrail } from '../audit/index.js';
import { openTestTrail } from '../audit/test-helpers.js';
import { migrateToLatest } from '../database/index.js';
import { InputError } from '../errors/index.js';
import { PermissionRegistry, PermissionService, type Principal } from '../permissions/index.js';
import { roleElevationMigrations } from './elevation-migrations.js';
import { createRoleElevationStore, type RoleElevationStore } from './elevations.js';
import { createRoleElevationExecutor } from './executors/role-elevation.js';
import type { ExecutionContext, WorkflowRequest } from './types.js';

const START = Date.parse('2026-12-05T10:00:00.000Z');

const ROLES = `roles:
  - name: incident-responders
    members: [group:sre]
    grants: [{ permission: incident.manage }]
  - name: readers
    members: [user:grace]
    grants: [{ permission: report.read }]
`;

const ada: Principal = {
  userEntityRef: 'user:default/ada',
  ownershipEntityRefs: ['user:default/ada', 'group:default/payments'],
  groupEntityRefs: ['group:default/payments'],
};

const silent = pino({ level: 'silent' });

function requestOf(id: string, parameters: Record<string, unknown>): WorkflowRequest {
  return {
    id,
    type: 'role-elevation',
    requester: ada.userEntityRef,
    entityRef: null,
    parameters,
    reason: 'incident INC-42',
    state: 'executing',
    ruleId: 'elevation',
    breakGlass: false,
    createdAt: new Date(START).toISOString(),
    updatedAt: new Date(START).toISOString(),
    expiresAt: null,
    attempts: 0,
    result: null,
  };
}

function contextOf(
  request: WorkflowRequest,
  maxDurationSeconds: number | undefined,
  attempt = 1,
): ExecutionContext {
  return {
    request,
    idempotencyKey: request.id,
    attempt,
    requester: ada,
    maxDurationSeconds,
    signal: new AbortController().signal,
    logger: silent,
  };
}

describeEachDialect('role elevations', (context) => {
  let folder: string;
  let nowMs: number;
  let permissions: PermissionService;
  let trail: AuditTrail;
  let store: RoleElevationStore;
  let requestNumber = 0;

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'role-elevations-'));
    writeFileSync(path.join(folder, 'roles.yaml'), ROLES);
  });

  after(() => rmSync(folder, { recursive: true, force: true }));

  beforeEach(async () => {
    const handle = context.handle();
    ({ trail } = await openTestTrail(handle));
    await migrateToLatest(handle, [roleElevationMigrations]);
    await sql`delete from workflow_role_elevations`.execute(handle.db);

    nowMs = START;
    const registry = new PermissionRegistry();
    registry.registerPermissions(
      { name: 'incident.manage', action: 'use', description: 'Manage incidents' },
      { name: 'report.read', action: 'read', description: 'Read reports' },
    );
    permissions = new PermissionService(registry, path.join(folder, 'roles.yaml'), {
      now: () => nowMs,
    });
    store = createRoleElevationStore({
      database: handle,
      audit: trail,
      permissions,
      logger: silent,
      now: () => new Date(nowMs),
    });
  });

  /** Returns a new request id for each test, in the UUID form that the engine uses. */
  function nextRequestId(): string {
    requestNumber += 1;
    return `00000000-0000-4000-8000-${String(requestNumber).padStart(12, '0')}`;
  }

  test('decision allows after grant, denies after expiry', async () => {
    const executor = createRoleElevationExecutor({
      store,
      permissions,
      now: () => new Date(nowMs),
    });
    // The plan cache contains the DENY before the grant.
    assert.equal(permissions.authorize(ada, 'incident.manage').result, 'DENY');

    const request = requestOf(nextRequestId(), {
      role: 'incident-responders',
      durationSeconds: 900,
    });
    const { result } = await executor.execute(contextOf(request, 1800));

    assert.equal(permissions.authorize(ada, 'incident.manage').result, 'ALLOW');
    assert.equal(permissions.authorize(ada, 'report.read').result, 'DENY');
    assert.deepEqual(result, {
      role: 'incident-responders',
      member: 'user:default/ada',
      grantedAt: '2026-12-05T10:00:00.000Z',
      expiresAt: '2026-12-05T10:15:00.000Z',
      durationSeconds: 900,
    });

    nowMs = START + 900_000 - 1;
    assert.equal(permissions.authorize(ada, 'incident.manage').result, 'ALLOW');
    nowMs = START + 900_000;
    assert.equal(permissions.authorize(ada, 'incident.manage').result, 'DENY');
  });

  test('duration is capped by the rule', async () => {
    const executor = createRoleElevationExecutor({
      store,
      permissions,
      now: () => new Date(nowMs),
    });
    const request = requestOf(nextRequestId(), {
      role: 'incident-responders',
      durationSeconds: 7200,
    });

    const { result } = await executor.execute(contextOf(request, 600));

    assert.equal(result.durationSeconds, 600);
    assert.equal(result.expiresAt, '2026-12-05T10:10:00.000Z');
  });

  test('grant is stored with its audit record', async () => {
    const requestId = nextRequestId();
    const { elevation, created } = await store.grant({
      requestId,
      member: 'user:default/ada',
      role: 'incident-responders',
      expiresAt: new Date(START + 60_000),
      reason: 'incident INC-42',
    });

    assert.equal(created, true);
    const records = await trail.list({ action: 'role.elevation.granted' });
    assert.equal(records.length, 1);
    assert.equal(records[0]?.actor, 'user:default/ada');
    assert.equal(records[0]?.target, 'role:incident-responders');
    assert.equal(records[0]?.reason, 'incident INC-42');
    assert.deepEqual(records[0]?.details, {
      elevationId: elevation.id,
      requestId,
      role: 'incident-responders',
      member: 'user:default/ada',
      expiresAt: '2026-12-05T10:01:00.000Z',
    });
  });

  test('retried execution grants once', async () => {
    const executor = createRoleElevationExecutor({
      store,
      permissions,
      now: () => new Date(nowMs),
    });
    const request = requestOf(nextRequestId(), {
      role: 'incident-responders',
      durationSeconds: 900,
    });

    const first = await executor.execute(contextOf(request, undefined, 1));
    nowMs += 30_000;
    const second = await executor.execute(contextOf(request, undefined, 2));

    assert.deepEqual(second.result, first.result);
    const rows = await sql<{
      n: number;
    }>`select count(*) as n from workflow_role_elevations`.execute(context.handle().db);
    assert.equal(Number(rows.rows[0]?.n), 1);
    assert.equal((await trail.list({ action: 'role.elevation.granted' })).length, 1);
  });

  test('unknown role names the defined roles', async () => {
    const executor = createRoleElevationExecutor({ store, permissions });
    const request = requestOf(nextRequestId(), { role: 'root', durationSeconds: 900 });

    await assert.rejects(
      executor.execute(contextOf(request, undefined)),
      (error: unknown) =>
        error instanceof InputError &&
        error.message ===
          'Role "root" is not defined in the roles file: request one of incident-responders, readers',
    );
    assert.equal((await trail.list({ action: 'role.elevation.granted' })).length, 0);
  });

  test('non-user member is rejected', async () => {
    await assert.rejects(
      store.grant({
        requestId: nextRequestId(),
        member: 'group:default/payments',
        role: 'readers',
        expiresAt: new Date(START + 60_000),
      }),
      /Role elevation member 'group:default\/payments' is invalid: use a user reference/,
    );
  });

  test('another replica loads the grant', async () => {
    const replicaPermissions = new PermissionService(
      permissions.registry,
      path.join(folder, 'roles.yaml'),
      { now: () => nowMs },
    );
    const replica = createRoleElevationStore({
      database: context.handle(),
      audit: trail,
      permissions: replicaPermissions,
      logger: silent,
      now: () => new Date(nowMs),
      pollIntervalMs: 20,
    });
    await replica.start();
    try {
      assert.equal(replicaPermissions.authorize(ada, 'incident.manage').result, 'DENY');

      await store.grant({
        requestId: nextRequestId(),
        member: 'user:default/ada',
        role: 'incident-responders',
        expiresAt: new Date(START + 60_000),
      });

      const deadline = Date.now() + 5_000;
      while (replicaPermissions.authorize(ada, 'incident.manage').result !== 'ALLOW') {
        assert.ok(Date.now() < deadline, 'the replica did not load the grant within 5 seconds');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await replica.stop();
    }
  });

  test('restarted store restores grants', async () => {
    await store.grant({
      requestId: nextRequestId(),
      member: 'user:default/ada',
      role: 'incident-responders',
      expiresAt: new Date(START + 60_000),
    });
    await store.grant({
      requestId: nextRequestId(),
      member: 'user:default/ada',
      role: 'readers',
      expiresAt: new Date(START + 1_000),
    });
    const restarted = new PermissionService(permissions.registry, path.join(folder, 'roles.yaml'), {
      now: () => nowMs,
    });
    nowMs = START + 1_000;

    const loaded = await createRoleElevationStore({
      database: context.handle(),
      audit: trail,
      permissions: restarted,
      logger: silent,
      now: () => new Date(nowMs),
    }).load();

    assert.deepEqual(
      loaded.map((elevation) => elevation.role),
      ['incident-responders'],
    );
    assert.equal(restarted.authorize(ada, 'incident.manage').result, 'ALLOW');
    assert.equal(restarted.authorize(ada, 'report.read').result, 'DENY');
  });

  test('expiry is recorded once across replicas', async () => {
    const { elevation } = await store.grant({
      requestId: nextRequestId(),
      member: 'user:default/ada',
      role: 'incident-responders',
      expiresAt: new Date(START + 60_000),
    });
    const replica = createRoleElevationStore({
      database: context.handle(),
      audit: trail,
      permissions,
      logger: silent,
      now: () => new Date(nowMs),
    });

    assert.equal(await store.recordExpiries(), 0);
    nowMs = START + 60_000;
    const counts = await Promise.all([store.recordExpiries(), replica.recordExpiries()]);

    assert.equal(counts[0] + counts[1], 1);
    const records = await trail.list({ action: 'role.elevation.expired' });
    assert.equal(records.length, 1);
    assert.equal(records[0]?.details.elevationId, elevation.id);
    assert.equal(await store.recordExpiries(), 0);
  });
});
