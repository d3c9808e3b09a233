import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { authorizeBatch } from './authorize-batch.js';
import { type AuthorizeRequestItem, parseAuthorizeRequest } from './authorize-request.js';
import { explainDecision } from './explain.js';
import { Policy } from './policy.js';
import { PermissionRegistry } from './registry.js';
import { parseRolesFile } from './roles-file.js';
import type { Principal } from './types.js';

interface Box {
  ref: string;
  colour: string;
}

const BOXES: Box[] = [
  { ref: 'box:red', colour: 'red' },
  { ref: 'box:blue', colour: 'blue' },
];

/** A registry with one resource type whose loader records every call. */
function createRegistry(calls: string[][]): PermissionRegistry {
  const registry = new PermissionRegistry();
  registry.registerPermissions(
    { name: 'box.open', resourceType: 'box', action: 'use', description: 'Open boxes' },
    { name: 'crate.open', resourceType: 'crate', action: 'use', description: 'Open crates' },
    { name: 'report.use', action: 'use', description: 'Run reports' },
  );
  registry.registerRules({
    name: 'HAS_COLOUR',
    resourceType: 'box',
    description: 'The box has the colour',
    paramsSchema: z.object({ colour: z.string() }),
    apply: (box: Box, params: { colour: string }) => box.colour === params.colour,
    toQuery: (params: { colour: string }) => params,
  });
  registry.registerResourceType({
    resourceType: 'box',
    pluginId: 'boxes',
    getResources: async (refs) => {
      calls.push([...refs]);
      return refs.map((ref) => BOXES.find((box) => box.ref === ref));
    },
  });
  return registry;
}

const ROLES = `
roles:
  - name: red-boxes
    members: [user:ada]
    grants:
      - permission: box.open
        conditions: { rule: HAS_COLOUR, params: { colour: red } }
      - permission: crate.open
`;

const ada: Principal = {
  userEntityRef: 'user:default/ada',
  ownershipEntityRefs: ['user:default/ada'],
  groupEntityRefs: [],
};

function item(
  id: string,
  name: string,
  resourceType: string | undefined,
  resourceRef?: string | string[],
): AuthorizeRequestItem {
  const permission = resourceType
    ? { type: 'resource' as const, name, attributes: {}, resourceType }
    : { type: 'basic' as const, name, attributes: {} };
  return { id, permission, ...(resourceRef === undefined ? {} : { resourceRef }) };
}

test('authorize batch loads each resource once', async () => {
  const calls: string[][] = [];
  const registry = createRegistry(calls);
  const policy = new Policy(parseRolesFile('roles.yaml', ROLES, registry), registry);

  const answered = await authorizeBatch(
    [
      item('1', 'box.open', 'box', 'box:red'),
      item('2', 'box.open', 'box', ['box:blue', 'box:red', 'box:green']),
      item('3', 'report.use', undefined),
    ],
    ada,
    policy,
    registry,
  );

  assert.deepEqual(answered, [
    { id: '1', result: 'ALLOW' },
    { id: '2', result: ['DENY', 'ALLOW', 'DENY'] },
    { id: '3', result: 'DENY' },
  ]);
  assert.deepEqual(calls, [['box:red', 'box:blue', 'box:green']]);
});

test('authorize batch skips loading for definitive decisions', async () => {
  const calls: string[][] = [];
  const registry = createRegistry(calls);
  const policy = new Policy(parseRolesFile('roles.yaml', ROLES, registry), registry);

  const answered = await authorizeBatch(
    [
      item('1', 'crate.open', 'crate', ['crate:a', 'crate:b']),
      item('2', 'crate.open', 'crate', []),
    ],
    ada,
    policy,
    registry,
  );

  assert.deepEqual(answered, [
    { id: '1', result: ['ALLOW', 'ALLOW'] },
    { id: '2', result: 'ALLOW' },
  ]);
  assert.deepEqual(calls, []);
});

test('authorize batch returns conditions without a resource', async () => {
  const registry = createRegistry([]);
  const policy = new Policy(parseRolesFile('roles.yaml', ROLES, registry), registry);

  const answered = await authorizeBatch(
    [item('1', 'box.open', 'box'), item('2', 'box.open', 'box', [])],
    ada,
    policy,
    registry,
  );

  const conditional = {
    result: 'CONDITIONAL',
    pluginId: 'boxes',
    resourceType: 'box',
    conditions: { rule: 'HAS_COLOUR', resourceType: 'box', params: { colour: 'red' } },
  };
  assert.deepEqual(answered, [
    { id: '1', ...conditional },
    { id: '2', ...conditional },
  ]);
});

test('authorize batch fails for a resource type without owner', async () => {
  const registry = new PermissionRegistry();
  registry.registerPermissions({
    name: 'box.open',
    resourceType: 'box',
    action: 'use',
    description: 'Open boxes',
  });
  registry.registerRules({
    name: 'HAS_COLOUR',
    resourceType: 'box',
    description: 'The box has the colour',
    paramsSchema: z.object({ colour: z.string() }),
    apply: () => true,
    toQuery: () => ({}),
  });
  const roles = `
roles:
  - name: red-boxes
    members: [user:ada]
    grants:
      - permission: box.open
        conditions: { rule: HAS_COLOUR, params: { colour: red } }
`;
  const policy = new Policy(parseRolesFile('roles.yaml', roles, registry), registry);

  await assert.rejects(
    authorizeBatch([item('1', 'box.open', 'box')], ada, policy, registry),
    /Resource type box has no registered owner/,
  );
});

test('explain marks conditions of a found resource', async () => {
  const registry = createRegistry([]);
  const policy = new Policy(parseRolesFile('roles.yaml', ROLES, registry), registry);
  const permission = registry.getPermission('box.open')!;

  const red = await explainDecision(ada, permission, 'box:red', policy, registry);
  const none = await explainDecision(ada, permission, undefined, policy, registry);

  assert.equal(red.result, 'ALLOW');
  assert.equal(red.resourceFound, true);
  assert.deepEqual(red.grants, [
    {
      role: 'red-boxes',
      grant: 0,
      effect: 'allow',
      via: ['user:default/ada'],
      allSignedInUsers: false,
      decisive: true,
      matched: true,
      conditions: {
        rule: 'HAS_COLOUR',
        resourceType: 'box',
        params: { colour: 'red' },
        matched: true,
      },
    },
  ]);
  assert.equal(none.result, 'CONDITIONAL');
  assert.equal(none.pluginId, 'boxes');
  assert.equal(none.grants[0]?.matched, undefined);
});

test('authorize request names a nested field', () => {
  assert.throws(
    () =>
      parseAuthorizeRequest({
        items: [{ id: '1', permission: { type: 'resource', name: 'box.open', attributes: {} } }],
      }),
    (error: Error & { details?: Array<{ path?: string }> }) => {
      assert.match(
        error.message,
        /^Authorize request field items\[0\]\.permission\.resourceType is required/,
      );
      assert.equal(error.details?.[0]?.path, 'items[0].permission.resourceType');
      return true;
    },
  );
});

test('authorize request rejects a missing body', () => {
  assert.throws(
    () => parseAuthorizeRequest(undefined),
    /Authorize request body is required \(expected object\)/,
  );
});
