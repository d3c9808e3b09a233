import type { ShellNodeConfig } from '../config/index.js';
import type { Decision, Principal } from '../permissions/index.js';
import type { ShellGlobalContext } from './global-context.js';
import { ENTITY_TABS_CONTEXT_KEY, type EntityTab } from './registrations.js';

/** A navigation node as Luigi core reads it in `navigation.nodes`. */
export interface LuigiNode {
  pathSegment: string;
  label: string;
  viewUrl?: string;
  icon?: string;
  category?: string;
  hideFromNav?: boolean;
  hideSideNav?: boolean;
  context?: Record<string, unknown>;
  children?: LuigiNode[];
  virtualTree?: boolean;
  viewGroup?: string;
  externalLink?: { url: string; sameWindow?: boolean };
  /** Badge whose count the shell script fetches from `url`, in the `count` function Luigi core calls. */
  badgeCounter?: { label: string; url: string };
  openNodeInModal?: boolean | Record<string, string>;
}

/** The user shown in Luigi's profile menu. */
export interface ShellProfile {
  /** The user's entity name until the browser replaces it with the display name. */
  name: string;
  userEntityRef: string;
}

/** Body of `GET /api/shell/config`. */
export interface ShellConfigResponse {
  title: string;
  nodes: LuigiNode[];
  profile: ShellProfile;
  /** Luigi's `navigation.globalContext`: what every micro frontend may read about the user. */
  globalContext: ShellGlobalContext;
}

/** The part of the permission service that navigation needs. */
export interface NavigationAuthorizer {
  authorize(principal: Principal, permission: string): Decision;
}

/**
 * Builds the user's Luigi navigation from validated nodes. A node is kept when
 * it is public or its permission is not denied; CONDITIONAL counts as held
 * because the micro frontend's API calls apply the conditions. Children are
 * filtered the same way, and a node without a view whose children were all
 * filtered out is left out too.
 */
export function buildUserNavigation(
  nodes: readonly ShellNodeConfig[],
  principal: Principal,
  permissions: NavigationAuthorizer,
): LuigiNode[] {
  const grantedByPermission = new Map<string, boolean>();
  const isGranted = (permission: string): boolean => {
    let granted = grantedByPermission.get(permission);
    if (granted === undefined) {
      granted = permissions.authorize(principal, permission).result !== 'DENY';
      grantedByPermission.set(permission, granted);
    }
    return granted;
  };
  return filterNodes(nodes, isGranted).map(hideEmptySideNav);
}

/**
 * Hides the side navigation of a top-level node that has no child to show in
 * it: a node without children, or one whose children are all hidden from the
 * navigation, such as the dynamic entity route below the catalog. Luigi would
 * show an empty panel there. The flag goes on every descendant too, since
 * Luigi 2.31 reads `hideSideNav` on the current node only.
 */
function hideEmptySideNav(node: LuigiNode): LuigiNode {
  const children = node.children ?? [];
  if (children.every((child) => child.hideFromNav === true)) {
    return withSideNavHidden(node);
  }
  return node;
}

function withSideNavHidden(node: LuigiNode): LuigiNode {
  const hidden: LuigiNode = { ...node, hideSideNav: true };
  if (node.children) {
    hidden.children = node.children.map(withSideNavHidden);
  }
  return hidden;
}

function filterNodes(
  nodes: readonly ShellNodeConfig[],
  isGranted: (permission: string) => boolean,
): LuigiNode[] {
  const visible: LuigiNode[] = [];
  for (const node of nodes) {
    const allowed =
      node.public === true || (node.permission !== undefined && isGranted(node.permission));
    if (!allowed) {
      continue;
    }

    const children = filterNodes(node.children ?? [], isGranted);
    const hasView = typeof node.viewUrl === 'string' && node.viewUrl.trim() !== '';
    if (children.length === 0 && !hasView && !node.externalLink) {
      continue;
    }

    const luigiNode = toLuigiNode(node, children);
    if (luigiNode.context && Object.hasOwn(luigiNode.context, ENTITY_TABS_CONTEXT_KEY)) {
      luigiNode.context = withGrantedTabs(luigiNode.context, isGranted);
    }
    visible.push(luigiNode);
  }
  return visible;
}

/**
 * Keeps the entity tabs whose permission the user holds, without the
 * permission name, which the Entity micro frontend does not need.
 */
function withGrantedTabs(
  context: Record<string, unknown>,
  isGranted: (permission: string) => boolean,
): Record<string, unknown> {
  const tabs = (context[ENTITY_TABS_CONTEXT_KEY] as EntityTab[] | undefined) ?? [];
  const granted = tabs
    .filter((tab) => isGranted(tab.permission))
    .map(({ permission: _permission, ...tab }) => tab);
  return { ...context, [ENTITY_TABS_CONTEXT_KEY]: granted };
}

function toLuigiNode(node: ShellNodeConfig, children: LuigiNode[]): LuigiNode {
  const luigiNode: LuigiNode = {
    pathSegment: node.pathSegment,
    label: node.label ?? node.pathSegment,
  };
  if (node.viewUrl) luigiNode.viewUrl = node.viewUrl;
  if (node.icon) luigiNode.icon = node.icon;
  if (node.category) luigiNode.category = node.category;
  if (node.hideFromNav !== undefined) luigiNode.hideFromNav = node.hideFromNav;
  if (node.context) luigiNode.context = node.context;
  if (children.length > 0) luigiNode.children = children;
  if (node.virtualTree) luigiNode.virtualTree = true;
  if (node.viewGroup) luigiNode.viewGroup = node.viewGroup;
  if (node.externalLink) luigiNode.externalLink = toExternalLink(node.externalLink);
  if (node.badgeCounter) luigiNode.badgeCounter = { ...node.badgeCounter };
  if (node.openNodeInModal) luigiNode.openNodeInModal = toModalSettings(node.openNodeInModal);
  return luigiNode;
}

function toExternalLink(link: NonNullable<ShellNodeConfig['externalLink']>): {
  url: string;
  sameWindow?: boolean;
} {
  return link.sameWindow === undefined
    ? { url: link.url }
    : { url: link.url, sameWindow: link.sameWindow };
}

function toModalSettings(
  modal: NonNullable<ShellNodeConfig['openNodeInModal']>,
): boolean | Record<string, string> {
  if (typeof modal === 'boolean') {
    return modal;
  }
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(modal)) {
    if (typeof value === 'string') settings[key] = value;
  }
  return settings;
}

/** Builds the profile from the principal alone: the name of `user:default/ada` is `ada`. */
export function profileFromPrincipal(principal: Principal): ShellProfile {
  const ref = principal.userEntityRef;
  const name = ref.slice(ref.lastIndexOf('/') + 1).replace(/^user:/, '');
  return { name, userEntityRef: ref };
}
