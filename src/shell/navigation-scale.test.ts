import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  countNodes,
  GENERATED_TOOL_PERMISSIONS,
  generateShellNodes,
} from '../../test/support/shell-nodes.js';
import { PermissionRegistry, PermissionService, type Principal } from '../permissions/index.js';
import { buildUserNavigation, type LuigiNode } from './navigation.js';
import { validateShellNodes } from './node-validation.js';

const folder = mkdtempSync(path.join(tmpdir(), 'shell-scale-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/** The builder holds one tool permission; the admin holds all. */
const ROLES = `
roles:
  - name: builders
    members: [group:default/builders]
    grants:
      - permission: tools.build.use
  - name: admins
    members: [group:default/admins]
    grants:
      - permission: tools.build.use
      - permission: tools.deploy.use
      - permission: tools.observe.use
      - permission: catalog.entity.read
`;

function principalOf(group: string): Principal {
  return {
    userEntityRef: `user:default/${group}-member`,
    ownershipEntityRefs: [`user:default/${group}-member`, `group:default/${group}`],
    groupEntityRefs: [`group:default/${group}`],
  };
}

function countLuigiNodes(nodes: readonly LuigiNode[]): number {
  return nodes.reduce((sum, node) => sum + 1 + countLuigiNodes(node.children ?? []), 0);
}

describe('navigation of 300 nodes', () => {
  const registry = new PermissionRegistry();
  registry.registerPermissions(
    {
      name: 'catalog.entity.read',
      resourceType: 'catalog-entity',
      action: 'read',
      description: 'Read',
    },
    ...GENERATED_TOOL_PERMISSIONS.map((name) => ({
      name,
      action: 'use' as const,
      description: name,
    })),
  );
  const rolesFile = path.join(folder, 'roles.yaml');
  writeFileSync(rolesFile, ROLES);
  const permissions = new PermissionService(registry, rolesFile);
  const generated = generateShellNodes(30);

  test('generated tree has 300 valid nodes', () => {
    assert.equal(countNodes(generated), 300);
    const { nodes, dropped } = validateShellNodes(generated, registry);
    assert.equal(countNodes(nodes), 300);
    assert.deepEqual(dropped, []);
  });

  test('admin sees every node', () => {
    const nodes = buildUserNavigation(generated, principalOf('admins'), permissions);

    assert.equal(countLuigiNodes(nodes), 300);
  });

  test('builder sees only build nodes', () => {
    const nodes = buildUserNavigation(generated, principalOf('builders'), permissions);

    // Groups 0, 4, …, 28 are build groups: 8 of them, each with its view, the
    // two dynamic nodes, settings and tools 0, 2 and 4.
    assert.equal(nodes.length, 8);
    assert.deepEqual(
      nodes.map((node) => node.pathSegment),
      [0, 4, 8, 12, 16, 20, 24, 28].map((group) => `group-${group}`),
    );
    assert.equal(countLuigiNodes(nodes), 8 * 7);
    // Groups 3, 7, … are catalog groups whose odd tools are build tools, but the builder
    // cannot open the group itself, so those tools stay hidden too.
    assert.equal(
      nodes.some((node) => node.pathSegment === 'group-3'),
      false,
    );
  });

  test('nested dynamic viewUrl keeps both parameters', () => {
    const nodes = buildUserNavigation(generated, principalOf('admins'), permissions);

    const detail = nodes[0]?.children?.[0]?.children?.[0];
    assert.equal(detail?.pathSegment, ':detail');
    assert.equal(detail?.viewUrl, '/micro-frontends/groups/0/:item/:detail');
  });

  test('user without roles sees nothing', () => {
    const nodes = buildUserNavigation(generated, principalOf('nobody'), permissions);

    assert.deepEqual(nodes, []);
  });

  test('computes in under 2 ms at the median', () => {
    const principal = principalOf('admins');
    for (let index = 0; index < 50; index++) {
      buildUserNavigation(generated, principal, permissions);
    }
    const durations: number[] = [];
    for (let index = 0; index < 200; index++) {
      const started = performance.now();
      buildUserNavigation(generated, principal, permissions);
      durations.push(performance.now() - started);
    }
    durations.sort((a, b) => a - b);
    const median = durations[100] ?? Number.NaN;
    // NOTE: a loose bound, so a busy shared machine does not fail the test; bench/shell.ts reports the figures.
    assert.ok(median < 2, `median ${median.toFixed(3)} ms is not under 2 ms`);
  });
});
