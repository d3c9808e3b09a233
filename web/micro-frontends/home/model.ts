/** The fields of `GET /api/auth/me` that the Home view reads. */
export interface Me {
  userEntityRef: string;
  displayName?: string;
  /** Every group of the user, directly or through group parents. */
  groupEntityRefs: string[];
  /** The user and the groups whose ownership counts as the user's. */
  ownershipEntityRefs: string[];
}

/** A catalog entity with only the fields the Home view requests. */
export interface HomeEntity {
  kind: string;
  metadata: { name: string; namespace?: string; title?: string; description?: string };
  spec?: { type?: unknown; profile?: { displayName?: unknown } };
  relations?: Array<{ type: string; targetRef: string }>;
}

/** A link on the Home view: a shell route (`/catalog`) or an external `http(s)` URL. */
export interface Shortcut {
  label: string;
  url: string;
  description?: string;
  /** True for an absolute URL, which opens in a new browser tab. */
  external: boolean;
}

/** A navigation node as `GET /api/shell/config` lists it; only the keys the Home view reads. */
export interface NavigationNode {
  pathSegment: string;
  label?: string;
  viewUrl?: string;
  hideFromNav?: boolean;
  externalLink?: { url: string };
}

/** Page size of the owned-entities list. */
export const OWNED_LIMIT = 100;

/**
 * Values of one key in one filter parameter that the catalog API accepts
 * (its documented limit), so a user in more groups is shown what the first ones own.
 */
export const MAX_OWNER_REFS = 100;

/** The Home view's own `viewUrl`, left out of the navigation shortcuts. */
export const HOME_VIEW_URL = '/micro-frontends/home/';

export const GROUP_FIELDS = [
  'kind',
  'metadata.name',
  'metadata.namespace',
  'metadata.title',
  'metadata.description',
  'spec.type',
  'spec.profile.displayName',
];

const OWNED_FIELDS = [
  'kind',
  'metadata.name',
  'metadata.namespace',
  'metadata.title',
  'metadata.description',
  'spec.type',
];

/**
 * Builds the by-query URL for the entities that any of `ownerRefs` owns, by
 * their `ownedBy` relations. The catalog applies the user's read permission
 * to the result, so hidden entities are never listed.
 */
export function ownedEntitiesUrl(ownerRefs: readonly string[]): string {
  const params = new URLSearchParams();
  const conditions = ownerRefs.slice(0, MAX_OWNER_REFS).map((ref) => `relations.ownedBy=${ref}`);
  params.append('filter', conditions.join(','));
  for (const field of OWNED_FIELDS) {
    params.append('fields', field);
  }
  params.append('orderField', 'metadata.name,asc');
  params.set('limit', String(OWNED_LIMIT));
  return `/api/catalog/entities/by-query?${params}`;
}

/** Returns the group's display name: `spec.profile.displayName`, then `metadata.title`, then its name. */
export function groupLabel(group: HomeEntity): string {
  const displayName = group.spec?.profile?.displayName;
  if (typeof displayName === 'string' && displayName !== '') {
    return displayName;
  }
  return group.metadata.title ?? group.metadata.name;
}

/**
 * Lists the user's visible top-level nodes as shortcuts, in navigation order,
 * without the Home node and without nodes hidden from the navigation.
 */
export function navigationShortcuts(nodes: readonly NavigationNode[]): Shortcut[] {
  const shortcuts: Shortcut[] = [];
  for (const node of nodes) {
    if (node.hideFromNav === true || node.viewUrl === HOME_VIEW_URL) {
      continue;
    }

    const label = node.label ?? node.pathSegment;
    if (node.externalLink) {
      shortcuts.push({ label, url: node.externalLink.url, external: true });
    } else {
      shortcuts.push({ label, url: `/${node.pathSegment}`, external: false });
    }
  }
  return shortcuts;
}

/** Result of reading `context.shortcuts`: the valid links and a message per invalid entry. */
export interface ConfiguredShortcuts {
  shortcuts: Shortcut[];
  faults: string[];
}

/**
 * Reads the `shortcuts` list of the Home node's context. Each entry needs a
 * `label` and a `url` that is a shell route starting with `/` or an absolute
 * `http:` or `https:` URL. An invalid entry is left out with a message that
 * names it, so the platform engineer can read what to fix in the node config.
 */
export function readConfiguredShortcuts(context: Record<string, unknown>): ConfiguredShortcuts {
  const listed = context.shortcuts;
  if (listed === undefined) {
    return { shortcuts: [], faults: [] };
  }
  if (!Array.isArray(listed)) {
    return {
      shortcuts: [],
      faults: [
        `context.shortcuts is ${describe(listed)}: use a list of { label, url, description? }`,
      ],
    };
  }

  const shortcuts: Shortcut[] = [];
  const faults: string[] = [];
  listed.forEach((entry: unknown, index) => {
    const field = `context.shortcuts[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      faults.push(`${field} is ${describe(entry)}: use an object { label, url, description? }`);
      return;
    }

    const { label, url, description } = entry as Record<string, unknown>;
    if (typeof label !== 'string' || label.trim() === '') {
      faults.push(`${field}.label is ${describe(label)}: give the link's text`);
      return;
    }
    if (typeof url !== 'string' || !isShortcutUrl(url)) {
      faults.push(
        `${field}.url is ${describe(url)}: use a shell route such as /catalog or an http(s) URL`,
      );
      return;
    }
    if (description !== undefined && typeof description !== 'string') {
      faults.push(`${field}.description is ${describe(description)}: use text or leave it out`);
      return;
    }

    shortcuts.push({
      label,
      url,
      external: !url.startsWith('/'),
      ...(description === undefined ? {} : { description }),
    });
  });
  return { shortcuts, faults };
}

/** True for a shell route (`/x`, not the protocol-relative `//host`) or an absolute http(s) URL. */
function isShortcutUrl(url: string): boolean {
  if (url.startsWith('/')) {
    return !url.startsWith('//') && !url.startsWith('/\\');
  }
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:';
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return `'${value}'`;
  return JSON.stringify(value) ?? String(value);
}
