import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import { catalogPermissionRules, catalogPermissions } from '../../catalog/api/index.js';
import { Policy } from '../policy.js';
import { PermissionRegistry } from '../registry.js';
import { loadRolesFile } from '../roles-file.js';
import type { Principal } from '../types.js';
import { parseConditionalPolicies } from './conditional-policy.js';
import { convertRbacPolicies, type RbacImportResult } from './convert.js';
import { parseRbacCsv } from './csv-policy.js';
import { formatImportedRoles } from './roles-yaml.js';

/** Creates a registry of the catalog's permissions and rules, plus a delete permission. */
function createRegistry(): PermissionRegistry {
  const registry = new PermissionRegistry();
  registry.registerPermissions(...catalogPermissions, {
    name: 'catalog.entity.delete',
    resourceType: 'catalog-entity',
    action: 'delete',
    description: 'Delete catalog entities (registered for these tests only)',
  });
  registry.registerRules(...catalogPermissionRules);
  return registry;
}

const folder = mkdtempSync(path.join(tmpdir(), 'rbac-convert-'));
after(() => rmSync(folder, { recursive: true, force: true }));

interface Imported {
  result: RbacImportResult;
  policy: Policy;
  errors: Array<{ line: number | undefined; message: string }>;
  warnings: Array<{ line: number | undefined; message: string }>;
}

/**
 * Converts inline RBAC files, writes the roles file, and loads it back with
 * loadRolesFile, as the portal would at start-up.
 */
function importPolicies(csvText: string, conditionsText?: string): Imported {
  const registry = createRegistry();
  const csv = parseRbacCsv('rbac-policy.csv', csvText);
  const conditions =
    conditionsText === undefined
      ? undefined
      : parseConditionalPolicies('conditions.yaml', conditionsText);
  const result = convertRbacPolicies(conditions ? { csv, conditions } : { csv }, registry);

  const file = path.join(folder, `roles-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, formatImportedRoles(result, ['rbac-policy.csv']));
  const policy = new Policy(loadRolesFile(file, registry), registry);

  const pick = (severity: string) =>
    result.issues
      .filter((issue) => issue.severity === severity)
      .map((issue) => ({ line: issue.line, message: issue.message }));
  return { result, policy, errors: pick('error'), warnings: pick('warning') };
}

function principal(user: string, groups: string[] = []): Principal {
  return { userEntityRef: user, groupEntityRefs: groups, ownershipEntityRefs: [user, ...groups] };
}

function entity(name: string, owner: string, kind = 'Component'): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind,
    metadata: { name, namespace: 'default' },
    spec: { owner },
    relations: [{ type: 'ownedBy', targetRef: owner }],
  };
}

const ada = principal('user:default/ada', ['group:default/team-a']);
const bob = principal('user:default/bob', ['group:default/team-b']);

describe('convertRbacPolicies', () => {
  test('maps both forms to the registered permission', () => {
    const { result, errors } = importPolicies(
      [
        'p, role:default/r, catalog-entity, read, allow',
        'p, role:default/s, catalog.entity.read, read, allow',
        'p, role:default/t, catalog-entity, delete, allow',
      ].join('\n'),
    );

    assert.deepEqual(errors, []);
    assert.deepEqual(
      result.rolesFile.roles.map((role) => [
        role.name,
        role.grants.map((grant) => grant.permission),
      ]),
      [
        ['r', ['catalog.entity.read']],
        ['s', ['catalog.entity.read']],
        ['t', ['catalog.entity.delete']],
      ],
    );
  });

  test('rejects a permission with another action', () => {
    const { errors, result } = importPolicies(
      'g, user:default/ada, role:default/r\np, role:default/r, catalog.entity.read, update, allow\n',
    );

    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.line, 2);
    assert.match(errors[0]?.message ?? '', /has action 'read', not 'update'/);
    assert.equal(result.rolesFile.roles.length, 0);
  });

  test('explains an unknown permission and converts the rest', () => {
    const { errors, policy, result } = importPolicies(
      [
        'g, user:default/ada, role:default/r',
        'p, role:default/r, kubernetes.proxy, use, allow',
        'p, role:default/r, policy-entity, read, allow',
        'p, role:default/r, catalog-entity, update, allow',
        'p, role:default/r, catalog-entity, read, allow',
      ].join('\n'),
    );

    assert.deepEqual(
      errors.map((error) => error.line),
      [2, 3, 4],
    );
    assert.match(errors[0]?.message ?? '', /permission 'kubernetes\.proxy' is not registered/);
    assert.match(errors[1]?.message ?? '', /resource type 'policy-entity' is not registered/);
    assert.match(
      errors[2]?.message ?? '',
      /resource type 'catalog-entity' has no permission with action 'update'/,
    );
    assert.deepEqual(result.counts, {
      csvLines: 5,
      csvLinesConverted: 2,
      documents: 0,
      documentsConverted: 0,
    });
    assert.equal(policy.authorize(ada, 'catalog.entity.read').result, 'ALLOW');
  });

  test('reads roles assigned before their p lines', () => {
    const { policy, warnings } = importPolicies(
      'g, user:default/ada, role:default/r\n\np, role:default/r, catalog-entity, read, allow\n',
    );

    assert.deepEqual(warnings, []);
    assert.equal(policy.authorize(ada, 'catalog.entity.read').result, 'ALLOW');
    assert.equal(policy.authorize(bob, 'catalog.entity.read').result, 'DENY');
  });

  test('warns about a role without permissions', () => {
    const { result, warnings, errors } = importPolicies(
      'g, group:default/team-a, role:default/empty\np, role:default/r, catalog-entity, read, allow\ng, user:default/bob, role:default/r\n',
    );

    assert.deepEqual(errors, []);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.line, 1);
    assert.match(warnings[0]?.message ?? '', /'role:default\/empty' is assigned, but no p line/);
    assert.deepEqual(
      result.rolesFile.roles.map((role) => role.name),
      ['r'],
    );
  });

  test('warns about a role without members', () => {
    const { warnings, policy } = importPolicies('p, role:default/r, catalog-entity, read, allow\n');

    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.message ?? '', /no g line assigns it/);
    assert.equal(policy.authorize(ada, 'catalog.entity.read').result, 'DENY');
  });

  test('compares references without case', () => {
    const { result, policy } = importPolicies(
      'p, role:default/Base, catalog-entity, read, allow\ng, group:default/Team-A, ROLE:default/BASE\n',
    );

    assert.deepEqual(result.rolesFile.roles[0]?.members, ['group:default/team-a']);
    assert.equal(result.rolesFile.roles[0]?.name, 'base');
    assert.equal(policy.authorize(ada, 'catalog.entity.read').result, 'ALLOW');
  });

  test('names roles of other namespaces after them', () => {
    const { result } = importPolicies(
      'g, user:xyz/user, role:xyz/team_a\np, role:xyz/team_a, catalog-entity, read, allow\np, role:default/team_a, catalog-entity, read, allow\n',
    );

    assert.deepEqual(
      result.rolesFile.roles.map((role) => [role.name, role.members]),
      [
        ['xyz.team_a', ['user:xyz/user']],
        ['team_a', []],
      ],
    );
  });

  test('gives users and groups with permissions a role', () => {
    const { result, policy } = importPolicies(
      'p, user:default/ada, catalog-entity, read, allow\np, group:default/team-b, catalog.location.read, read, allow\n',
    );

    assert.deepEqual(
      result.rolesFile.roles.map((role) => [role.name, role.members]),
      [
        ['user.default.ada', ['user:default/ada']],
        ['group.default.team-b', ['group:default/team-b']],
      ],
    );
    assert.equal(policy.authorize(ada, 'catalog.entity.read').result, 'ALLOW');
    assert.equal(policy.authorize(bob, 'catalog.location.read').result, 'ALLOW');
    assert.equal(policy.authorize(bob, 'catalog.entity.read').result, 'DENY');
  });

  test('deny wins over allow and names its role', () => {
    const { policy } = importPolicies(
      [
        'p, role:default/everyone, catalog-entity, read, deny',
        'p, role:default/admins, catalog-entity, read, allow',
        'g, group:default/all-staff, role:default/everyone',
        'g, group:default/admins, role:default/admins',
      ].join('\n'),
    );
    const both = principal('user:default/ada', ['group:default/all-staff', 'group:default/admins']);

    const decision = policy.authorize(both, 'catalog.entity.read');

    assert.equal(decision.result, 'DENY');
    assert.deepEqual(
      decision.decidedBy.map((source) => [source.role, source.effect]),
      [['everyone', 'deny']],
    );
  });

  test('keeps a repeated line once', () => {
    const { result } = importPolicies(
      'g, user:default/ada, role:default/r\np, role:default/r, catalog-entity, read, allow\np, role:default/r, catalog-entity, read, allow\n',
    );

    assert.equal(result.rolesFile.roles[0]?.grants.length, 1);
  });

  const invalid: Array<[string, RegExp]> = [
    [
      'p, component:default/x, catalog-entity, read, allow',
      /subject 'component:default\/x' has kind 'component'/,
    ],
    [
      'p, team-x, catalog-entity, read, deny',
      /subject 'team-x' is not an entity reference.*this deny is left out/,
    ],
    [
      'g, role:default/a, role:default/b',
      /member 'role:default\/a' has kind 'role': use user:… or group:…/,
    ],
    ['g, user:default/ada, group:default/team-a', /role 'group:default\/team-a' has kind 'group'/],
    ['g, user:default/ada, role:default/Team A', /'team a' is not lowercase letters and digits/],
  ];
  for (const [line, reason] of invalid) {
    test(`rejects '${line}'`, () => {
      const { errors } = importPolicies(`${line}\n`);

      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.line, 1);
      assert.match(errors[0]?.message ?? '', reason);
    });
  }

  test('rejects two roles with one name', () => {
    const { errors, result } = importPolicies(
      'p, role:xyz/a, catalog-entity, read, allow\np, role:default/xyz.a, catalog-entity, read, deny\n',
    );

    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.line, 2);
    assert.match(
      errors[0]?.message ?? '',
      /'role:default\/xyz\.a' and 'role:xyz\/a' both become the role name 'xyz\.a'.*this deny is left out/,
    );
    assert.equal(result.rolesFile.roles.length, 1);
  });

  test('warns where named and typed lines conflict', () => {
    const { warnings, policy } = importPolicies(
      'g, user:default/ada, role:default/r\np, role:default/r, catalog-entity, read, deny\np, role:default/r, catalog.entity.read, read, allow\n',
    );

    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.line, 2);
    assert.match(warnings[0]?.message ?? '', /the RBAC plugin would apply only the named line/);
    assert.equal(policy.authorize(ada, 'catalog.entity.read').result, 'DENY');
  });
});

describe('convertRbacPolicies with conditional policies', () => {
  const conditional = (role: string, actions: string, conditions: string) => `---
result: CONDITIONAL
roleEntityRef: '${role}'
pluginId: catalog
resourceType: catalog-entity
permissionMapping: [${actions}]
conditions:
${conditions
  .split('\n')
  .map((line) => `  ${line}`)
  .join('\n')}
`;
  const ownedBy = (...claims: string[]) =>
    `rule: IS_ENTITY_OWNER\nresourceType: catalog-entity\nparams:\n  claims: [${claims.map((claim) => `'${claim}'`).join(', ')}]`;

  test('grants under the conditions', () => {
    const { policy, errors } = importPolicies(
      'g, user:default/ada, role:default/test\n',
      conditional('role:default/test', 'read', ownedBy('group:default/team-a')),
    );

    assert.deepEqual(errors, []);
    assert.equal(
      policy.authorize(ada, 'catalog.entity.read', entity('a', 'group:default/team-a')).result,
      'ALLOW',
    );
    assert.equal(
      policy.authorize(ada, 'catalog.entity.read', entity('b', 'group:default/team-b')).result,
      'DENY',
    );
    assert.equal(policy.authorize(ada, 'catalog.entity.read').result, 'CONDITIONAL');
  });

  test('reads several documents of one role', () => {
    const { result, errors } = importPolicies(
      'g, user:default/ada, role:default/test\n',
      conditional('role:default/test', 'read', ownedBy('group:default/team-a')) +
        conditional('role:default/test', 'delete', ownedBy('group:default/team-b')),
    );

    assert.deepEqual(errors, []);
    assert.deepEqual(
      result.rolesFile.roles[0]?.grants.map((grant) => grant.permission),
      ['catalog.entity.read', 'catalog.entity.delete'],
    );
    assert.equal(result.counts.documentsConverted, 2);
  });

  test('rejects two documents for one permission', () => {
    const { errors, policy } = importPolicies(
      'g, user:default/ada, role:default/test\n',
      conditional('role:default/test', 'read', ownedBy('group:default/team-a')) +
        conditional('role:default/test', 'read, delete', ownedBy('group:default/team-b')),
    );

    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.line, 17);
    assert.match(errors[0]?.message ?? '', /already has conditions for catalog\.entity\.read/);
    assert.equal(
      policy.authorize(ada, 'catalog.entity.delete', entity('b', 'group:default/team-b')).result,
      'ALLOW',
    );
  });

  test('expands aliases at any depth', () => {
    const { policy, errors } = importPolicies(
      'g, group:default/team-a, role:default/owner-read\n',
      conditional(
        'role:default/owner-read',
        'read',
        [
          'anyOf:',
          '  - { rule: IS_ENTITY_KIND, resourceType: catalog-entity, params: { kinds: [Group, User] } }',
          '  - allOf:',
          '      - { rule: IS_ENTITY_OWNER, resourceType: catalog-entity, params: { claims: [$ownerRefs] } }',
          '      - not: { rule: IS_ENTITY_OWNER, params: { claims: [$currentUser] } }',
        ].join('\n'),
      ),
    );

    assert.deepEqual(errors, []);
    const read = (item: Entity) => policy.authorize(ada, 'catalog.entity.read', item).result;
    assert.equal(read(entity('team-svc', 'group:default/team-a')), 'ALLOW');
    assert.equal(read(entity('own-svc', 'user:default/ada')), 'DENY');
    assert.equal(read(entity('other-svc', 'group:default/team-b')), 'DENY');
    assert.equal(read(entity('team-b', 'group:default/team-b', 'Group')), 'ALLOW');
  });

  test('rejects an unknown rule with its line', () => {
    const { errors, result } = importPolicies(
      'g, user:default/ada, role:default/test\n',
      conditional('role:default/test', 'read', 'rule: IS_OWNER\nparams: { claims: [$ownerRefs] }'),
    );

    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.line, 8);
    assert.match(errors[0]?.message ?? '', /rule 'IS_OWNER' is not registered for catalog-entity/);
    assert.equal(result.rolesFile.roles.length, 0);
  });

  test('rejects parameters that do not fit the rule', () => {
    const { errors } = importPolicies(
      'g, user:default/ada, role:default/test\n',
      conditional(
        'role:default/test',
        'read',
        'rule: IS_ENTITY_OWNER\nparams: { claims: [team-a] }',
      ),
    );

    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /claim 'team-a' is not an entity reference/);
  });

  test('rejects a plugin that does not own the type', () => {
    const { errors } = importPolicies(
      'g, user:default/ada, role:default/test\n',
      conditional('role:default/test', 'read', ownedBy('group:default/team-a')).replace(
        'pluginId: catalog',
        'pluginId: scaffolder',
      ),
    );

    assert.equal(errors[0]?.line, 4);
    assert.match(errors[0]?.message ?? '', /plugin 'scaffolder' does not own resource type/);
  });

  test('rejects an unregistered resource type', () => {
    const { errors } = importPolicies(
      'g, user:default/ada, role:default/test\n',
      conditional('role:default/test', 'read', ownedBy('group:default/team-a')).replace(
        'resourceType: catalog-entity\npermissionMapping',
        'resourceType: scaffolder-template\npermissionMapping',
      ),
    );

    assert.equal(errors[0]?.line, 5);
    assert.match(errors[0]?.message ?? '', /resource type 'scaffolder-template' is not registered/);
  });

  test('converts the mapped actions that exist', () => {
    const { errors, result } = importPolicies(
      'g, user:default/ada, role:default/test\n',
      conditional('role:default/test', 'read, update', ownedBy('group:default/team-a')),
    );

    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.line, 6);
    assert.match(errors[0]?.message ?? '', /no permission with action 'update'/);
    assert.deepEqual(
      result.rolesFile.roles[0]?.grants.map((grant) => grant.permission),
      ['catalog.entity.read'],
    );
    assert.equal(result.counts.documentsConverted, 0);
  });

  test('warns when a plain allow makes conditions moot', () => {
    const { warnings, policy } = importPolicies(
      'g, user:default/ada, role:default/test\np, role:default/test, catalog-entity, read, allow\n',
      conditional('role:default/test', 'read', ownedBy('group:default/team-b')),
    );

    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.message ?? '', /would apply only the conditions: remove that p line/);
    assert.equal(
      policy.authorize(ada, 'catalog.entity.read', entity('a', 'group:default/team-a')).result,
      'ALLOW',
    );
  });

  test('keeps a deny over conditions', () => {
    const { policy } = importPolicies(
      'g, user:default/ada, role:default/test\ng, user:default/ada, role:default/blocked\np, role:default/blocked, catalog-entity, read, deny\n',
      conditional('role:default/test', 'read', ownedBy('group:default/team-a')),
    );

    assert.equal(
      policy.authorize(ada, 'catalog.entity.read', entity('a', 'group:default/team-a')).result,
      'DENY',
    );
  });
});
