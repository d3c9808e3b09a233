import type { ShellNodeConfig } from '../config/index.js';
import type { PermissionRegistry } from '../permissions/index.js';
import {
  type EntityTabSpec,
  type MicroFrontendEntity,
  REGISTRATION_CODES,
  type RegistrationCode,
  type RegistrationFault,
} from './micro-frontend-entity.js';
import { checkNodeTree } from './node-validation.js';
import { parameterOf } from './path-parameters.js';

/** What decides whether a MicroFrontend entity may be served. */
export interface RegistrationRules {
  registry: PermissionRegistry;
  /** Origins that registered view URLs may load from, such as https://tools.example.com. */
  allowedOrigins: readonly string[];
  /** Route of the entity page that entity tabs go below, such as `catalog/:kind/:namespace/:name`. */
  entityPage: string;
}

/** An entity tab as the Entity micro frontend reads it from its context. */
export interface EntityTab {
  pathSegment: string;
  label: string;
  kinds?: string[];
  types?: string[];
  /** The permission a user must hold to see the tab. */
  permission: string;
}

/** The static nodes with every valid registration merged in, and why the others are left out. */
export interface MergedNavigation {
  nodes: ShellNodeConfig[];
  /** References of the MicroFrontend entities that are served. */
  served: string[];
  faults: RegistrationFault[];
}

/** Context key of the entity page node under which the shell lists the entity tabs. */
export const ENTITY_TABS_CONTEXT_KEY = 'entityTabs';

/**
 * Merges MicroFrontend entities into the configured nodes. An entity is
 * served only when its permission is registered, every view URL's origin is
 * in the allowlist, and its path and tab segments are free. The entities are
 * taken in the order given, so of two that claim one path the first wins.
 */
export function mergeRegistrations(
  staticNodes: readonly ShellNodeConfig[],
  entities: readonly MicroFrontendEntity[],
  rules: RegistrationRules,
): MergedNavigation {
  const nodes = staticNodes.map(cloneNode);
  const served: string[] = [];
  const faults: RegistrationFault[] = [];

  for (const entity of entities) {
    const entityFaults = checkEntity(nodes, entity, rules);
    if (entityFaults.length > 0) {
      faults.push(...entityFaults);
      continue;
    }
    insertEntity(nodes, entity, rules.entityPage);
    served.push(entity.entityRef);
  }
  return { nodes, served, faults };
}

function cloneNode(node: ShellNodeConfig): ShellNodeConfig {
  const copy: ShellNodeConfig = { ...node };
  if (node.children) {
    copy.children = node.children.map(cloneNode);
  }
  return copy;
}

/** Finds the node at a route of segments written as configured, such as `catalog/:kind`. */
function findNode(
  nodes: readonly ShellNodeConfig[],
  segments: readonly string[],
): ShellNodeConfig | undefined {
  let siblings = nodes;
  let found: ShellNodeConfig | undefined;
  for (const segment of segments) {
    found = siblings.find((node) => node.pathSegment === segment);
    if (!found) {
      return undefined;
    }
    siblings = found.children ?? [];
  }
  return found;
}

function checkEntity(
  nodes: readonly ShellNodeConfig[],
  entity: MicroFrontendEntity,
  rules: RegistrationRules,
): RegistrationFault[] {
  const fault = (code: RegistrationCode, field: string, message: string): RegistrationFault => ({
    code,
    entityRef: entity.entityRef,
    locationId: entity.locationId,
    file: entity.file,
    ...(entity.docIndex === undefined ? {} : { docIndex: entity.docIndex }),
    field,
    message: `${entity.entityRef} ${message}`,
  });
  const { spec } = entity;
  const faults: RegistrationFault[] = [];

  if (!rules.registry.getPermission(spec.permission)) {
    faults.push(
      fault(
        REGISTRATION_CODES.permissionUnknown,
        'spec.permission',
        `names permission '${spec.permission}', which is not registered: add it to shell.permissions in the portal's config, or use a registered permission`,
      ),
    );
  }

  faults.push(
    ...checkOrigin(spec.viewUrl, rules.allowedOrigins).map((message) =>
      fault(REGISTRATION_CODES.originNotAllowed, 'spec.viewUrl', message),
    ),
  );

  const segments = spec.path.split('/');
  const parentSegments = segments.slice(0, -1);
  const parent = parentSegments.length > 0 ? findNode(nodes, parentSegments) : undefined;
  const siblings = parentSegments.length === 0 ? nodes : parent?.children;
  if (parentSegments.length > 0 && !parent) {
    faults.push(
      fault(
        REGISTRATION_CODES.parentNotFound,
        'spec.path',
        `has path '${spec.path}', but no node '${parentSegments.join('/')}' exists to hold it: use a path below a configured node, or a single segment for a top-level node`,
      ),
    );
  }
  const own = segments.at(-1) ?? '';
  if (siblings?.some((node) => node.pathSegment === own)) {
    faults.push(
      fault(
        REGISTRATION_CODES.pathConflict,
        'spec.path',
        `has path '${spec.path}', which another node already serves: choose a free path`,
      ),
    );
  } else if (siblings?.some((node) => parameterOf(node.pathSegment) !== undefined)) {
    faults.push(
      fault(
        REGISTRATION_CODES.pathConflict,
        'spec.path',
        `has path '${spec.path}', beside a dynamic segment that it would hide for the value '${own}': choose a path whose parent has no dynamic child`,
      ),
    );
  }

  // The node's own checks: viewUrl form, placeholders and context keys, as for configured nodes.
  const node = toNode(entity);
  const checked = checkNodeTree(
    [node],
    { nodePath: parentSegments.join('/'), field: 'spec', parameters: [] },
    rules.registry,
  );
  for (const detail of checked.faults) {
    const path = detail.path ?? 'spec';
    if (path.endsWith('.permission')) {
      continue;
    }
    faults.push(fault(REGISTRATION_CODES.invalid, renameField(path), detail.message));
  }

  faults.push(
    ...checkTabs(nodes, entity, rules).map((tab) => fault(tab.code, tab.field, tab.message)),
  );
  return faults;
}

/** Turns `spec[0].viewUrl` from the node checks into the entity's field `spec.viewUrl`. */
function renameField(path: string): string {
  return path.replace(/^spec\[0\]/, 'spec');
}

function checkOrigin(viewUrl: string, allowedOrigins: readonly string[]): string[] {
  let origin: string;
  try {
    origin = new URL(viewUrl).origin;
  } catch {
    return [
      `has viewUrl '${viewUrl}', which is not an absolute URL: registered micro frontends load from an origin in shell.allowedOrigins, such as https://tools.example.com/deployments/`,
    ];
  }
  const allowed = allowedOrigins.some((entry) => entry.toLowerCase() === origin.toLowerCase());
  if (allowed) {
    return [];
  }
  return [
    `has viewUrl '${viewUrl}', whose origin ${origin} is not in shell.allowedOrigins (${allowedOrigins.join(', ') || 'empty'}): add the origin to the portal's config or host the micro frontend on an allowed origin`,
  ];
}

function checkTabs(
  nodes: readonly ShellNodeConfig[],
  entity: MicroFrontendEntity,
  rules: RegistrationRules,
): Array<{ code: RegistrationCode; field: string; message: string }> {
  const tabs = entity.spec.entityTabs ?? [];
  if (tabs.length === 0) {
    return [];
  }
  const pageSegments = rules.entityPage.split('/');
  const page = findNode(nodes, pageSegments);
  if (!page) {
    return [
      {
        code: REGISTRATION_CODES.parentNotFound,
        field: 'spec.entityTabs',
        message: `has entity tabs, but the entity page '${rules.entityPage}' (shell.entityPage) is not a configured node: configure that node or remove the tabs`,
      },
    ];
  }

  const parameters = pageSegments
    .map(parameterOf)
    .filter((name): name is string => name !== undefined);
  const taken = new Set((page.children ?? []).map((child) => child.pathSegment));
  const problems: Array<{ code: RegistrationCode; field: string; message: string }> = [];
  tabs.forEach((tab, index) => {
    const field = `spec.entityTabs[${index}]`;
    if (taken.has(tab.pathSegment)) {
      problems.push({
        code: REGISTRATION_CODES.pathConflict,
        field: `${field}.pathSegment`,
        message: `has entity tab '${tab.pathSegment}', which another node below ${rules.entityPage} already serves: choose a free pathSegment`,
      });
    }
    taken.add(tab.pathSegment);
    for (const message of checkOrigin(tab.viewUrl, rules.allowedOrigins)) {
      problems.push({
        code: REGISTRATION_CODES.originNotAllowed,
        field: `${field}.viewUrl`,
        message,
      });
    }
    const checked = checkNodeTree(
      [toTabNode(entity, tab)],
      { nodePath: rules.entityPage, field, parameters },
      rules.registry,
    );
    for (const detail of checked.faults) {
      const path = detail.path ?? field;
      if (path.endsWith('.permission')) {
        continue;
      }
      problems.push({
        code: REGISTRATION_CODES.invalid,
        field: path.replace(`${field}[0]`, field),
        message: detail.message,
      });
    }
  });
  return problems;
}

function toNode(entity: MicroFrontendEntity): ShellNodeConfig {
  const { spec } = entity;
  const node: ShellNodeConfig = {
    pathSegment: spec.path.split('/').at(-1) ?? spec.path,
    label: spec.label,
    viewUrl: spec.viewUrl,
    permission: spec.permission,
    audience: spec.audience,
  };
  if (spec.icon !== undefined) node.icon = spec.icon;
  if (spec.category !== undefined) node.category = spec.category;
  if (spec.hideFromNav !== undefined) node.hideFromNav = spec.hideFromNav;
  if (spec.context !== undefined) node.context = spec.context;
  return node;
}

function toTabNode(entity: MicroFrontendEntity, tab: EntityTabSpec): ShellNodeConfig {
  return {
    pathSegment: tab.pathSegment,
    label: tab.label,
    viewUrl: tab.viewUrl,
    permission: entity.spec.permission,
    audience: entity.spec.audience,
    hideFromNav: true,
  };
}

/** Adds the entity's node, and its tabs below the entity page, to the cloned tree. */
function insertEntity(nodes: ShellNodeConfig[], entity: MicroFrontendEntity, entityPage: string) {
  const segments = entity.spec.path.split('/');
  const parentSegments = segments.slice(0, -1);
  const node = toNode(entity);
  if (parentSegments.length === 0) {
    nodes.push(node);
  } else {
    const parent = findNode(nodes, parentSegments);
    if (parent) {
      parent.children = [...(parent.children ?? []), node];
    }
  }

  const tabs = entity.spec.entityTabs ?? [];
  const page = tabs.length > 0 ? findNode(nodes, entityPage.split('/')) : undefined;
  if (!page) {
    return;
  }
  page.children = [...(page.children ?? []), ...tabs.map((tab) => toTabNode(entity, tab))];
  const listed = (page.context?.[ENTITY_TABS_CONTEXT_KEY] as EntityTab[] | undefined) ?? [];
  const added: EntityTab[] = tabs.map((tab) => {
    const entry: EntityTab = {
      pathSegment: tab.pathSegment,
      label: tab.label,
      permission: entity.spec.permission,
    };
    if (tab.kinds) entry.kinds = tab.kinds;
    if (tab.types) entry.types = tab.types;
    return entry;
  });
  page.context = { ...page.context, [ENTITY_TABS_CONTEXT_KEY]: [...listed, ...added] };
}
