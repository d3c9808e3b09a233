import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { StoredEntity } from '../catalog/index.js';
import type { ShellNodeConfig } from '../config/index.js';
import { PermissionRegistry, PermissionService, type Principal } from '../permissions/index.js';
import { REGISTRATION_CODES } from './micro-frontend-entity.js';
import { mergeStored } from './micro-frontend-registry.js';
import { buildUserNavigation } from './navigation.js';
import type { RegistrationRules } from './registrations.js';

const folder = mkdtempSync(path.join(tmpdir(), 'shell-registrations-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const TOOLS_ORIGIN = 'http://127.0.0.1:9101';

function createRegistry(): PermissionRegistry {
  const registry = new PermissionRegistry();
  registry.registerPermissions(
    {
      name: 'catalog.entity.read',
      resourceType: 'catalog-entity',
      action: 'read',
      description: 'Read',
    },
    { name: 'tools.deployments.view', action: 'use', description: 'Use the deployments tool' },
  );
  return registry;
}

function rules(registry = createRegistry()): RegistrationRules {
  return { registry, allowedOrigins: [TOOLS_ORIGIN], entityPage: 'catalog/:kind/:namespace/:name' };
}

const STATIC_NODES: ShellNodeConfig[] = [
  {
    pathSegment: 'catalog',
    viewUrl: '/micro-frontends/catalog/',
    permission: 'catalog.entity.read',
    children: [
      {
        pathSegment: ':kind',
        permission: 'catalog.entity.read',
        children: [
          {
            pathSegment: ':namespace',
            permission: 'catalog.entity.read',
            children: [
              {
                pathSegment: ':name',
                viewUrl: '/micro-frontends/entity/',
                permission: 'catalog.entity.read',
              },
            ],
          },
        ],
      },
    ],
  },
  {
    pathSegment: 'tools',
    label: 'Tools',
    viewUrl: '/micro-frontends/tools/',
    permission: 'catalog.entity.read',
  },
];

function stored(
  name: string,
  spec: Record<string, unknown>,
  apiVersion = 'backstage-luigi.io/v1',
): StoredEntity {
  return {
    entityRef: `microfrontend:default/${name}`,
    locationId: 'location-1',
    file: '/catalog/tools.yaml',
    entity: { apiVersion, kind: 'MicroFrontend', metadata: { name }, spec },
  };
}

const DEPLOYMENTS = {
  path: 'tools/deployments',
  label: 'Deployments',
  viewUrl: `${TOOLS_ORIGIN}/deployments/`,
  permission: 'tools.deployments.view',
  audience: `${TOOLS_ORIGIN}/api`,
  entityTabs: [
    {
      pathSegment: 'deployments',
      label: 'Deployments',
      viewUrl: `${TOOLS_ORIGIN}/entity/:kind/:namespace/:name`,
      kinds: ['Component'],
      types: ['service'],
    },
  ],
};

describe('mergeStored', () => {
  test('valid entity is served below its parent', () => {
    const merged = mergeStored(STATIC_NODES, [stored('deployments', DEPLOYMENTS)], rules());

    assert.deepEqual(merged.faults, []);
    assert.deepEqual(merged.served, ['microfrontend:default/deployments']);
    const tools = merged.nodes.find((node) => node.pathSegment === 'tools');
    assert.deepEqual(tools?.children, [
      {
        pathSegment: 'deployments',
        label: 'Deployments',
        viewUrl: `${TOOLS_ORIGIN}/deployments/`,
        permission: 'tools.deployments.view',
        audience: `${TOOLS_ORIGIN}/api`,
      },
    ]);
  });

  test('static nodes are not changed', () => {
    const before = JSON.stringify(STATIC_NODES);

    mergeStored(STATIC_NODES, [stored('deployments', DEPLOYMENTS)], rules());

    assert.equal(JSON.stringify(STATIC_NODES), before);
  });

  test('entity tab goes below the entity page', () => {
    const merged = mergeStored(STATIC_NODES, [stored('deployments', DEPLOYMENTS)], rules());

    const page = merged.nodes[0]?.children?.[0]?.children?.[0]?.children?.[0];
    assert.equal(page?.pathSegment, ':name');
    assert.deepEqual(
      page?.children?.map((child) => child.pathSegment),
      ['deployments'],
    );
    assert.equal(page?.children?.[0]?.viewUrl, `${TOOLS_ORIGIN}/entity/:kind/:namespace/:name`);
    assert.deepEqual(page?.context?.entityTabs, [
      {
        pathSegment: 'deployments',
        label: 'Deployments',
        permission: 'tools.deployments.view',
        kinds: ['Component'],
        types: ['service'],
      },
    ]);
  });

  const rejected: Array<{
    name: string;
    spec: Record<string, unknown>;
    code: string;
    field: string;
    message: RegExp;
  }> = [
    {
      name: 'unregistered permission',
      spec: { ...DEPLOYMENTS, permission: 'tools.unknown' },
      code: REGISTRATION_CODES.permissionUnknown,
      field: 'spec.permission',
      message: /permission 'tools\.unknown', which is not registered/,
    },
    {
      name: 'origin outside the allowlist',
      spec: { ...DEPLOYMENTS, viewUrl: 'https://evil.example.com/x/' },
      code: REGISTRATION_CODES.originNotAllowed,
      field: 'spec.viewUrl',
      message: /origin https:\/\/evil\.example\.com is not in shell\.allowedOrigins/,
    },
    {
      name: 'relative viewUrl',
      spec: { ...DEPLOYMENTS, viewUrl: '/micro-frontends/audit/' },
      code: REGISTRATION_CODES.originNotAllowed,
      field: 'spec.viewUrl',
      message: /not an absolute URL/,
    },
    {
      name: 'path of a configured node',
      spec: { ...DEPLOYMENTS, path: 'tools' },
      code: REGISTRATION_CODES.pathConflict,
      field: 'spec.path',
      message: /path 'tools', which another node already serves/,
    },
    {
      name: 'path beside a dynamic segment',
      spec: { ...DEPLOYMENTS, path: 'catalog/deployments' },
      code: REGISTRATION_CODES.pathConflict,
      field: 'spec.path',
      message: /beside a dynamic segment/,
    },
    {
      name: 'missing parent',
      spec: { ...DEPLOYMENTS, path: 'nowhere/deployments' },
      code: REGISTRATION_CODES.parentNotFound,
      field: 'spec.path',
      message: /no node 'nowhere' exists/,
    },
    {
      name: 'tab of an existing segment',
      spec: {
        ...DEPLOYMENTS,
        entityTabs: [
          { ...DEPLOYMENTS.entityTabs[0], pathSegment: 'deployments' },
          { ...DEPLOYMENTS.entityTabs[0] },
        ],
      },
      code: REGISTRATION_CODES.pathConflict,
      field: 'spec.entityTabs[1].pathSegment',
      message: /entity tab 'deployments', which another node/,
    },
    {
      name: 'tab parameter the page lacks',
      spec: {
        ...DEPLOYMENTS,
        entityTabs: [{ ...DEPLOYMENTS.entityTabs[0], viewUrl: `${TOOLS_ORIGIN}/:team` }],
      },
      code: REGISTRATION_CODES.invalid,
      field: 'spec.entityTabs[0].viewUrl',
      message: /:team, which no dynamic segment/,
    },
    {
      name: 'missing audience',
      spec: { ...DEPLOYMENTS, audience: undefined },
      code: REGISTRATION_CODES.invalid,
      field: 'spec.audience',
      message: /is missing spec\.audience/,
    },
    {
      name: 'unknown spec key',
      spec: { ...DEPLOYMENTS, viewurl: 'x' },
      code: REGISTRATION_CODES.invalid,
      field: 'spec',
      message: /unknown keys 'viewurl'/,
    },
    {
      name: 'global context key',
      spec: { ...DEPLOYMENTS, context: { permissions: ['x'] } },
      code: REGISTRATION_CODES.invalid,
      field: 'spec.context.permissions',
      message: /sets context\.permissions/,
    },
  ];

  for (const testCase of rejected) {
    test(`${testCase.name} is not served`, () => {
      const merged = mergeStored(STATIC_NODES, [stored('deployments', testCase.spec)], rules());

      assert.deepEqual(merged.served, []);
      assert.equal(merged.faults.length, 1, JSON.stringify(merged.faults));
      assert.equal(merged.faults[0]?.code, testCase.code);
      assert.equal(merged.faults[0]?.field, testCase.field);
      assert.equal(merged.faults[0]?.entityRef, 'microfrontend:default/deployments');
      assert.equal(merged.faults[0]?.file, '/catalog/tools.yaml');
      assert.match(merged.faults[0]?.message ?? '', testCase.message);
      assert.equal(JSON.stringify(merged.nodes), JSON.stringify(STATIC_NODES));
    });
  }

  test('other apiVersion is not served', () => {
    const merged = mergeStored(
      STATIC_NODES,
      [stored('old', DEPLOYMENTS, 'backstage-luigi.io/v0')],
      rules(),
    );

    assert.deepEqual(merged.served, []);
    assert.equal(merged.faults[0]?.field, 'apiVersion');
  });

  test('second entity on one path loses', () => {
    const merged = mergeStored(
      STATIC_NODES,
      [
        stored('a-first', { ...DEPLOYMENTS, entityTabs: undefined }),
        stored('b-second', { ...DEPLOYMENTS, entityTabs: undefined }),
      ],
      rules(),
    );

    assert.deepEqual(merged.served, ['microfrontend:default/a-first']);
    assert.equal(merged.faults.length, 1);
    assert.equal(merged.faults[0]?.entityRef, 'microfrontend:default/b-second');
    assert.equal(merged.faults[0]?.code, REGISTRATION_CODES.pathConflict);
  });
});

describe('registered nodes in navigation', () => {
  const ROLES = `
roles:
  - name: deployers
    members: [group:default/deployers]
    grants:
      - permission: catalog.entity.read
      - permission: tools.deployments.view
  - name: readers
    members: [group:default/readers]
    grants:
      - permission: catalog.entity.read
`;

  function principalOf(name: string, group: string): Principal {
    return {
      userEntityRef: `user:default/${name}`,
      ownershipEntityRefs: [`user:default/${name}`, `group:default/${group}`],
      groupEntityRefs: [`group:default/${group}`],
    };
  }

  const registry = createRegistry();
  const rolesFile = path.join(folder, 'roles.yaml');
  writeFileSync(rolesFile, ROLES);
  const permissions = new PermissionService(registry, rolesFile);
  const merged = mergeStored(STATIC_NODES, [stored('deployments', DEPLOYMENTS)], rules(registry));

  test('holder of the permission sees node and tab', () => {
    const nodes = buildUserNavigation(merged.nodes, principalOf('dana', 'deployers'), permissions);

    const tools = nodes.find((node) => node.pathSegment === 'tools');
    assert.deepEqual(
      tools?.children?.map((child) => child.pathSegment),
      ['deployments'],
    );
    const page = nodes[0]?.children?.[0]?.children?.[0]?.children?.[0];
    assert.deepEqual(
      page?.children?.map((child) => child.pathSegment),
      ['deployments'],
    );
    assert.deepEqual(page?.context?.entityTabs, [
      {
        pathSegment: 'deployments',
        label: 'Deployments',
        kinds: ['Component'],
        types: ['service'],
      },
    ]);
  });

  test('user without the permission sees neither', () => {
    const nodes = buildUserNavigation(merged.nodes, principalOf('rui', 'readers'), permissions);

    const tools = nodes.find((node) => node.pathSegment === 'tools');
    assert.equal(tools?.children, undefined);
    const page = nodes[0]?.children?.[0]?.children?.[0]?.children?.[0];
    assert.equal(page?.children, undefined);
    assert.deepEqual(page?.context?.entityTabs, []);
  });
});
