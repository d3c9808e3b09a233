import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { ConfigError } from '../errors/index.js';
import { parseRuleParams } from './conditions.js';
import { Policy } from './policy.js';
import type { PermissionRegistry } from './registry.js';
import { parseRolesFile } from './roles-file.js';
import { createItemRegistry, type Item } from './test-registry.js';
import type { Principal } from './types.js';

function createRegistry(): PermissionRegistry {
  return createItemRegistry();
}

const ada: Principal = {
  userEntityRef: 'user:default/ada',
  ownershipEntityRefs: ['user:default/ada', 'group:default/team-x', 'group:default/engineering'],
  groupEntityRefs: ['group:default/team-x', 'group:default/engineering'],
};

/** Parses a roles file that must be invalid and returns its ConfigError. */
function rolesFileError(text: string): ConfigError {
  try {
    parseRolesFile('roles.yaml', text, createRegistry());
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error;
  }
  assert.fail('the roles file was expected to be invalid');
}

function policyOf(yaml: string): Policy {
  const registry = createRegistry();
  return new Policy(parseRolesFile('roles.yaml', yaml, registry), registry);
}

test('policy denies what no role grants', () => {
  const policy = policyOf(
    'roles:\n  - name: r\n    members: [user:ada]\n    grants: [{ permission: item.read }]\n',
  );

  assert.equal(policy.authorize(ada, 'report.use').result, 'DENY');
  assert.deepEqual(policy.authorize(ada, 'report.use').decidedBy, []);
});

test('policy allows an unconditional grant to a group member', () => {
  const policy = policyOf(
    'roles:\n  - name: r\n    members: [group:default/team-x]\n    grants: [{ permission: report.use }]\n',
  );

  const decision = policy.authorize(ada, 'report.use');

  assert.equal(decision.result, 'ALLOW');
  assert.deepEqual(decision.decidedBy, [{ role: 'r', grant: 0, effect: 'allow' }]);
});

test('policy compares member references without case', () => {
  // Case C7: a role member written Team-X matches the user's group team-x.
  const policy = policyOf(
    'roles:\n  - name: base\n    members: [group:default/Team-X]\n    grants: [{ permission: item.read }]\n',
  );

  assert.equal(policy.authorize(ada, 'item.read').result, 'ALLOW');
});

test('policy returns conditions with aliases expanded', () => {
  const policy = policyOf(`
roles:
  - name: owner-read
    members: [user:ada]
    grants:
      - permission: item.read
        conditions:
          anyOf:
            - { rule: IS_KIND, params: { kinds: [group, user] } }
            - not:
                allOf:
                  - { rule: IS_OWNER, params: { claims: ['$ownerRefs', 'group:default/other'] } }
                  - { rule: IS_OWNER, params: { claims: ['$currentUser'] } }
`);

  const decision = policy.authorize(ada, 'item.read');

  assert.equal(decision.result, 'CONDITIONAL');
  assert.deepEqual(decision.result === 'CONDITIONAL' && decision.conditions, {
    anyOf: [
      { rule: 'IS_KIND', params: { kinds: ['group', 'user'] } },
      {
        not: {
          allOf: [
            {
              rule: 'IS_OWNER',
              params: { claims: [...ada.ownershipEntityRefs, 'group:default/other'] },
            },
            { rule: 'IS_OWNER', params: { claims: ['user:default/ada'] } },
          ],
        },
      },
    ],
  });
});

test('policy decides one resource in memory', () => {
  const policy = policyOf(`
roles:
  - name: owner-read
    members: [group:engineering]
    grants:
      - permission: item.read
        conditions: { rule: IS_OWNER, params: { claims: ['$ownerRefs'] } }
`);

  assert.equal(
    policy.authorize(ada, 'item.read', { kind: 'x', owners: ['group:default/team-x'] }).result,
    'ALLOW',
  );
  assert.equal(
    policy.authorize(ada, 'item.read', { kind: 'x', owners: ['group:default/other'] }).result,
    'DENY',
  );
});

test('policy lets an unconditional deny win', () => {
  // Case C8: the user is in both groups; the deny decides and names its role.
  const policy = policyOf(`
roles:
  - name: everyone
    members: [group:default/engineering]
    grants: [{ permission: item.delete, effect: deny }]
  - name: admins
    members: [group:default/team-x]
    grants: [{ permission: item.delete }]
`);

  const decision = policy.authorize(ada, 'item.delete');

  assert.equal(decision.result, 'DENY');
  assert.deepEqual(decision.decidedBy, [{ role: 'everyone', grant: 0, effect: 'deny' }]);
});

test('policy subtracts a conditional deny', () => {
  const policy = policyOf(`
roles:
  - name: readers
    members: [user:ada]
    grants:
      - permission: item.read
      - permission: item.read
        effect: deny
        conditions: { rule: IS_KIND, params: { kinds: [secret] } }
`);

  const decision = policy.authorize(ada, 'item.read');

  assert.equal(decision.result, 'CONDITIONAL');
  assert.deepEqual(decision.result === 'CONDITIONAL' && decision.conditions, {
    not: { rule: 'IS_KIND', params: { kinds: ['secret'] } },
  });
  assert.equal(policy.authorize(ada, 'item.read', { kind: 'secret', owners: [] }).result, 'DENY');
  assert.equal(policy.authorize(ada, 'item.read', { kind: 'plain', owners: [] }).result, 'ALLOW');
});

test('roles file lists every schema fault with its line', () => {
  const text = [
    'roles:',
    '  - name: Bad Name',
    '    members: [team-x, component:default/svc]',
    '    grants:',
    '      - permission: item.read',
    '        conditions: { rule: IS_MISSING, params: {} }',
    '      - permission: report.use',
    '        conditions: { rule: IS_KIND, params: { kinds: [a] } }',
    '      - permission: nothing.here',
    '      - permission: item.read',
    '        conditions: { rule: IS_KIND, params: { kinds: 3 } }',
    '  - name: empty',
    '    grants: []',
    '    extra: true',
    '',
  ].join('\n');

  const error = rolesFileError(text);
  const paths = error.details.map((detail) => detail.path);
  assert.deepEqual(paths, [
    'roles.yaml:2: roles[0].name',
    'roles.yaml:3: roles[0].members[0]',
    'roles.yaml:3: roles[0].members[1]',
    'roles.yaml:13: roles[1].grants',
    'roles.yaml:14: roles[1].extra',
  ]);
  assert.match(
    error.details[1]?.message ?? '',
    /'team-x' has kind|'team-x' is not a member reference/,
  );
  assert.match(
    error.details[2]?.message ?? '',
    /members must be users \(user:…\) or groups \(group:…\)/,
  );
});

test('roles file checks permissions and rules after the schema', () => {
  const text = [
    'roles:',
    '  - name: r',
    '    members: [user:ada]',
    '    grants:',
    '      - permission: item.read',
    '        conditions: { rule: IS_MISSING, params: {} }',
    '      - permission: report.use',
    '        conditions: { rule: IS_KIND, params: { kinds: [a] } }',
    '      - permission: nothing.here',
    '      - permission: item.read',
    '        conditions: { rule: IS_KIND, params: { kinds: [1] } }',
    '  - name: r',
    '    members: [group:x]',
    '    grants: [{ permission: item.read }]',
    '',
  ].join('\n');

  const error = rolesFileError(text);
  const faults = error.details.map((detail) => `${detail.path} ${detail.message}`);
  assert.equal(faults.length, 5, faults.join('\n'));
  assert.match(
    faults[0] ?? '',
    /^roles\.yaml:6: roles\[0\]\.grants\[0\]\.conditions\.rule rule 'IS_MISSING' is not registered for item: use one of IS_KIND, IS_OWNER/,
  );
  assert.match(
    faults[1] ?? '',
    /^roles\.yaml:8: roles\[0\]\.grants\[1\]\.conditions .*has no resource type/,
  );
  assert.match(
    faults[2] ?? '',
    /^roles\.yaml:9: roles\[0\]\.grants\[2\]\.permission permission 'nothing\.here' is not registered/,
  );
  assert.match(
    faults[3] ?? '',
    /^roles\.yaml:11: roles\[0\]\.grants\[3\]\.conditions\.params\.kinds\[0\] parameter of IS_KIND is invalid/,
  );
  assert.match(
    faults[4] ?? '',
    /^roles\.yaml:12: roles\[1\]\.name role 'r' is already defined as roles\[0\]/,
  );
});

test('wildcard grants need an acknowledgement', () => {
  const text = [
    'roles:',
    '  - name: admin',
    '    members: [user:ada]',
    '    grants:',
    "      - permission: '*'",
    '      - permission: item.*',
    '      - permission: nothing.*',
    '        acknowledgeWildcard: true',
    "      - permission: '*'",
    '        acknowledgeWildcard: true',
    '        conditions: { rule: IS_KIND, params: { kinds: [a] } }',
    '      - permission: item.read',
    '        acknowledgeWildcard: true',
    '',
  ].join('\n');

  const error = rolesFileError(text);
  const faults = error.details.map((detail) => `${detail.path} ${detail.message}`);
  assert.equal(faults.length, 5, faults.join('\n'));
  assert.match(
    faults[0] ?? '',
    /^roles\.yaml:5: roles\[0\]\.grants\[0\]\.permission '\*' grants every permission of every capability.*add acknowledgeWildcard: true/,
  );
  assert.match(faults[1] ?? '', /^roles\.yaml:6: .*every permission of the item capability/);
  assert.match(faults[2] ?? '', /^roles\.yaml:7: .*'nothing\.\*' matches no registered permission/);
  assert.match(
    faults[3] ?? '',
    /^roles\.yaml:11: roles\[0\]\.grants\[3\]\.conditions .*resource types \(none\), item/,
  );
  assert.match(faults[4] ?? '', /^roles\.yaml:13: .*not a wildcard.*remove acknowledgeWildcard/);
});

test('acknowledged wildcard grants cover their permissions', () => {
  const policy = policyOf(
    [
      'roles:',
      '  - name: item-admin',
      '    members: [user:ada]',
      '    grants:',
      '      - permission: item.*',
      '        acknowledgeWildcard: true',
      '        conditions: { rule: IS_KIND, params: { kinds: [box] } }',
      '  - name: admin',
      '    members: [user:bob]',
      "    grants: [{ permission: '*', acknowledgeWildcard: true }]",
      '',
    ].join('\n'),
  );
  const bob: Principal = {
    userEntityRef: 'user:default/bob',
    ownershipEntityRefs: ['user:default/bob'],
    groupEntityRefs: [],
  };
  const box: Item = { kind: 'box', owners: [] };
  const crate: Item = { kind: 'crate', owners: [] };

  assert.equal(policy.authorize(ada, 'item.read', box).result, 'ALLOW');
  assert.equal(policy.authorize(ada, 'item.delete', box).result, 'ALLOW');
  assert.equal(policy.authorize(ada, 'item.delete', crate).result, 'DENY');
  assert.equal(policy.authorize(ada, 'report.use').result, 'DENY');
  for (const permission of ['item.read', 'item.delete', 'report.use']) {
    assert.equal(policy.authorize(bob, permission).result, 'ALLOW', permission);
  }
});

test('allSignedInUsers makes every principal a member', () => {
  const policy = policyOf(
    [
      'roles:',
      '  - name: everyone',
      '    allSignedInUsers: true',
      '    grants: [{ permission: report.use }]',
      '  - name: no-members',
      '    grants: [{ permission: item.read }]',
      '',
    ].join('\n'),
  );
  const stranger: Principal = {
    userEntityRef: 'user:default/stranger',
    ownershipEntityRefs: ['user:default/stranger'],
    groupEntityRefs: [],
  };

  assert.equal(policy.authorize(stranger, 'report.use').result, 'ALLOW');
  assert.equal(policy.authorize(stranger, 'item.read').result, 'DENY');
  const error = rolesFileError(
    'roles:\n  - name: r\n    allSignedInUsers: false\n    grants: [{ permission: report.use }]\n',
  );
  assert.equal(error.details[0]?.path, 'roles.yaml:3: roles[0].allSignedInUsers');
  assert.match(error.details[0]?.message ?? '', /false is invalid: expected one of true/);
});

test('rule parameters are parsed once per value', () => {
  let parses = 0;
  const rule = {
    name: 'COUNTED',
    resourceType: 'item',
    description: 'Counts how often its parameters are parsed',
    paramsSchema: z.object({ kinds: z.array(z.string()) }).transform((params) => {
      parses += 1;
      return params;
    }),
    apply: (item: Item, params: { kinds: string[] }) => params.kinds.includes(item.kind),
    toQuery: (params: { kinds: string[] }) => params,
  };

  for (let round = 0; round < 3; round++) {
    assert.equal(parseRuleParams(rule, { kinds: ['box'] }) !== undefined, true);
    assert.deepEqual(parseRuleParams(rule, { kinds: ['crate'] }), { kinds: ['crate'] });
  }
  assert.equal(parses, 2);
});
