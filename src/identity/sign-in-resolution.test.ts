import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import { seedIdentityCatalog } from '../../test/fixtures/identity/seed-catalog.js';
import { describeEachDialect } from '../../test/support/databases.js';
import { catalogPermissionRules, catalogPermissions } from '../catalog/api/index.js';
import { createCatalogDirectory } from '../catalog/directory.js';
import type { CatalogDirectory } from '../catalog/index.js';
import { AuthenticationError } from '../errors/index.js';
import { PermissionRegistry, Policy, parseRolesFile } from '../permissions/index.js';
import {
  groupRefFromClaim,
  type IdentityClaims,
  readIdentityClaims,
  resolveSignIn,
  resolveUserPrincipal,
} from './sign-in-resolution.js';

describe('readIdentityClaims', () => {
  test('reads the standard claims and the groups array', () => {
    const claims = readIdentityClaims(
      {
        sub: 'u1',
        email: ' ada@example.com ',
        email_verified: true,
        name: 'Ada',
        preferred_username: 'ada',
        roles: ['team-a', 7, '', 'admins'],
      },
      'roles',
    );

    assert.deepEqual(claims, {
      sub: 'u1',
      email: 'ada@example.com',
      emailVerified: true,
      name: 'Ada',
      preferredUsername: 'ada',
      groups: ['team-a', 'admins'],
    });
  });

  test('accepts a groups claim sent as one string', () => {
    assert.deepEqual(readIdentityClaims({ sub: 'u1', groups: 'team-a' }, 'groups').groups, [
      'team-a',
    ]);
  });

  test('reads no groups when the claim is absent', () => {
    assert.deepEqual(readIdentityClaims({ sub: 'u1' }, 'groups').groups, []);
  });
});

describe('groupRefFromClaim', () => {
  const cases: Array<[string, string | undefined]> = [
    ['team-a', 'group:default/team-a'],
    ['Team-A', 'group:default/team-a'],
    ['group:default/admins', 'group:default/admins'],
    ['group:ops/oncall', 'group:ops/oncall'],
    ['user:default/ada', undefined],
    ['a:b:c', undefined],
  ];
  for (const [value, expected] of cases) {
    test(`maps '${value}'`, () => {
      assert.equal(groupRefFromClaim(value), expected);
    });
  }
});

describeEachDialect('resolveSignIn', (context) => {
  let directory: CatalogDirectory;
  const resolve = (claims: Partial<IdentityClaims>, transitiveGroupOwnership = true) =>
    resolveSignIn(
      { sub: claims.sub ?? 'sub-without-user', groups: [], ...claims },
      { directory, transitiveGroupOwnership },
    );

  before(async () => {
    await seedIdentityCatalog(context.handle());
    directory = createCatalogDirectory(context.handle());
  });

  test('matches the user by email ignoring case', async () => {
    const resolution = await resolve({ email: 'ADA@example.com', preferredUsername: 'bob' });

    assert.equal(resolution.principal.userEntityRef, 'user:default/ada');
    assert.equal(resolution.matchedBy, 'email');
  });

  test('falls back to preferred_username', async () => {
    const resolution = await resolve({ email: 'bob@elsewhere.test', preferredUsername: 'bob' });

    assert.equal(resolution.principal.userEntityRef, 'user:default/bob');
    assert.equal(resolution.matchedBy, 'preferred_username');
  });

  test('falls back to sub', async () => {
    const resolution = await resolve({ sub: 'bob', preferredUsername: 'robert' });

    assert.equal(resolution.principal.userEntityRef, 'user:default/bob');
    assert.equal(resolution.matchedBy, 'sub');
  });

  test('skips an email marked unverified', async () => {
    await assert.rejects(
      resolve({ email: 'ada@example.com', emailVerified: false, preferredUsername: 'nobody' }),
      (error: unknown) =>
        error instanceof AuthenticationError && error.message.includes('marked unverified'),
    );
  });

  test('rejects a sign-in that matches no user', async () => {
    await assert.rejects(
      resolve({ sub: 'mallory', email: 'mallory@example.com', preferredUsername: 'mallory' }),
      (error: unknown) => {
        assert.ok(error instanceof AuthenticationError);
        assert.equal(error.code, 'SIGN_IN_USER_NOT_FOUND');
        assert.match(
          error.message,
          /no User entity in the catalog matches email 'mallory@example\.com' or name 'mallory'/,
        );
        assert.match(error.message, /add one/);
        return true;
      },
    );
  });

  test('joins claim groups, memberships and ancestors', async () => {
    const resolution = await resolve({
      email: 'ada@example.com',
      groups: ['platform', 'group:default/Admins', 'no-such-group', 'user:default/bob'],
    });

    assert.deepEqual(resolution.principal.groupEntityRefs, [
      'group:default/admins',
      'group:default/company',
      'group:default/engineering',
      'group:default/platform',
      'group:default/team-a',
    ]);
    assert.deepEqual(resolution.unknownGroups, ['no-such-group', 'user:default/bob']);
  });

  test('includes memberships declared by the group', async () => {
    const resolution = await resolve({ preferredUsername: 'carol' });

    assert.deepEqual(resolution.principal.groupEntityRefs, ['group:default/team-b']);
  });

  test('terminates a group cycle and reports it', async () => {
    const resolution = await resolve({ email: 'cyclist@example.com' });

    assert.deepEqual(resolution.principal.groupEntityRefs, [
      'group:default/loop-a',
      'group:default/loop-b',
    ]);
    assert.deepEqual(resolution.cycles, [['group:default/loop-a', 'group:default/loop-b']]);
  });

  test('owns through ancestors when transitive', async () => {
    const resolution = await resolve({ email: 'user-a@example.com' }, true);

    assert.deepEqual(resolution.principal.ownershipEntityRefs, [
      'user:default/user-a',
      'group:default/group-1',
      'group:default/group-a',
    ]);
  });

  test('owns through direct groups only when not transitive', async () => {
    const resolution = await resolve({ email: 'user-a@example.com' }, false);

    assert.deepEqual(resolution.principal.ownershipEntityRefs, [
      'user:default/user-a',
      'group:default/group-1',
    ]);
    assert.deepEqual(resolution.principal.groupEntityRefs, [
      'group:default/group-1',
      'group:default/group-a',
    ]);
  });

  test('resolves a user reference from the catalog alone', async () => {
    const principal = await resolveUserPrincipal('user:default/Ada', {
      directory,
      transitiveGroupOwnership: true,
    });

    assert.deepEqual(principal, {
      userEntityRef: 'user:default/ada',
      groupEntityRefs: [
        'group:default/company',
        'group:default/engineering',
        'group:default/team-a',
      ],
      ownershipEntityRefs: [
        'user:default/ada',
        'group:default/company',
        'group:default/engineering',
        'group:default/team-a',
      ],
    });
  });

  test('resolves no principal for a missing user', async () => {
    const options = { directory, transitiveGroupOwnership: true };

    assert.equal(await resolveUserPrincipal('user:default/mallory', options), undefined);
    assert.equal(await resolveUserPrincipal('group:default/team-a', options), undefined);
  });

  describe('case C6: ownership through a parent group', () => {
    const svcA: Entity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'svc-a', namespace: 'default' },
      spec: { type: 'service', lifecycle: 'production', owner: 'group-a' },
      relations: [{ type: 'ownedBy', targetRef: 'group:default/group-a' }],
    };
    const rolesYaml = `
roles:
  - name: owner-read
    members: [user:default/user-a]
    grants:
      - permission: catalog.entity.read
        conditions:
          rule: IS_ENTITY_OWNER
          params: { claims: [$ownerRefs] }
`;

    function createPolicy(): Policy {
      const registry = new PermissionRegistry();
      registry.registerPermissions(...catalogPermissions);
      registry.registerRules(...catalogPermissionRules);
      return new Policy(parseRolesFile('roles.yaml', rolesYaml, registry), registry);
    }

    test('user-a owns svc-a with transitive ownership', async () => {
      const { principal } = await resolve({ email: 'user-a@example.com' }, true);

      assert.ok(principal.ownershipEntityRefs.includes('group:default/group-a'));
      assert.equal(
        createPolicy().authorize(principal, 'catalog.entity.read', svcA).result,
        'ALLOW',
      );
    });

    test('user-a does not own svc-a without it', async () => {
      const { principal } = await resolve({ email: 'user-a@example.com' }, false);

      assert.ok(!principal.ownershipEntityRefs.includes('group:default/group-a'));
      assert.equal(createPolicy().authorize(principal, 'catalog.entity.read', svcA).result, 'DENY');
    });
  });
});
