import type { ShellNodeConfig } from '../../src/config/index.js';

/** Basic permissions that the generated tool nodes are guarded by, one per team of tools. */
export const GENERATED_TOOL_PERMISSIONS = [
  'tools.build.use',
  'tools.deploy.use',
  'tools.observe.use',
];

/**
 * Generates `groups` top-level nodes of 1 + 9 nodes each (300 nodes for 30
 * groups). Each group has a view, a dynamic `:item` child with a nested
 * `:detail` child whose viewUrl uses both parameters, and six plain tools.
 * The groups rotate through the tool permissions and catalog.entity.read, so
 * a user who holds some of them sees part of the tree.
 */
export function generateShellNodes(groups = 30): ShellNodeConfig[] {
  const permissions = [...GENERATED_TOOL_PERMISSIONS, 'catalog.entity.read'];
  const nodes: ShellNodeConfig[] = [];
  for (let group = 0; group < groups; group++) {
    const permission = permissions[group % permissions.length] ?? 'catalog.entity.read';
    const tools: ShellNodeConfig[] = [];
    for (let tool = 0; tool < 6; tool++) {
      tools.push({
        pathSegment: `tool-${tool}`,
        label: `Tool ${group}.${tool}`,
        viewUrl: `/micro-frontends/tools/${group}/${tool}/`,
        category: `Category ${tool % 3}`,
        permission:
          tool % 2 === 0
            ? permission
            : (permissions[(group + 1) % permissions.length] ?? permission),
        ...(tool === 5
          ? { badgeCounter: { label: 'open', url: `/api/tools/${group}/open-count` } }
          : {}),
      });
    }
    nodes.push({
      pathSegment: `group-${group}`,
      label: `Group ${group}`,
      viewUrl: `/micro-frontends/groups/${group}/`,
      icon: 'product',
      permission,
      context: { group },
      children: [
        {
          pathSegment: ':item',
          hideFromNav: true,
          permission,
          children: [
            {
              pathSegment: ':detail',
              hideFromNav: true,
              viewUrl: `/micro-frontends/groups/${group}/:item/:detail`,
              permission,
            },
          ],
        },
        {
          pathSegment: 'settings',
          label: 'Settings',
          viewUrl: `/micro-frontends/groups/${group}/settings/`,
          permission,
          openNodeInModal: { size: 'm' },
        },
        ...tools,
      ],
    });
  }
  return nodes;
}

/** Counts nodes at every depth. */
export function countNodes(nodes: readonly ShellNodeConfig[]): number {
  return nodes.reduce((sum, node) => sum + 1 + countNodes(node.children ?? []), 0);
}
