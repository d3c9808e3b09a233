import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { PermissionRegistry, PermissionService, type Principal } from '../permissions/index.js';
import { buildGlobalContext } from './global-context.js';

const folder = mkdtempSync(path.join(tmpdir(), 'shell-global-context-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/**
 * The reader holds every permission, the restricted user is denied the tools
 * by a deny grant, and the stranger matches no role.
 */
const ROLES = `
roles:
  - name: readers
    members: [group:default/readers, group:default/restricted]
    grants:
      - permission: catalog.entity.read
      - permission: catalog.location.read
      - permission: tools.use
  - name: restricted
    members: [group:default/restricted]
    grants:
      - permission: tools.use
        effect: deny
`;

function createPermissions(): PermissionService {
  const registry = new PermissionRegistry();
  registry.registerPermissions(
    {
      name: 'catalog.entity.read',
      resourceType: 'catalog-entity',
      action: 'read',
      description: 'Read catalog entities',
    },
    { name: 'tools.use', action: 'use', description: 'Use the tools' },
    { name: 'catalog.location.read', action: 'read', description: 'Read locations' },
  );
  const rolesFile = path.join(folder, 'roles.yaml');
  writeFileSync(rolesFile, ROLES);
  return new PermissionService(registry, rolesFile);
}

function principalIn(group: string): Principal {
  return {
    userEntityRef: `user:default/${group}-member`,
    ownershipEntityRefs: [`user:default/${group}-member`, `group:default/${group}`],
    groupEntityRefs: [`group:default/${group}`],
  };
}

describe('buildGlobalContext', () => {
  const permissions = createPermissions();

  test('lists held basic permissions sorted', () => {
    const context = buildGlobalContext(principalIn('readers'), permissions);

    assert.deepEqual(context.permissions, ['catalog.location.read', 'tools.use']);
  });

  test('leaves out resource permissions', () => {
    const context = buildGlobalContext(principalIn('readers'), permissions);

    assert.equal(context.permissions.includes('catalog.entity.read'), false);
  });

  test('leaves out denied permissions', () => {
    const context = buildGlobalContext(principalIn('restricted'), permissions);

    assert.deepEqual(context.permissions, ['catalog.location.read']);
  });

  test('user without roles holds nothing', () => {
    const context = buildGlobalContext(principalIn('strangers'), permissions);

    assert.deepEqual(context, { permissions: [] });
  });
});
