import type { ShellNodeConfig } from '../config/index.js';
import { ConfigError, type ErrorDetail } from '../errors/index.js';
import type { PermissionRegistry } from '../permissions/index.js';
import { GLOBAL_CONTEXT_KEYS } from './global-context.js';
import { isDynamicSegment, parameterOf, placeholdersOf } from './path-parameters.js';

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
  options: { allowedOrigins?: readonly string[] } = {},
): ValidatedNodes {
  const {
    nodes: kept,
    faults,
    dropped,
  } = checkNodeTree(
    nodes,
    { nodePath: '', field: 'shell.nodes', parameters: [] },
    registry,
    options.allowedOrigins,
  );

  if (faults.length > 0) {
    throw new ConfigError(
      `Shell navigation in shell.nodes is invalid (${faults.length} faults)`,
      faults,
    );
  }
  return { nodes: kept, dropped };
}

/** The position of a list of sibling nodes: its parent's route, its config path and the parameters in scope. */
export interface NodeParent {
  /** Route of the parent node, such as `catalog/:kind`; empty at the top level. */
  nodePath: string;
  /** Config path of the list, such as `shell.nodes[0].children`. */
  field: string;
  /** Names of the dynamic segments of the parent and its ancestors, such as `kind`. */
  parameters: readonly string[];
}

/** Result of checking a list of nodes and everything below them. */
export interface CheckedNodeTree {
  nodes: ShellNodeConfig[];
  faults: ErrorDetail[];
  dropped: DroppedNode[];
}

/**
 * Checks nodes below `parent` without throwing: the shell's static nodes
 * and the nodes of a MicroFrontend entity go through the same checks.
 * `allowedOrigins` are the origins other than the portal's from which a
 * `badgeCounter.url` may fetch its count.
 */
export function checkNodeTree(
  nodes: readonly ShellNodeConfig[],
  parent: NodeParent,
  registry: PermissionRegistry,
  allowedOrigins: readonly string[] = [],
): CheckedNodeTree {
  const findings: Findings = { faults: [], dropped: [] };
  const kept = checkSiblings(nodes, parent, { registry, allowedOrigins }, findings);
  return { nodes: kept, ...findings };
}

/** The permission registry and allowed origins that the checks compare nodes against. */
interface NodeRules {
  registry: PermissionRegistry;
  allowedOrigins: readonly string[];
}

interface Findings {
  faults: ErrorDetail[];
  dropped: DroppedNode[];
}

interface NodeLocation {
  nodePath: string;
  field: string;
  /** Parameters of the node's ancestors and of the node itself. */
  parameters: readonly string[];
}

function checkSiblings(
  nodes: readonly ShellNodeConfig[],
  parent: NodeParent,
  rules: NodeRules,
  findings: Findings,
): ShellNodeConfig[] {
  const kept: ShellNodeConfig[] = [];
  const firstIndexBySegment = new Map<string, number>();
  let firstDynamicIndex: number | undefined;

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

    // Two dynamic siblings would both match every value, so the route would be ambiguous.
    if (isDynamicSegment(node.pathSegment) && earlier === undefined) {
      if (firstDynamicIndex !== undefined) {
        findings.faults.push({
          path: `${field}.pathSegment`,
          value: node.pathSegment,
          message: `node '${nodePath}' is a second dynamic segment beside ${parent.field}[${firstDynamicIndex}]: siblings may have only one dynamic pathSegment, so nest one below the other or give one a fixed name`,
        });
      } else {
        firstDynamicIndex = index;
      }
    }

    const parameter = parameterOf(node.pathSegment);
    const parameters = parameter ? [...parent.parameters, parameter] : parent.parameters;
    const checked = checkNode(node, { nodePath, field, parameters }, rules, findings);
    if (checked) {
      kept.push(checked);
    }
  });
  return kept;
}

function checkNode(
  node: ShellNodeConfig,
  where: NodeLocation,
  rules: NodeRules,
  findings: Findings,
): ShellNodeConfig | undefined {
  const { nodePath, field } = where;

  if (!PATH_SEGMENT.test(node.pathSegment)) {
    findings.faults.push({
      path: `${field}.pathSegment`,
      value: node.pathSegment,
      message: `node '${nodePath}' has pathSegment '${node.pathSegment}': use one URL path segment without '/', '?', '#' or spaces, and nest children for deeper paths`,
    });
  } else if (isDynamicSegment(node.pathSegment)) {
    findings.faults.push(...checkDynamicSegment(node.pathSegment, where));
  }

  findings.faults.push(...checkAccess(node, where, rules.registry));

  const viewUrlFault = checkViewUrl(node.viewUrl, where);
  if (viewUrlFault) {
    findings.faults.push(viewUrlFault);
  } else if (node.viewUrl) {
    findings.faults.push(...checkPlaceholders(node.viewUrl, where));
  }

  findings.faults.push(...checkContext(node.context, where));
  findings.faults.push(...checkLuigiOptions(node, where));
  if (node.badgeCounter) {
    findings.faults.push(...checkBadgeCounterUrl(node.badgeCounter.url, where, rules));
  }

  const declaredChildren = node.children ?? [];
  const children = checkSiblings(
    declaredChildren,
    { nodePath, field: `${field}.children`, parameters: where.parameters },
    rules,
    findings,
  );
  const hasView = typeof node.viewUrl === 'string' && node.viewUrl.trim() !== '';
  if (children.length === 0 && !hasView && !node.externalLink) {
    findings.dropped.push({
      nodePath,
      field,
      reason:
        declaredChildren.length === 0
          ? 'it has no children and no viewUrl or externalLink: give it a viewUrl, an externalLink or children'
          : 'it has no viewUrl and every child was left out: give it a viewUrl or a valid child',
    });
    return undefined;
  }

  const { children: _declared, ...rest } = node;
  return declaredChildren.length > 0 ? { ...rest, children } : rest;
}

/**
 * Checks that a dynamic segment has a name that a viewUrl can refer to, and
 * one that no ancestor uses, because Luigi keeps one value per name.
 */
function checkDynamicSegment(pathSegment: string, where: NodeLocation): ErrorDetail[] {
  const parameter = parameterOf(pathSegment);
  if (parameter === undefined) {
    return [
      {
        path: `${where.field}.pathSegment`,
        value: pathSegment,
        message: `node '${where.nodePath}' has dynamic pathSegment '${pathSegment}': after ':' use a name of letters, digits and '_', such as :name`,
      },
    ];
  }
  const uses = where.parameters.filter((name) => name === parameter).length;
  if (uses > 1) {
    return [
      {
        path: `${where.field}.pathSegment`,
        value: pathSegment,
        message: `node '${where.nodePath}' repeats the parameter :${parameter} of an ancestor: Luigi keeps one value per name, so rename one of them`,
      },
    ];
  }
  return [];
}

/** Every `:name` in a viewUrl must be the dynamic segment of the node or of an ancestor. */
function checkPlaceholders(viewUrl: string, where: NodeLocation): ErrorDetail[] {
  return placeholdersOf(viewUrl)
    .filter((name) => !where.parameters.includes(name))
    .map((name) => ({
      path: `${where.field}.viewUrl`,
      value: viewUrl,
      message: `node '${where.nodePath}' has viewUrl '${viewUrl}' with :${name}, which no dynamic segment of this node or its ancestors defines: use one of ${where.parameters.map((known) => `:${known}`).join(', ') || '(none)'}`,
    }));
}

/** Checks the Luigi keys that only make sense together with others. */
function checkLuigiOptions(node: ShellNodeConfig, where: NodeLocation): ErrorDetail[] {
  const { nodePath, field } = where;
  const faults: ErrorDetail[] = [];

  if (node.externalLink && node.viewUrl) {
    faults.push({
      path: `${field}.externalLink`,
      value: node.externalLink.url,
      message: `node '${nodePath}' has both a viewUrl and an externalLink: Luigi opens only the link, so keep one of them`,
    });
  }
  if (node.externalLink && !/^https?:\/\//i.test(node.externalLink.url)) {
    faults.push({
      path: `${field}.externalLink.url`,
      value: node.externalLink.url,
      message: `node '${nodePath}' has externalLink.url '${node.externalLink.url}': use an absolute http(s) URL`,
    });
  }
  if (node.virtualTree && (node.children ?? []).length > 0) {
    faults.push({
      path: `${field}.virtualTree`,
      value: nodePath,
      message: `node '${nodePath}' sets virtualTree and has children: a virtual tree sends every path below it to its own view, so remove the children or virtualTree`,
    });
  }
  if (node.virtualTree && !node.viewUrl) {
    faults.push({
      path: `${field}.virtualTree`,
      value: nodePath,
      message: `node '${nodePath}' sets virtualTree without a viewUrl: give it the view that serves the paths below it`,
    });
  }
  if (node.openNodeInModal && !node.viewUrl) {
    faults.push({
      path: `${field}.openNodeInModal`,
      value: nodePath,
      message: `node '${nodePath}' sets openNodeInModal without a viewUrl: give it the view to show in the modal`,
    });
  }
  return faults;
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

/** C0 controls and DEL, which browsers drop from a URL or refuse. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it finds.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

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
  // Browsers drop tabs and line breaks inside a URL and read `/\` as `//`,
  // so `/\evil.example` or `/\t/evil.example` would frame another origin.
  const hidesOrigin = CONTROL_CHARACTER.test(viewUrl) || viewUrl.startsWith('/\\');
  if (!hidesOrigin && viewUrl.startsWith('/') && !viewUrl.startsWith('//')) {
    return undefined;
  }
  if (!hidesOrigin && /^https?:\/\/[^/]/i.test(viewUrl) && URL.canParse(viewUrl)) {
    return undefined;
  }
  return {
    path: `${where.field}.viewUrl`,
    value: viewUrl,
    message: `node '${where.nodePath}' has viewUrl '${viewUrl}': use a path on the portal starting with / (such as /micro-frontends/catalog/) or an absolute http(s) URL, without control characters or a backslash after the first /`,
  };
}

/**
 * Checks the URL of a badge's count. The shell fetches it with the user's
 * session, so it must be a path on the portal or an absolute http(s) URL on
 * an allowed origin. The shell page's `connect-src` admits only those origins.
 */
function checkBadgeCounterUrl(
  url: string,
  where: { nodePath: string; field: string },
  rules: NodeRules,
): ErrorDetail[] {
  const path = `${where.field}.badgeCounter.url`;
  const fault = (reason: string): ErrorDetail[] => [
    {
      path,
      value: url,
      message: `node '${where.nodePath}' has badgeCounter.url '${url}': ${reason}`,
    },
  ];
  // Browsers drop tabs and line breaks inside a URL, so `/\t/host` would
  // reach another origin.
  if (CONTROL_CHARACTER.test(url) || url.includes(' ')) {
    return fault(
      'it contains a control character or space; percent-encode it, such as %20 for a space',
    );
  }
  const pathname = url.split(/[?#]/, 1)[0] ?? '';
  if (pathname.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) {
    return fault(
      "it has a '.' or '..' segment, which the browser resolves to another path; write the path the count is served at",
    );
  }
  if (url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\')) {
    return [];
  }
  if (!/^https?:\/\/[^/]/i.test(url) || !URL.canParse(url)) {
    return [
      {
        path,
        value: url,
        message: `node '${where.nodePath}' has badgeCounter.url '${url}': use a path on the portal starting with / (such as /api/workflows/inbox/count) or an absolute http(s) URL on an origin in shell.allowedOrigins`,
      },
    ];
  }

  const parsed = new URL(url);
  if (parsed.username !== '' || parsed.password !== '') {
    return fault(
      'it carries a user name or password, which every browser would receive and fetch rejects, so authenticate the count request another way, such as with a cookie or token of its own origin',
    );
  }
  const origin = parsed.origin;
  const allowed = rules.allowedOrigins.some(
    (entry) => entry.toLowerCase() === origin.toLowerCase(),
  );
  if (!allowed) {
    return [
      {
        path,
        value: url,
        message: `node '${where.nodePath}' has badgeCounter.url '${url}', whose origin ${origin} is not in shell.allowedOrigins (${rules.allowedOrigins.join(', ') || 'empty'}): add the origin to shell.allowedOrigins or serve the count from the portal`,
      },
    ];
  }
  return [];
}

/** Origins of absolute `badgeCounter.url`s, which the shell page must allow in `connect-src`. */
export function badgeCounterOrigins(nodes: readonly ShellNodeConfig[]): string[] {
  const origins = new Set<string>();
  const visit = (list: readonly ShellNodeConfig[]) => {
    for (const node of list) {
      const url = node.badgeCounter?.url;
      if (url && /^https?:\/\//i.test(url) && URL.canParse(url)) {
        origins.add(new URL(url).origin);
      }
      visit(node.children ?? []);
    }
  };
  visit(nodes);
  return [...origins].sort();
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
