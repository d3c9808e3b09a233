import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { z } from 'zod';
import { type AppConfig, appConfigSchema, type ShellNodeConfig } from '../config/index.js';
import { PermissionRegistry, PermissionService, type Principal } from '../permissions/index.js';
import { createShell } from './index.js';
import { buildUserNavigation, profileFromPrincipal } from './navigation.js';

const folder = mkdtempSync(path.join(tmpdir(), 'shell-navigation-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/**
 * Team A reads the catalog under a condition (CONDITIONAL) and uses the tools.
 * Team B reads the catalog without conditions but is denied the tools. The
 * admin is granted everything.
 */
const ROLES = `
roles:
  - name: team-a
    members: [group:default/team-a]
    grants:
      - permission: catalog.entity.read
        conditions: { rule: IS_KIND, params: { kinds: [component] } }
      - permission: tools.use
  - name: team-b
    members: [group:default/team-b]
    grants:
      - permission: catalog.entity.read
      - permission: tools.use
        effect: deny
  - name: admins
    members: [user:default/root]
    grants:
      - permission: catalog.entity.read
      - permission: tools.use
      - permission: audit.read
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
    { name: 'audit.read', action: 'read', description: 'Read the audit trail' },
  );
  registry.registerRules({
    name: 'IS_KIND',
    resourceType: 'catalog-entity',
    description: 'The entity has one of the kinds',
    paramsSchema: z.object({ kinds: z.array(z.string()) }),
    apply: (entity: { kind: string }, params: { kinds: string[] }) =>
      params.kinds.includes(entity.kind.toLowerCase()),
    toQuery: (params: { kinds: string[] }) => params,
  });
  const rolesFile = path.join(folder, 'roles.yaml');
  writeFileSync(rolesFile, ROLES);
  return new PermissionService(registry, rolesFile);
}

function principalOf(name: string, groups: string[]): Principal {
  const groupRefs = groups.map((group) => `group:default/${group}`);
  return {
    userEntityRef: `user:default/${name}`,
    ownershipEntityRefs: [`user:default/${name}`, ...groupRefs],
    groupEntityRefs: groupRefs,
  };
}

const alice = principalOf('alice', ['team-a']);
const bob = principalOf('bob', ['team-b']);
const root = principalOf('root', []);
const nobody = principalOf('nobody', []);

const NODES: ShellNodeConfig[] = [
  { pathSegment: 'home', label: 'Home', viewUrl: '/micro-frontends/home/', public: true },
  {
    pathSegment: 'catalog',
    label: 'Catalog',
    viewUrl: '/micro-frontends/catalog/',
    icon: 'product',
    category: 'Software',
    context: { catalogPath: '/catalog' },
    permission: 'catalog.entity.read',
    children: [
      {
        pathSegment: ':kind',
        hideFromNav: true,
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
  {
    pathSegment: 'tools',
    label: 'Tools',
    permission: 'catalog.entity.read',
    children: [
      {
        pathSegment: 'deploy',
        label: 'Deploy',
        viewUrl: '/micro-frontends/deploy/',
        permission: 'tools.use',
      },
      {
        pathSegment: 'audit',
        label: 'Audit',
        viewUrl: '/micro-frontends/audit/',
        permission: 'audit.read',
      },
    ],
  },
];

/** Node routes of a navigation, depth first: `catalog`, `catalog/:kind`, … */
function routesOf(nodes: ReturnType<typeof buildUserNavigation>, parent = ''): string[] {
  return nodes.flatMap((node) => {
    const route = parent ? `${parent}/${node.pathSegment}` : node.pathSegment;
    return [route, ...routesOf(node.children ?? [], route)];
  });
}

describe('buildUserNavigation', () => {
  const permissions = createPermissions();

  test('conditional grant keeps the node', () => {
    const routes = routesOf(buildUserNavigation(NODES, alice, permissions));

    assert.ok(routes.includes('catalog'), `catalog missing from ${routes.join(', ')}`);
    assert.ok(
      routes.includes('catalog/:kind/:name'),
      `entity node missing from ${routes.join(', ')}`,
    );
  });

  test('children are filtered per user', () => {
    assert.deepEqual(routesOf(buildUserNavigation(NODES, alice, permissions)), [
      'home',
      'catalog',
      'catalog/:kind',
      'catalog/:kind/:name',
      'tools',
      'tools/deploy',
    ]);
    assert.deepEqual(routesOf(buildUserNavigation(NODES, root, permissions)), [
      'home',
      'catalog',
      'catalog/:kind',
      'catalog/:kind/:name',
      'tools',
      'tools/deploy',
      'tools/audit',
    ]);
  });

  test('parent without a view is dropped when every child is denied', () => {
    const routes = routesOf(buildUserNavigation(NODES, bob, permissions));

    assert.deepEqual(routes, ['home', 'catalog', 'catalog/:kind', 'catalog/:kind/:name']);
  });

  test('user without grants sees only public nodes', () => {
    assert.deepEqual(routesOf(buildUserNavigation(NODES, nobody, permissions)), ['home']);
  });

  test('nodes are mapped to Luigi fields only', () => {
    const [home, catalog] = buildUserNavigation(NODES, alice, permissions);

    assert.deepEqual(home, {
      pathSegment: 'home',
      label: 'Home',
      viewUrl: '/micro-frontends/home/',
      hideSideNav: true,
    });
    assert.deepEqual(catalog?.context, { catalogPath: '/catalog' });
    assert.equal(catalog?.icon, 'product');
    assert.equal(catalog?.category, 'Software');
    assert.equal('permission' in (catalog ?? {}), false);
    const dynamic = catalog?.children?.[0];
    assert.equal(dynamic?.hideFromNav, true);
    assert.equal(dynamic?.label, ':kind');
    assert.equal('viewUrl' in (dynamic ?? {}), false);
  });

  test('side navigation hidden when every child is hidden', () => {
    const [, catalog, tools] = buildUserNavigation(NODES, root, permissions);
    const entity = catalog?.children?.[0]?.children?.[0];

    assert.equal(catalog?.hideSideNav, true);
    assert.equal(catalog?.children?.[0]?.hideSideNav, true);
    assert.equal(entity?.hideSideNav, true);
    assert.equal(tools?.hideSideNav, undefined);
  });

  test('side navigation hidden for a node without children', () => {
    const [home] = buildUserNavigation(NODES, root, permissions);

    assert.equal(home?.hideSideNav, true);
  });
});

describe('profileFromPrincipal', () => {
  test('name is the entity name of the user', () => {
    assert.deepEqual(profileFromPrincipal(alice), {
      name: 'alice',
      userEntityRef: 'user:default/alice',
    });
  });
});

describe('createShell', () => {
  function configWith(nodes: unknown[]): AppConfig {
    return appConfigSchema.parse({
      database: { client: 'better-sqlite3', connection: ':memory:' },
      permission: { rolesFile: path.join(folder, 'roles.yaml') },
      shell: { nodes },
    });
  }

  function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    return { logger, lines };
  }

  const authenticate = async () => undefined;

  test('logs the C11 node that leads nowhere and starts', () => {
    const { logger, lines } = capturingLogger();
    const config = configWith([
      {
        pathSegment: 'home',
        viewUrl: '/micro-frontends/home/',
        public: true,
        children: [{ pathSegment: 'empty', label: 'Empty', viewUrl: '', public: true }],
      },
    ]);

    createShell({
      config,
      logger,
      permissions: createPermissions(),
      authenticate,
      webRoot: folder,
    });

    const errors = lines.filter((line) => line.level === 50);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.node, 'home/empty');
    assert.match(String(errors[0]?.msg), /leads nowhere and is left out/);
  });

  test('throws the ConfigError of invalid nodes', () => {
    const { logger } = capturingLogger();
    const config = configWith([{ pathSegment: 'catalog', viewUrl: '/micro-frontends/catalog/' }]);

    assert.throws(
      () =>
        createShell({
          config,
          logger,
          permissions: createPermissions(),
          authenticate,
          webRoot: folder,
        }),
      (error: unknown) => {
        assert.equal((error as { code?: string }).code, 'CONFIG_INVALID');
        assert.match((error as Error).message, /shell\.nodes is invalid/);
        return true;
      },
    );
  });
});
