import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../test/support/databases.js';
import { PROJECT_ROOT, startTestPortal, type TestPortal } from '../../test/support/portal.js';
import type { Principal } from '../permissions/index.js';
import type { RequestExecutor } from './index.js';

/**
 * The approvers that the execution runner passes to an executor: the users
 * whose approvals decided the request, which the deployment webhook sends
 * in its payload.
 */

const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');
const RULES_FILE = path.join(PROJECT_ROOT, 'test', 'fixtures', 'workflows', 'approval-rules.yaml');
const SERVICE = 'component:default/booking-api';

describeEachDialect('runner approvers', ({ dialect }) => {
  let started: TestPortal;
  let amara: Principal;
  let jonas: Principal;
  const approversSeen = new Map<string, readonly string[] | undefined>();

  const executor: RequestExecutor = {
    type: 'deployment',
    trigger: 'automatic',
    async execute(context) {
      approversSeen.set(context.request.id, context.approvers);
      return { result: { delivered: true } };
    },
  };

  before(async () => {
    started = await startTestPortal({
      dialect,
      overrides: {
        catalog: {
          locations: [
            { type: 'file', target: ORGANISATION_FILE, rules: [{ allow: ['User', 'Group'] }] },
          ],
        },
        workflows: { rulesFile: RULES_FILE, engine: { pollIntervalSeconds: 0.1 } },
      },
      workflows: { executors: [executor] },
    });
    const resolve = async (ref: string): Promise<Principal> => {
      const principal = await started.portal.identity.resolvePrincipal(ref);
      assert.ok(principal, `${ref} is in the example catalog`);
      return principal;
    };
    amara = await resolve('user:default/amara.okafor');
    jonas = await resolve('user:default/jonas.weber');
  });

  after(async () => {
    await started?.close();
  });

  async function executedApprovers(id: string): Promise<readonly string[] | undefined> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (approversSeen.has(id)) {
        return approversSeen.get(id);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`request ${id} did not run within 10 s`);
  }

  test('approved request names its approver', async () => {
    const workflows = started.portal.workflows;
    assert.ok(workflows);
    const request = await workflows.engine.create(amara, {
      type: 'deployment',
      parameters: { entity: SERVICE, environment: 'single', version: '2.0.0' },
    });
    await workflows.engine.decide(jonas, request.id, 'approve', 'fine');

    assert.deepEqual(await executedApprovers(request.id), ['user:default/jonas.weber']);
  });

  test('automatic approval names nobody', async () => {
    const workflows = started.portal.workflows;
    assert.ok(workflows);
    const request = await workflows.engine.create(amara, {
      type: 'deployment',
      parameters: { entity: SERVICE, environment: 'auto', version: '2.0.1' },
    });

    assert.equal(request.state, 'approved');
    assert.deepEqual(await executedApprovers(request.id), []);
  });
});
