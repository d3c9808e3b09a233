import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import { CATALOG_ENTITY_READ } from '../src/catalog/api/index.js';
import { catalogMigrations, createCatalog } from '../src/catalog/index.js';
import { migrateToLatest } from '../src/database/index.js';
import { resolveUserPrincipal } from '../src/identity/index.js';
import { createLogger } from '../src/logging.js';
import {
  PERMISSION_POLICY_READ,
  PermissionRegistry,
  PermissionService,
  policyPermissions,
} from '../src/permissions/index.js';
import { describeEachDialect } from './support/databases.js';

// Policy keeps each principal's plans between decisions. These tests show
// that a change of group membership in the catalog still changes decisions:
// sign-in resolves a new principal from the catalog, and Policy reuses a
// plan only for the same group and ownership references.

const ROLES = `
roles:
  - name: team-a-auditors
    members: [group:default/team-a]
    grants: [{ permission: ${PERMISSION_POLICY_READ} }]
  - name: owners
    allSignedInUsers: true
    grants:
      - permission: ${CATALOG_ENTITY_READ}
        conditions: { rule: IS_ENTITY_OWNER, params: { claims: ['$ownerRefs'] } }
`;

function catalogText(adaGroup: string): string {
  const entities = [
    { kind: 'Group', metadata: { name: 'team-a' }, spec: { type: 'team', children: [] } },
    { kind: 'Group', metadata: { name: 'team-b' }, spec: { type: 'team', children: [] } },
    { kind: 'User', metadata: { name: 'ada' }, spec: { memberOf: [adaGroup] } },
    {
      kind: 'Component',
      metadata: { name: 'orders' },
      spec: { type: 'service', lifecycle: 'production', owner: 'team-a' },
    },
  ];
  return entities
    .map((entity) => stringify({ apiVersion: 'backstage.io/v1alpha1', ...entity }))
    .join('---\n');
}

describeEachDialect('permission decisions after a membership change', (context) => {
  const folder = mkdtempSync(path.join(tmpdir(), 'permission-membership-'));
  after(() => rmSync(folder, { recursive: true, force: true }));

  test('follow the catalog once the principal is resolved again', async () => {
    const catalogFile = path.join(folder, `catalog-${context.dialect}.yaml`);
    const rolesFile = path.join(folder, `roles-${context.dialect}.yaml`);
    writeFileSync(catalogFile, catalogText('team-a'));
    writeFileSync(rolesFile, ROLES);

    const handle = context.handle();
    await migrateToLatest(handle, [catalogMigrations]);
    const registry = new PermissionRegistry();
    registry.registerPermissions(...policyPermissions);
    const catalog = createCatalog({
      database: handle,
      config: {
        locations: [
          { type: 'file', target: catalogFile, rules: [{ allow: ['User', 'Group', 'Component'] }] },
        ],
        refresh: { intervalSeconds: 0, watch: false },
      },
      logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      registry,
    });
    await catalog.refreshAll();
    const permissions = new PermissionService(registry, rolesFile);
    const resolve = async () => {
      const principal = await resolveUserPrincipal('user:default/ada', {
        directory: catalog.directory,
        transitiveGroupOwnership: true,
      });
      assert.ok(principal, 'user:default/ada is in the catalog');
      return principal;
    };
    const loadOrders = async () => {
      const [orders] = await registry
        .getResourceType('catalog-entity')!
        .getResources(['component:default/orders']);
      assert.ok(orders, 'component:default/orders is in the catalog');
      return orders;
    };

    const before = await resolve();
    assert.equal(permissions.authorize(before, PERMISSION_POLICY_READ).result, 'ALLOW');
    assert.equal(
      permissions.authorize(before, CATALOG_ENTITY_READ, await loadOrders()).result,
      'ALLOW',
    );

    writeFileSync(catalogFile, catalogText('team-b'));
    await catalog.refreshAll();
    const moved = await resolve();

    assert.deepEqual(moved.groupEntityRefs, ['group:default/team-b']);
    assert.equal(permissions.authorize(moved, PERMISSION_POLICY_READ).result, 'DENY');
    assert.equal(
      permissions.authorize(moved, CATALOG_ENTITY_READ, await loadOrders()).result,
      'DENY',
    );
  });
});
