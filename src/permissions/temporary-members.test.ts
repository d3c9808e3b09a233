import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { InputError } from '../errors/index.js';
import { explainDecision } from './explain.js';
import { PermissionService } from './service.js';
import { createItemRegistry, type Item } from './test-registry.js';
import type { Principal } from './types.js';

const START = Date.parse('2026-12-05T10:00:00.000Z');

const ROLES = `roles:
  - name: reporters
    members: [user:grace]
    grants: [{ permission: report.use }]
  - name: item-owners
    members: [group:team-b]
    grants:
      - permission: item.delete
        conditions: { rule: IS_OWNER, params: { claims: ['$ownerRefs'] } }
`;

function principalOf(user: string, groups: string[] = []): Principal {
  return {
    userEntityRef: `user:default/${user}`,
    ownershipEntityRefs: [`user:default/${user}`, ...groups],
    groupEntityRefs: groups,
  };
}

describe('temporary role members', () => {
  let folder: string;
  let rolesFile: string;
  let clock: number;
  let service: PermissionService;

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'temporary-members-'));
    rolesFile = path.join(folder, 'roles.yaml');
  });

  after(() => rmSync(folder, { recursive: true, force: true }));

  beforeEach(() => {
    writeFileSync(rolesFile, ROLES);
    clock = START;
    service = new PermissionService(createItemRegistry(), rolesFile, { now: () => clock });
  });

  test('grant applies at once despite cached plan', () => {
    const ada = principalOf('ada');
    assert.equal(service.authorize(ada, 'report.use').result, 'DENY');

    service.setTemporaryMembers([
      { member: 'user:default/ada', role: 'reporters', expiresAt: new Date(START + 60_000) },
    ]);

    const decision = service.authorize(ada, 'report.use');
    assert.equal(decision.result, 'ALLOW');
    assert.deepEqual(decision.decidedBy, [{ role: 'reporters', grant: 0, effect: 'allow' }]);
  });

  test('grant ends exactly at expiry', () => {
    const ada = principalOf('ada');
    service.setTemporaryMembers([
      { member: 'user:ada', role: 'reporters', expiresAt: new Date(START + 60_000) },
    ]);

    clock = START + 59_999;
    assert.equal(service.authorize(ada, 'report.use').result, 'ALLOW');
    clock = START + 60_000;
    assert.equal(service.authorize(ada, 'report.use').result, 'DENY');
    assert.deepEqual(service.listTemporaryMembers(), []);
  });

  test('earlier expiry leaves later grant', () => {
    const ada = principalOf('ada');
    const bob = principalOf('bob');
    service.setTemporaryMembers([
      { member: 'user:ada', role: 'reporters', expiresAt: new Date(START + 1_000) },
      { member: 'user:bob', role: 'reporters', expiresAt: new Date(START + 5_000) },
    ]);
    assert.equal(service.authorize(ada, 'report.use').result, 'ALLOW');
    assert.equal(service.authorize(bob, 'report.use').result, 'ALLOW');

    clock = START + 1_000;
    assert.equal(service.authorize(ada, 'report.use').result, 'DENY');
    assert.equal(service.authorize(bob, 'report.use').result, 'ALLOW');

    clock = START + 5_000;
    assert.equal(service.authorize(bob, 'report.use').result, 'DENY');
  });

  test('replacing the list revokes a grant', () => {
    const ada = principalOf('ada');
    service.setTemporaryMembers([
      { member: 'user:ada', role: 'reporters', expiresAt: new Date(START + 60_000) },
    ]);
    assert.equal(service.authorize(ada, 'report.use').result, 'ALLOW');

    service.setTemporaryMembers([]);

    assert.equal(service.authorize(ada, 'report.use').result, 'DENY');
  });

  test('expired membership is ignored on replace', () => {
    service.setTemporaryMembers([
      { member: 'user:ada', role: 'reporters', expiresAt: new Date(START) },
    ]);

    assert.equal(service.authorize(principalOf('ada'), 'report.use').result, 'DENY');
    assert.deepEqual(service.listTemporaryMembers(), []);
  });

  test('elevated role keeps its conditions', () => {
    const ada = principalOf('ada', ['group:default/team-a']);
    service.setTemporaryMembers([
      { member: 'user:ada', role: 'item-owners', expiresAt: new Date(START + 60_000) },
    ]);
    const owned: Item = { kind: 'service', owners: ['group:default/team-a'] };
    const foreign: Item = { kind: 'service', owners: ['group:default/team-c'] };

    assert.equal(service.authorize(ada, 'item.delete', owned).result, 'ALLOW');
    assert.equal(service.authorize(ada, 'item.delete', foreign).result, 'DENY');
    const conditional = service.authorize(ada, 'item.delete');
    assert.equal(conditional.result, 'CONDITIONAL');
  });

  test('group membership applies to its members', () => {
    service.setTemporaryMembers([
      { member: 'group:default/team-a', role: 'reporters', expiresAt: new Date(START + 60_000) },
    ]);

    assert.equal(
      service.authorize(principalOf('ada', ['group:default/team-a']), 'report.use').result,
      'ALLOW',
    );
    assert.equal(service.authorize(principalOf('bob'), 'report.use').result, 'DENY');
  });

  test('unknown role grants nothing', () => {
    service.setTemporaryMembers([
      { member: 'user:ada', role: 'no-such-role', expiresAt: new Date(START + 60_000) },
    ]);

    assert.equal(service.authorize(principalOf('ada'), 'report.use').result, 'DENY');
  });

  test('invalid member reference is rejected', () => {
    service.setTemporaryMembers([
      { member: 'user:ada', role: 'reporters', expiresAt: new Date(START + 60_000) },
    ]);

    assert.throws(
      () =>
        service.setTemporaryMembers([
          { member: 'component:web', role: 'reporters', expiresAt: new Date(START + 60_000) },
        ]),
      (error: unknown) =>
        error instanceof InputError &&
        /Temporary member of role 'reporters' is invalid/.test(error.message) &&
        /members must be users/.test(error.message),
    );
    assert.equal(service.authorize(principalOf('ada'), 'report.use').result, 'ALLOW');
  });

  test('roles file reload keeps memberships', () => {
    service.setTemporaryMembers([
      { member: 'user:ada', role: 'reporters', expiresAt: new Date(START + 60_000) },
    ]);
    writeFileSync(
      rolesFile,
      `${ROLES}  - name: more\n    members: [user:zed]\n    grants: [{ permission: item.read }]\n`,
    );

    service.reload();

    assert.equal(service.authorize(principalOf('ada'), 'report.use').result, 'ALLOW');
  });

  test('applicable grants name the temporary holder', () => {
    const ada = principalOf('ada');
    const expiresAt = new Date(START + 60_000);
    service.setTemporaryMembers([{ member: 'user:ada', role: 'reporters', expiresAt }]);

    const grants = service.currentPolicy().applicableGrants(ada, 'report.use');

    assert.equal(grants.length, 1);
    assert.deepEqual(grants[0]?.via, ['user:default/ada']);
    assert.deepEqual(grants[0]?.temporaryUntil, expiresAt);
    const permanent = service.currentPolicy().applicableGrants(principalOf('grace'), 'report.use');
    assert.equal(permanent[0]?.temporaryUntil, undefined);
  });

  test('explanation shows the elevation end', async () => {
    const ada = principalOf('ada');
    service.setTemporaryMembers([
      { member: 'user:ada', role: 'reporters', expiresAt: new Date(START + 60_000) },
    ]);
    const permission = service.registry.getPermission('report.use');
    assert.ok(permission);

    const explanation = await explainDecision(
      ada,
      permission,
      undefined,
      service.currentPolicy(),
      service.registry,
    );

    assert.equal(explanation.result, 'ALLOW');
    assert.equal(explanation.grants.length, 1);
    assert.equal(explanation.grants[0]?.temporaryUntil, '2026-12-05T10:01:00.000Z');
    assert.deepEqual(explanation.grants[0]?.via, ['user:default/ada']);
  });
});
