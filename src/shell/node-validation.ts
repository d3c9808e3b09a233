import type { ShellNodeConfig } from '../config/index.js';
import { ConfigError, type ErrorDetail } from '../errors/index.js';
import type { PermissionRegistry } from '../permissions/index.js';
import { GLOBAL_CONTEXT_KEYS } from './global-context.js';

/** A node left out of the navigation because it leads nowhere. */
export interface DroppedNode {
  /** The node's route, such as `home/empty`. */
  nodePath: string;
  /** Config path of the node, such as `shell.nodes[0].children[1]`. */
  field: string;
  reason: string;
}

export interface ValidatedNodes {
  /** The configured nodes without the dropped ones. */
  nodes: ShellNodeConfig[];
  dropped: DroppedNode[];
}

/** One path segment: no `/`, `?`, `#` or whitespace, as Luigi matches segments one by one. */
const PATH_SEGMENT = /^[^/?#\s]+$/;

/**
 * Checks `shell.nodes` against the permission registry. Throws a ConfigError
 * listing every node that declares neither a permission nor `public: true`,
 * names an unregistered permission, or is otherwise malformed. A node without
 * children and without a `viewUrl` is not an error: it is returned in
 * `dropped` and left out, and so is a parent whose children were all left out.
 */
export function validateShellNodes(
  nodes: readonly ShellNodeConfig[],
  registry: PermissionRegistry,
): ValidatedNodes {
  const faults: ErrorDetail[] = [];
  const dropped: DroppedNode[] = [];
  const kept = checkSiblings(nodes, { nodePath: '', field: 'shell.nodes' }, registry, {
    faults,
    dropped,
  });

  if (faults.length > 0) {
    throw new ConfigError(
      `Shell navigation in shell.nodes is invalid (${faults.length} faults)`,
      faults,
    );
  }
  return { nodes: kept, dropped };
}

interface Findings {
  faults: ErrorDetail[];
  dropped: DroppedNode[];
}

function checkSiblings(
  nodes: readonly ShellNodeConfig[],
  parent: { nodePath: string; field: string },
  registry: PermissionRegistry,
  findings: Findings,
): ShellNodeConfig[] {
  const kept: ShellNodeConfig[] = [];
  const firstIndexBySegment = new Map<string, number>();

  nodes.forEach((node, index) => {
    const field = `${parent.field}[${index}]`;
    const nodePath = parent.nodePath ? `${parent.nodePath}/${node.pathSegment}` : node.pathSegment;

    const earlier = firstIndexBySegment.get(node.pathSegment);
    if (earlier !== undefined) {
      findings.faults.push({
        path: `${field}.pathSegment`,
        value: node.pathSegment,
        message: `node '${nodePath}' repeats the pathSegment of ${parent.field}[${earlier}]: sibling nodes need distinct pathSegments`,
      });
    } else {
      firstIndexBySegment.set(node.pathSegment, index);
    }

    const checked = checkNode(node, { nodePath, field }, registry, findings);
    if (checked) {
      kept.push(checked);
    }
  });
  return kept;
}

function checkNode(
  node: ShellNodeConfig,
  where: { nodePath: string; field: string },
  registry: PermissionRegistry,
  findings: Findings,
): ShellNodeConfig | undefined {
  const { nodePath, field } = where;

  if (!PATH_SEGMENT.test(node.pathSegment)) {
    findings.faults.push({
      path: `${field}.pathSegment`,
      value: node.pathSegment,
      message: `node '${nodePath}' has pathSegment '${node.pathSegment}': use one URL path segment without '/', '?', '#' or spaces, and nest children for deeper paths`,
    });
  }

  findings.faults.push(...checkAccess(node, where, registry));

  const viewUrlFault = checkViewUrl(node.viewUrl, where);
  if (viewUrlFault) {
    findings.faults.push(viewUrlFault);
  }

  findings.faults.push(...checkContext(node.context, where));

  const declaredChildren = node.children ?? [];
  const children = checkSiblings(
    declaredChildren,
    { nodePath, field: `${field}.children` },
    registry,
    findings,
  );
  const hasView = typeof node.viewUrl === 'string' && node.viewUrl.trim() !== '';
  if (children.length === 0 && !hasView) {
    findings.dropped.push({
      nodePath,
      field,
      reason:
        declaredChildren.length === 0
          ? 'it has no children and no viewUrl: give it a viewUrl or children'
          : 'it has no viewUrl and every child was left out: give it a viewUrl or a valid child',
    });
    return undefined;
  }

  const { children: _declared, ...rest } = node;
  return declaredChildren.length > 0 ? { ...rest, children } : rest;
}

function checkAccess(
  node: ShellNodeConfig,
  where: { nodePath: string; field: string },
  registry: PermissionRegistry,
): ErrorDetail[] {
  const { nodePath, field } = where;
  const isPublic = node.public === true;

  if (node.permission === undefined && !isPublic) {
    return [
      {
        path: field,
        value: nodePath,
        message: `node '${nodePath}' has neither a permission nor public: true: navigation is default deny, so set permission (such as catalog.entity.read) or public: true`,
      },
    ];
  }

  if (node.permission !== undefined && isPublic) {
    return [
      {
        path: `${field}.public`,
        value: nodePath,
        message: `node '${nodePath}' sets both permission and public: true: keep the permission, or remove it to show the node to every signed-in user`,
      },
    ];
  }

  if (node.permission !== undefined && !registry.getPermission(node.permission)) {
    const known = registry.listPermissions().map((permission) => permission.name);
    return [
      {
        path: `${field}.permission`,
        value: node.permission,
        message: `node '${nodePath}' names permission '${node.permission}', which is not registered: use one of ${known.join(', ') || '(none)'}`,
      },
    ];
  }
  return [];
}

/**
 * Luigi merges a node's context over the global context, so a node that sets
 * a global key would hide the server's value from its micro frontend.
 */
function checkContext(
  context: Record<string, unknown> | undefined,
  where: { nodePath: string; field: string },
): ErrorDetail[] {
  return GLOBAL_CONTEXT_KEYS.filter(
    (key) => context !== undefined && Object.hasOwn(context, key),
  ).map((key) => ({
    path: `${where.field}.context.${key}`,
    value: key,
    message: `node '${where.nodePath}' sets context.${key}, which the shell fills for each user: rename the key`,
  }));
}

/**
 * A view URL is a path on the portal (`/micro-frontends/catalog/`) or an
 * absolute http(s) URL. Relative paths would resolve against the shell's
 * current route, which changes with every navigation.
 */
function checkViewUrl(
  viewUrl: string | undefined,
  where: { nodePath: string; field: string },
): ErrorDetail | undefined {
  if (viewUrl === undefined || viewUrl.trim() === '') {
    return undefined;
  }
  if (viewUrl.startsWith('/') && !viewUrl.startsWith('//')) {
    return undefined;
  }
  if (/^https?:\/\/[^/]/i.test(viewUrl) && URL.canParse(viewUrl)) {
    return undefined;
  }
  return {
    path: `${where.field}.viewUrl`,
    value: viewUrl,
    message: `node '${where.nodePath}' has viewUrl '${viewUrl}': use a path on the portal starting with / (such as /micro-frontends/catalog/) or an absolute http(s) URL`,
  };
}

/** Origins of the absolute view URLs, which the shell page must allow as frame sources. */
export function externalViewOrigins(nodes: readonly ShellNodeConfig[]): string[] {
  const origins = new Set<string>();
  const visit = (list: readonly ShellNodeConfig[]) => {
    for (const node of list) {
      if (node.viewUrl && /^https?:\/\//i.test(node.viewUrl)) {
        origins.add(new URL(node.viewUrl).origin);
      }
      visit(node.children ?? []);
    }
  };
  visit(nodes);
  return [...origins].sort();
}
