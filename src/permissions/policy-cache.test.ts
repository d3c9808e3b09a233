import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { z } from 'zod';
import {
  createSeededRandom,
  type SeededRandom,
  seedFromEnvironment,
} from '../../test/support/seeded-random.js';
import { InputError } from '../errors/index.js';
import { evaluateCriteria, expandAliases } from './conditions.js';
import { Policy } from './policy.js';
import type { AnyPermissionRule, PermissionRegistry } from './registry.js';
import {
  expandGrantPermission,
  parseRolesFile,
  type RoleGrant,
  type RolesFile,
} from './roles-file.js';
import { PermissionService } from './service.js';
import { createItemRegistry, type Item, sharedIsOwner } from './test-registry.js';
import type { ConditionCriteria, Decision, DecisionSource, Principal } from './types.js';

/** Throws for secrets, so the tests show which conditions a decision evaluates and in what order. */
const throwsOnSecret: AnyPermissionRule = {
  name: 'THROWS_ON_SECRET',
  resourceType: 'item',
  description: 'Throws for an item of kind secret, else matches',
  paramsSchema: z.object({ label: z.string() }),
  apply: (item: Item, params: { label: string }) => {
    if (item.kind === 'secret') {
      throw new Error(`THROWS_ON_SECRET ${params.label} evaluated`);
    }
    return true;
  },
  toQuery: (params: { label: string }) => params,
};

function createRegistry(): PermissionRegistry {
  return createItemRegistry(throwsOnSecret);
}

/** Runs a decision and returns it, or the message of what it threw. */
function outcomeOf(decide: () => Decision): Decision | string {
  try {
    return decide();
  } catch (error) {
    return `threw: ${(error as Error).message}`;
  }
}

/**
 * Decides as Policy.authorize did before grants were indexed and plans
 * cached: it filters every grant, expands aliases and evaluates the
 * criteria for each call. The tests compare Policy with it.
 */
function referenceAuthorize(
  roles: RolesFile,
  registry: PermissionRegistry,
  principal: Principal,
  permissionName: string,
  resource?: unknown,
): Decision {
  const permission = registry.getPermission(permissionName);
  assert.ok(permission, `${permissionName} is registered`);
  const identities = new Set([
    principal.userEntityRef.toLowerCase(),
    ...principal.groupEntityRefs.map((ref) => ref.toLowerCase()),
  ]);

  const grants: Array<{ source: DecisionSource; conditions?: ConditionCriteria }> = [];
  for (const role of roles.roles) {
    const members = role.members.map((member) => member.toLowerCase());
    const applies =
      role.allSignedInUsers === true || members.some((member) => identities.has(member));
    role.grants.forEach((grant, index) => {
      const covered = expandGrantPermission(grant.permission, registry).some(
        (item) => item.name === permissionName,
      );
      if (applies && covered) {
        grants.push({
          source: { role: role.name, grant: index, effect: grant.effect },
          ...(grant.conditions ? { conditions: grant.conditions } : {}),
        });
      }
    });
  }

  const denies = grants.filter((grant) => grant.source.effect === 'deny');
  const allows = grants.filter((grant) => grant.source.effect === 'allow');
  const unconditionalDeny = denies.filter((grant) => !grant.conditions);
  if (unconditionalDeny.length > 0) {
    return { result: 'DENY', decidedBy: unconditionalDeny.map((grant) => grant.source) };
  }
  if (allows.length === 0) {
    return { result: 'DENY', decidedBy: [] };
  }
  const unconditionalAllow = allows.filter((grant) => !grant.conditions);
  const anyOf = (items: ConditionCriteria[]) => (items.length === 1 ? items[0]! : { anyOf: items });
  const conditionalDeny = denies.map((grant) => expandAliases(grant.conditions!, principal));
  const allowCriteria =
    unconditionalAllow.length > 0
      ? undefined
      : anyOf(allows.map((grant) => expandAliases(grant.conditions!, principal)));
  if (!allowCriteria && conditionalDeny.length === 0) {
    return { result: 'ALLOW', decidedBy: unconditionalAllow.map((grant) => grant.source) };
  }

  const parts: ConditionCriteria[] = [];
  if (allowCriteria) parts.push(allowCriteria);
  if (conditionalDeny.length > 0) parts.push({ not: anyOf(conditionalDeny) });
  const conditions = parts.length === 1 ? parts[0]! : { allOf: parts };
  const decidedBy = [
    ...(unconditionalAllow.length > 0 ? unconditionalAllow : allows),
    ...denies,
  ].map((grant) => grant.source);
  const resourceType = permission.resourceType!;
  if (resource === undefined) {
    return { result: 'CONDITIONAL', resourceType, conditions, decidedBy };
  }
  const allowed = evaluateCriteria(conditions, resource, resourceType, registry);
  return { result: allowed ? 'ALLOW' : 'DENY', decidedBy };
}

// user:eve, without a namespace, is not canonical, so its aliases are expanded per principal.
const USERS = ['user:default/ada', 'user:default/Bob', 'user:default/cy', 'user:eve'];
const GROUPS = ['group:default/team-a', 'group:default/Team-B', 'group:default/all', 'group:ops/x'];
const KINDS = ['box', 'crate', 'secret'];

let labels = 0;

function generateCriteria(random: SeededRandom, depth: number): ConditionCriteria {
  if (random.chance(0.15)) {
    labels += 1;
    return { rule: 'THROWS_ON_SECRET', params: { label: `c${labels}` } };
  }
  const draw = random.int(depth >= 2 ? 2 : 5);
  if (draw === 0) {
    const claims = random.sample(['$ownerRefs', '$currentUser', ...USERS, ...GROUPS], 3);
    return { rule: 'IS_OWNER', params: { claims: claims.length > 0 ? claims : ['$ownerRefs'] } };
  }
  if (draw === 1) {
    return { rule: 'IS_KIND', params: { kinds: random.sample(KINDS, 2) } };
  }
  const items = Array.from({ length: 1 + random.int(3) }, () =>
    generateCriteria(random, depth + 1),
  );
  if (draw === 2) return { allOf: items };
  if (draw === 3) return { anyOf: items };
  return { not: items[0]! };
}

function generateGrant(random: SeededRandom): RoleGrant {
  const permission = random.pick(['item.read', 'item.delete', 'report.use', 'item.*', '*']);
  const effect = random.chance(0.3) ? 'deny' : 'allow';
  const resourceOnly = permission.startsWith('item.');
  const conditions = resourceOnly && random.chance(0.6) ? generateCriteria(random, 0) : undefined;
  return {
    permission,
    effect,
    ...(permission.includes('*') ? { acknowledgeWildcard: true } : {}),
    ...(conditions ? { conditions } : {}),
  } as RoleGrant;
}

function generateRoles(random: SeededRandom): RolesFile {
  const roles = Array.from({ length: 1 + random.int(5) }, (_, index) => {
    const everyone = random.chance(0.15);
    return {
      name: `role-${index}`,
      members: random.sample([...USERS, ...GROUPS], 3),
      ...(everyone ? { allSignedInUsers: true as const } : {}),
      grants: Array.from({ length: 1 + random.int(3) }, () => generateGrant(random)),
    };
  });
  return { roles } as RolesFile;
}

function generatePrincipal(random: SeededRandom): Principal {
  // Sign-in writes the user reference in lowercase; Policy lowercases it again for roles that do not.
  const written = random.pick(USERS);
  const user = random.chance(0.8) ? written.toLowerCase() : written;
  const groups = random.sample(GROUPS, 3);
  const owning = random.chance(0.5) ? groups : groups.slice(0, 1);
  return { userEntityRef: user, groupEntityRefs: groups, ownershipEntityRefs: [user, ...owning] };
}

/** Copies a principal into a new object with the same references, as sign-in builds one per request. */
function copyOf(principal: Principal): Principal {
  return JSON.parse(JSON.stringify(principal)) as Principal;
}

const SEED_VARIABLE = 'POLICY_CACHE_SEED';
const SEED = seedFromEnvironment(SEED_VARIABLE, 20_261_206);
const ROLES_FILES = 150;

for (const [registryName, registry] of [
  ['expanded per principal', createRegistry()],
  ['shared with claims', createItemRegistry(throwsOnSecret, sharedIsOwner)],
] as const) {
  test(`generated roles match the reference, IS_OWNER ${registryName}`, () => {
    decideGeneratedRoles(registry);
  });
}

function decideGeneratedRoles(registry: PermissionRegistry): void {
  const random = createSeededRandom(SEED);
  const items: Item[] = [
    { kind: 'box', owners: [] },
    { kind: 'crate', owners: ['group:default/team-a'] },
    { kind: 'secret', owners: ['user:default/ada', 'group:ops/x'] },
    { kind: 'box', owners: ['user:default/bob', 'group:default/team-b'] },
    { kind: 'crate', owners: ['user:eve'] },
  ];

  for (let file = 0; file < ROLES_FILES; file++) {
    const roles = generateRoles(random);
    const cached = new Policy(roles, registry, { maxCachedPrincipals: 2 });
    const uncached = new Policy(roles, registry, { maxCachedPrincipals: 0 });
    const principals = Array.from({ length: 6 }, () => generatePrincipal(random));
    const context = `seed ${SEED} (replay with ${SEED_VARIABLE}=${SEED}), roles file ${file}`;

    // Each principal twice as the same object and once as a copy, so that
    // decisions come from new plans, cached plans and plans found by references.
    for (const principal of [...principals, ...principals, ...principals.map(copyOf)]) {
      for (const permission of ['item.read', 'item.delete', 'report.use']) {
        const resources = permission === 'report.use' ? [undefined] : [undefined, ...items];
        for (const resource of resources) {
          const expected = outcomeOf(() =>
            referenceAuthorize(roles, registry, principal, permission, resource),
          );
          const where = `${context}: ${principal.userEntityRef} ${principal.groupEntityRefs.join(',')} ${permission} ${JSON.stringify(resource)}`;
          assert.deepEqual(
            outcomeOf(() => cached.authorize(principal, permission, resource)),
            expected,
            where,
          );
          assert.deepEqual(
            outcomeOf(() => uncached.authorize(principal, permission, resource)),
            expected,
            where,
          );
        }
      }
    }
  }
}

/** Roles that grant item.read on items the principal owns, and report.use to team-a. */
const OWNER_ROLES = `
roles:
  - name: owners
    allSignedInUsers: true
    grants:
      - permission: item.read
        conditions: { rule: IS_OWNER, params: { claims: ['$ownerRefs'] } }
  - name: reporters
    members: [group:default/team-a]
    grants: [{ permission: report.use }]
`;

/** Returns the CONDITIONAL decision of OWNER_ROLES for item.read with the claims expanded. */
function ownersDecision(claims: string[]): Decision {
  return {
    result: 'CONDITIONAL',
    resourceType: 'item',
    conditions: { rule: 'IS_OWNER', params: { claims } },
    decidedBy: [{ role: 'owners', grant: 0, effect: 'allow' }],
  };
}

function principalIn(groups: string[]): Principal {
  return {
    userEntityRef: 'user:default/ada',
    groupEntityRefs: groups,
    ownershipEntityRefs: ['user:default/ada', ...groups],
  };
}

describe('policy cache', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'policy-cache-test-'));
  after(() => rmSync(folder, { recursive: true, force: true }));

  test('reloaded roles decide for a principal seen before', () => {
    const rolesFile = path.join(folder, 'reload.yaml');
    writeFileSync(rolesFile, OWNER_ROLES);
    const service = new PermissionService(createRegistry(), rolesFile);
    const ada = principalIn(['group:default/team-a']);
    assert.equal(service.authorize(ada, 'report.use').result, 'ALLOW');

    writeFileSync(rolesFile, OWNER_ROLES.replace('group:default/team-a', 'group:default/team-b'));
    service.reload();

    assert.equal(service.authorize(ada, 'report.use').result, 'DENY');
  });

  test('a principal resolved again with other groups gets new decisions', () => {
    const registry = createRegistry();
    const rolesFile = path.join(folder, 'membership.yaml');
    writeFileSync(rolesFile, OWNER_ROLES);
    const policy = new PermissionService(registry, rolesFile).currentPolicy();
    const teamItem: Item = { kind: 'box', owners: ['group:default/team-a'] };
    const before = principalIn(['group:default/team-a']);
    assert.equal(policy.authorize(before, 'report.use').result, 'ALLOW');
    assert.equal(policy.authorize(before, 'item.read', teamItem).result, 'ALLOW');

    // Sign-in resolves the same user again after the catalog moved them to team-b.
    const after = principalIn(['group:default/team-b']);

    assert.equal(policy.authorize(after, 'report.use').result, 'DENY');
    assert.equal(policy.authorize(after, 'item.read', teamItem).result, 'DENY');
    assert.deepEqual(
      policy.authorize(after, 'item.read'),
      ownersDecision(['user:default/ada', 'group:default/team-b']),
    );
    assert.equal(policy.authorize(before, 'report.use').result, 'ALLOW');
  });

  test('a principal cannot change after its first decision', () => {
    const policy = new Policy(
      { roles: [{ name: 'r', members: ['group:default/team-a'], grants: [] }] } as RolesFile,
      createRegistry(),
    );
    const ada = principalIn(['group:default/team-a']);
    policy.authorize(ada, 'report.use');

    assert.throws(() => ada.groupEntityRefs.push('group:default/admins'), TypeError);
    assert.throws(() => {
      ada.ownershipEntityRefs[0] = 'user:default/root';
    }, TypeError);
    assert.throws(() => {
      ada.groupEntityRefs = ['group:default/admins'];
    }, TypeError);
    assert.deepEqual(ada.groupEntityRefs, ['group:default/team-a']);
  });

  for (const [registryName, registry] of [
    ['expanded per principal', createRegistry()],
    ['shared with claims', createItemRegistry(throwsOnSecret, sharedIsOwner)],
  ] as const) {
    test(`changed copy is decided anew, IS_OWNER ${registryName}`, () => {
      const policy = new Policy(parseRolesFile('roles.yaml', OWNER_ROLES, registry), registry);
      const teamB: Item = { kind: 'box', owners: ['group:default/team-b'] };
      const first = principalIn(['group:default/team-a']);
      assert.equal(policy.authorize(first, 'item.read', teamB).result, 'DENY');
      const copy = copyOf(first);

      assert.equal(policy.authorize(copy, 'item.read', teamB).result, 'DENY');
      assert.equal(Object.isFrozen(copy), false);
      copy.ownershipEntityRefs.push('group:default/team-b');

      assert.equal(policy.authorize(copy, 'item.read', teamB).result, 'ALLOW');
      assert.equal(policy.authorize(first, 'item.read', teamB).result, 'DENY');
      assert.deepEqual(
        policy.authorize(copyOf(first), 'item.read'),
        ownersDecision(['user:default/ada', 'group:default/team-a']),
      );
    });
  }

  test('two roles of one name keep their own grants', () => {
    // The loader rejects such a file; a RolesFile object can still hold one.
    const roles = {
      roles: [
        {
          name: 'readers',
          members: ['user:default/ada'],
          grants: [{ permission: 'item.read', effect: 'allow' }],
        },
        {
          name: 'readers',
          members: ['user:default/bob'],
          grants: [{ permission: 'item.read', effect: 'deny' }],
        },
        {
          name: 'everyone',
          allSignedInUsers: true,
          members: [],
          grants: [{ permission: 'report.use', effect: 'allow' }],
        },
        {
          name: 'everyone',
          members: ['user:default/bob'],
          grants: [{ permission: 'report.use', effect: 'deny' }],
        },
      ],
    } as RolesFile;
    const registry = createRegistry();
    const cached = new Policy(roles, registry);
    const uncached = new Policy(roles, registry, { maxCachedPrincipals: 0 });
    const item: Item = { kind: 'box', owners: [] };

    const ada = principalIn([]);
    assert.deepEqual(cached.authorize(ada, 'item.read', item), {
      result: 'ALLOW',
      decidedBy: [{ role: 'readers', grant: 0, effect: 'allow' }],
    });
    assert.deepEqual(cached.authorize(ada, 'report.use'), uncached.authorize(ada, 'report.use'));
    assert.equal(cached.authorize(ada, 'report.use').result, 'ALLOW');
  });

  test('principal without ownership references', () => {
    const registry = createItemRegistry(throwsOnSecret, sharedIsOwner);
    const roles = parseRolesFile('roles.yaml', OWNER_ROLES, registry);
    const cached = new Policy(roles, registry);
    const uncached = new Policy(roles, registry, { maxCachedPrincipals: 0 });
    const broken = {
      userEntityRef: 'user:default/ada',
      groupEntityRefs: ['group:default/team-a'],
    } as unknown as Principal;
    const item: Item = { kind: 'box', owners: ['user:default/ada'] };

    assert.equal(cached.authorize(broken, 'report.use').result, 'ALLOW');
    assert.equal(cached.authorize(copyOf(broken), 'report.use').result, 'ALLOW');
    for (const resource of [undefined, item]) {
      assert.deepEqual(
        outcomeOf(() => cached.authorize(copyOf(broken), 'item.read', resource)),
        outcomeOf(() => uncached.authorize(broken, 'item.read', resource)),
      );
    }
  });

  test('a changed CONDITIONAL decision leaves the roles alone', () => {
    const roles = {
      roles: [
        {
          name: 'kinds',
          allSignedInUsers: true,
          members: [],
          grants: [{ permission: 'item.read', effect: 'allow', conditions: { rule: 'IS_KIND' } }],
        },
      ],
    } as RolesFile;
    const policy = new Policy(roles, createRegistry());
    const first = policy.authorize(principalIn([]), 'item.read');
    assert.equal(first.result, 'CONDITIONAL');
    (first as { conditions: { rule: string } }).conditions.rule = 'CHANGED';

    assert.deepEqual(policy.authorize(principalIn([]), 'item.read'), {
      result: 'CONDITIONAL',
      resourceType: 'item',
      conditions: { rule: 'IS_KIND' },
      decidedBy: [{ role: 'kinds', grant: 0, effect: 'allow' }],
    });
  });

  test('a full cache drops the oldest principal and still decides', () => {
    const rolesFile = path.join(folder, 'full.yaml');
    writeFileSync(rolesFile, OWNER_ROLES);
    const registry = createRegistry();
    const service = new PermissionService(registry, rolesFile);
    const policy = new Policy(service.currentPolicy().roles, registry, {
      maxCachedPrincipals: 1,
    });
    const principals = [
      principalIn(['group:default/team-a']),
      { ...principalIn([]), userEntityRef: 'user:default/bob' },
      principalIn(['group:default/team-b']),
    ];

    for (let round = 0; round < 3; round++) {
      for (const principal of principals.map(copyOf)) {
        const expected = principal.groupEntityRefs.includes('group:default/team-a');
        assert.equal(
          policy.authorize(principal, 'report.use').result,
          expected ? 'ALLOW' : 'DENY',
          `round ${round}, ${principal.userEntityRef} in ${principal.groupEntityRefs.join(',')}`,
        );
      }
    }
  });

  test('ALLOW and DENY decisions are frozen and CONDITIONAL ones fresh', () => {
    const rolesFile = path.join(folder, 'frozen.yaml');
    writeFileSync(rolesFile, OWNER_ROLES);
    const policy = new PermissionService(createRegistry(), rolesFile).currentPolicy();
    const ada = principalIn(['group:default/team-a']);

    const allowed = policy.authorize(ada, 'report.use');
    assert.ok(Object.isFrozen(allowed));
    assert.ok(Object.isFrozen(allowed.decidedBy));
    assert.ok(Object.isFrozen(allowed.decidedBy[0]));

    const first = policy.authorize(ada, 'item.read');
    assert.equal(first.result, 'CONDITIONAL');
    first.decidedBy.push({ role: 'changed', grant: 9, effect: 'deny' });
    assert.deepEqual(policy.authorize(ada, 'item.read').decidedBy, [
      { role: 'owners', grant: 0, effect: 'allow' },
    ]);
  });

  test('maxCachedPrincipals must be a whole number', () => {
    for (const value of [-1, 1.5, Number.NaN]) {
      assert.throws(
        () => new Policy({ roles: [] }, createRegistry(), { maxCachedPrincipals: value }),
        (error: unknown) =>
          error instanceof InputError && error.message.includes(`maxCachedPrincipals ${value}`),
      );
    }
  });
});
