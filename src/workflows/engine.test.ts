import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Kysely } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { PROJECT_ROOT, startTestPortal, type TestPortal } from '../../test/support/portal.js';
import { ConflictError, InputError, NotAllowedError } from '../errors/index.js';
import type { Principal } from '../permissions/index.js';
import type { RequestEngine, Workflows } from './index.js';
import type { WorkflowTables } from './tables.js';

/**
 * The request engine against a real portal and database: each rule form of
 * test/fixtures/workflows/approval-rules.yaml, each transition, and fifty
 * concurrent decisions of one request.
 */

const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');
const RULES_FILE = path.join(PROJECT_ROOT, 'test', 'fixtures', 'workflows', 'approval-rules.yaml');
const BOOKING_API = 'component:default/booking-api';

/** Builds a booking-team engineer who is not in the catalog, so fifty of them can exist. */
function bookingEngineer(name: string): Principal {
  const user = `user:default/${name}`;
  const groups = [
    'group:default/booking-team',
    'group:default/customer-experience',
    'group:default/engineering',
    'group:default/kestrel',
  ];
  return { userEntityRef: user, ownershipEntityRefs: [user, ...groups], groupEntityRefs: groups };
}

describeEachDialect('request engine', ({ dialect }) => {
  let started: TestPortal;
  let workflows: Workflows;
  let engine: RequestEngine;
  let amara: Principal;
  let jonas: Principal;
  let priya: Principal;
  let ines: Principal;
  let sofia: Principal;

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
        workflows: { rulesFile: RULES_FILE },
      },
    });
    assert.ok(started.portal.workflows, 'the engine runs when workflows.rulesFile is set');
    workflows = started.portal.workflows;
    engine = workflows.engine;
    const resolve = async (ref: string) => {
      const principal = await started.portal.identity.resolvePrincipal(ref);
      assert.ok(principal, `${ref} resolves`);
      return principal;
    };
    amara = await resolve('user:default/amara.okafor');
    jonas = await resolve('user:default/jonas.weber');
    priya = await resolve('user:default/priya.raman');
    ines = await resolve('user:default/ines.duarte');
    sofia = await resolve('user:default/sofia.rossi');
  });

  after(async () => {
    await started?.close();
  });

  const deploy = (
    principal: Principal,
    environment: string,
    entity = BOOKING_API,
    reason?: string,
  ) =>
    engine.create(principal, {
      type: 'deployment',
      parameters: { entity, environment, version: '1.0.0' },
      reason,
    });

  const actionsOf = async (id: string) =>
    (await started.portal.audit.list({ target: `workflow-request:${id}`, limit: 100 })).map(
      (record) => record.action,
    );

  test('auto-approve rule approves the owner', async () => {
    const request = await deploy(amara, 'auto');
    assert.equal(request.state, 'approved');
    assert.equal(request.ruleId, 'auto');
    assert.deepEqual(await actionsOf(request.id), ['request.submitted', 'request.approved']);
  });

  test('requesterOwnsEntity false skips the rule', async () => {
    // sofia is platform-admin: she may not create (developer role grants owners only).
    await assert.rejects(deploy(sofia, 'auto'), NotAllowedError);
  });

  test('single approval by a teammate', async () => {
    const request = await deploy(amara, 'single');
    assert.equal(request.state, 'submitted');
    await assert.rejects(engine.decide(amara, request.id, 'approve', 'mine'), NotAllowedError);
    await assert.rejects(engine.decide(priya, request.id, 'approve', undefined), NotAllowedError);
    const approved = await engine.decide(jonas, request.id, 'approve', 'ok');
    assert.equal(approved.state, 'approved');
    assert.equal(approved.approvalsReceived, 1);
    assert.deepEqual(await actionsOf(request.id), [
      'request.submitted',
      'permission.denied',
      'permission.denied',
      'request.approved',
    ]);
  });

  test('one denial denies', async () => {
    const request = await deploy(amara, 'quorum');
    await engine.decide(bookingEngineer('first'), request.id, 'approve', undefined);
    const denied = await engine.decide(jonas, request.id, 'deny', 'not today');
    assert.equal(denied.state, 'denied');
    assert.deepEqual(
      denied.decisions.map((decision) => decision.decision),
      ['approve', 'deny'],
    );
    await assert.rejects(
      engine.decide(bookingEngineer('late'), request.id, 'approve', undefined),
      ConflictError,
    );
  });

  test('quorum needs three approvers', async () => {
    const request = await deploy(amara, 'quorum');
    const first = await engine.decide(bookingEngineer('a'), request.id, 'approve', undefined);
    assert.equal(first.state, 'submitted');
    await assert.rejects(
      engine.decide(bookingEngineer('a'), request.id, 'approve', undefined),
      ConflictError,
      'a second decision of the same approver is a conflict',
    );
    const second = await engine.decide(bookingEngineer('b'), request.id, 'approve', undefined);
    assert.equal(second.state, 'submitted');
    const third = await engine.decide(bookingEngineer('c'), request.id, 'approve', undefined);
    assert.equal(third.state, 'approved');
    assert.equal(third.approvalsReceived, 3);
    assert.deepEqual(await actionsOf(request.id), [
      'request.submitted',
      'request.approval-added',
      'request.approval-added',
      'request.approved',
    ]);
  });

  test('source minimums need security too', async () => {
    const hannah = await started.portal.identity.resolvePrincipal('user:default/hannah.berg');
    assert.ok(hannah, 'hannah resolves');
    const request = await deploy(amara, 'security-review', 'component:default/address-validator');
    assert.equal(request.approvalsRequired, 2);

    const first = await engine.decide(jonas, request.id, 'approve', undefined);
    assert.equal(first.state, 'submitted');
    const ownerInbox = await engine.inbox(bookingEngineer('d'));
    assert.ok(
      !ownerInbox.some((item) => item.id === request.id),
      'another owner cannot move it forward',
    );
    const securityInbox = await engine.inbox(hannah);
    assert.ok(securityInbox.some((item) => item.id === request.id));
    const second = await engine.decide(bookingEngineer('d'), request.id, 'approve', undefined);
    assert.equal(second.state, 'submitted', 'two owners are not enough');
    assert.equal(second.approvalsReceived, 2);
    const records = await started.portal.audit.list({
      target: `workflow-request:${request.id}`,
      action: 'request.approval-added',
      limit: 10,
    });
    const afterSecond = records.find((record) => record.details.approvals === 2);
    assert.deepEqual(afterSecond?.details.missing, [
      { source: 'group:default/security-team', approvals: 1 },
    ]);

    const third = await engine.decide(hannah, request.id, 'approve', undefined);
    assert.equal(third.state, 'approved');
    assert.equal(third.approvalsReceived, 3);
  });

  test('named group approves, owners do not', async () => {
    const request = await deploy(amara, 'sre');
    await assert.rejects(engine.decide(jonas, request.id, 'approve', undefined), NotAllowedError);
    // ines is in sre-team but has no deployment.request.approve grant in the example roles.
    await assert.rejects(engine.decide(ines, request.id, 'approve', undefined), NotAllowedError);
    const inbox = await engine.inbox(jonas);
    assert.ok(!inbox.some((item) => item.id === request.id));
  });

  test('reason required by the rule', async () => {
    await assert.rejects(deploy(amara, 'reasoned'), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.details[0]?.path, 'reason');
      return true;
    });
    const request = await deploy(amara, 'reasoned', BOOKING_API, 'hotfix');
    assert.equal(request.reason, 'hotfix');
  });

  test('labels, lifecycle, kind and system match', async () => {
    const lab = await deploy(amara, 'lab', 'component:default/address-validator');
    assert.equal(lab.ruleId, 'experimental');
    assert.equal(lab.state, 'approved');

    const personal = await deploy(amara, 'other', 'component:default/address-validator');
    assert.equal(personal.ruleId, 'personal-data');
  });

  test('no matching rule rejects', async () => {
    await assert.rejects(deploy(amara, 'lab'), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.code, 'REQUEST_NO_RULE');
      assert.match(error.message, /add a rule/);
      return true;
    });
  });

  test('maxDuration caps role elevation', async () => {
    await assert.rejects(
      engine.create(amara, {
        type: 'role-elevation',
        parameters: { role: 'platform-admin', durationSeconds: 3 * 3600 },
        reason: 'incident',
      }),
      (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.details[0]?.path, 'parameters.durationSeconds');
        return true;
      },
    );
    const request = await engine.create(amara, {
      type: 'role-elevation',
      parameters: { role: 'platform-admin', durationSeconds: 3600 },
      reason: 'incident',
    });
    const inbox = await engine.inbox(sofia);
    const item = inbox.find((entry) => entry.id === request.id);
    assert.ok(item, 'the platform team sees the elevation in its inbox');
    assert.equal(item.rule?.id, 'elevation');
  });

  test('pending request expires', async () => {
    const request = await deploy(amara, 'expiring');
    assert.ok(request.expiresAt);
    const db = started.portal.database.db as Kysely<WorkflowTables>;
    await db
      .updateTable('workflow_requests')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', request.id)
      .execute();

    await assert.rejects(engine.decide(jonas, request.id, 'approve', undefined), /expired/);
    const expired = await workflows.sweeper.sweep();
    assert.ok(expired >= 1);
    const after = await engine.find(request.id);
    assert.equal(after?.state, 'expired');
    assert.deepEqual(await actionsOf(request.id), ['request.submitted', 'request.expired']);
    await assert.rejects(engine.cancel(amara, request.id), ConflictError);
  });

  test('cancel from submitted and approved', async () => {
    const submitted = await deploy(amara, 'single');
    assert.equal((await engine.cancel(amara, submitted.id)).state, 'cancelled');
    const approved = await deploy(amara, 'auto');
    assert.equal((await engine.cancel(amara, approved.id)).state, 'cancelled');
    await assert.rejects(engine.cancel(amara, approved.id), ConflictError);
  });

  test('approval without executor returns why it waits', async () => {
    // This portal configures no deployment executor.
    const submitted = await deploy(amara, 'single');
    assert.equal(submitted.result, null);
    const approved = await engine.decide(jonas, submitted.id, 'approve', 'ok');
    assert.equal(approved.state, 'approved');
    assert.match(
      String(approved.result?.message),
      /^No executor is registered for deployment requests.*: configure workflows\.deployment$/,
    );
    const automatic = await deploy(amara, 'auto');
    assert.match(String(automatic.result?.message), /^No executor is registered for deployment/);
  });

  test('cancel clears a stale result', async () => {
    const approved = await deploy(amara, 'auto');
    assert.ok(approved.result?.message, 'the missing-executor message is stored');
    const cancelled = await engine.cancel(amara, approved.id);
    assert.equal(cancelled.state, 'cancelled');
    assert.equal(cancelled.result, null);
    assert.equal((await engine.find(approved.id))?.result, null);
  });

  test('fifty concurrent decisions give one outcome', async () => {
    const request = await deploy(amara, 'single');
    const deciders = Array.from({ length: 50 }, (_, index) => ({
      principal: bookingEngineer(`racer-${index}`),
      decision: index % 2 === 0 ? ('approve' as const) : ('deny' as const),
    }));

    const results = await Promise.allSettled(
      deciders.map(({ principal, decision }) =>
        engine.decide(principal, request.id, decision, undefined),
      ),
    );

    const fulfilled = results.filter((result) => result.status === 'fulfilled');
    const rejected = results.filter((result) => result.status === 'rejected');
    assert.equal(fulfilled.length, 1, 'exactly one decision succeeds');
    for (const result of rejected) {
      assert.ok((result as PromiseRejectedResult).reason instanceof ConflictError);
    }

    const final = await engine.find(request.id);
    assert.ok(final?.state === 'approved' || final?.state === 'denied');
    assert.equal(final.decisions.length, 1);
    const outcomes = (await actionsOf(request.id)).filter(
      (action) => action === 'request.approved' || action === 'request.denied',
    );
    assert.equal(outcomes.length, 1);
  });

  test('fifty concurrent approvals reach the quorum once', async () => {
    const request = await deploy(amara, 'quorum');
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, index) =>
        engine.decide(bookingEngineer(`quorum-${index}`), request.id, 'approve', undefined),
      ),
    );
    assert.equal(results.filter((result) => result.status === 'fulfilled').length, 3);
    const final = await engine.find(request.id);
    assert.equal(final?.state, 'approved');
    assert.equal(final?.decisions.length, 3);
    const actions = await actionsOf(request.id);
    assert.equal(actions.filter((action) => action === 'request.approved').length, 1);
    assert.equal(actions.filter((action) => action === 'request.approval-added').length, 2);
  });
});
