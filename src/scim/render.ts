import { ScimError } from './errors.js';
import { SCIM_SCHEMAS } from './schemas.js';
import type { StoredGroup, StoredMember, StoredUser } from './store.js';

/** A user with the groups the read-only `groups` attribute lists. */
export interface UserView {
  user: StoredUser;
  groups: Array<{ id: string; displayName: string }>;
}

/** A group with its members, or without when the client excluded them. */
export interface GroupView {
  group: StoredGroup;
  members: StoredMember[] | undefined;
}

function version(value: number): string {
  return `W/"${value}"`;
}

/**
 * Renders the attributes a client may change of a user, as a PATCH works on
 * them: no `meta`, no read-only `groups`.
 */
export function userAttributesResource(user: StoredUser): Record<string, unknown> {
  const { enterprise, ...core } = user.attributes;
  const resource: Record<string, unknown> = {
    schemas: enterprise ? [SCIM_SCHEMAS.user, SCIM_SCHEMAS.enterpriseUser] : [SCIM_SCHEMAS.user],
    id: user.id,
    ...(user.externalId === undefined ? {} : { externalId: user.externalId }),
    userName: user.userName,
    ...(user.displayName === undefined ? {} : { displayName: user.displayName }),
    ...core,
    active: user.active,
  };
  if (enterprise) {
    resource[SCIM_SCHEMAS.enterpriseUser] = enterprise;
  }
  return resource;
}

/** Renders a User resource; `base` is the absolute URL of `/scim/v2`. */
export function userResource(view: UserView, base: string): Record<string, unknown> {
  const { user } = view;
  return {
    ...userAttributesResource(user),
    groups: view.groups.map((group) => ({
      value: group.id,
      $ref: `${base}/Groups/${group.id}`,
      display: group.displayName,
    })),
    meta: {
      resourceType: 'User',
      created: user.created,
      lastModified: user.lastModified,
      location: `${base}/Users/${user.id}`,
      version: version(user.version),
    },
  };
}

/** Renders the attributes a client may change of a group, without members and `meta`. */
export function groupAttributesResource(group: StoredGroup): Record<string, unknown> {
  return {
    schemas: [SCIM_SCHEMAS.group],
    id: group.id,
    ...(group.externalId === undefined ? {} : { externalId: group.externalId }),
    displayName: group.displayName,
  };
}

/** Renders a Group resource; `members` is left out when the view has none loaded. */
export function groupResource(view: GroupView, base: string): Record<string, unknown> {
  const { group } = view;
  const resource: Record<string, unknown> = groupAttributesResource(group);
  if (view.members) {
    resource.members = view.members.map((member) => ({
      value: member.id,
      $ref: `${base}/${member.type === 'User' ? 'Users' : 'Groups'}/${member.id}`,
      display: member.display,
      type: member.type,
    }));
  }
  resource.meta = {
    resourceType: 'Group',
    created: group.created,
    lastModified: group.lastModified,
    location: `${base}/Groups/${group.id}`,
    version: version(group.version),
  };
  return resource;
}

/** The `attributes` or `excludedAttributes` of a request, as lowercase paths. */
export interface AttributeSelection {
  attributes: string[] | undefined;
  excludedAttributes: string[] | undefined;
}

/** Attributes returned whatever the selection requests (RFC 7643, `returned: always`). */
const ALWAYS_RETURNED = new Set(['id', 'schemas', 'meta']);

/** Reads the comma-separated `attributes` and `excludedAttributes` query parameters. */
export function parseAttributeSelection(query: {
  attributes?: unknown;
  excludedAttributes?: unknown;
}): AttributeSelection {
  const read = (name: string, value: unknown): string[] | undefined => {
    if (value === undefined) {
      return undefined;
    }
    if (typeof value !== 'string') {
      throw new ScimError(400, `${name} must be given once, as a comma-separated list`, {
        scimType: 'invalidValue',
      });
    }
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
      .map((item) => {
        for (const urn of [SCIM_SCHEMAS.user, SCIM_SCHEMAS.group]) {
          if (item.toLowerCase().startsWith(`${urn.toLowerCase()}:`)) {
            return item.slice(urn.length + 1).toLowerCase();
          }
        }
        return item.toLowerCase();
      });
  };
  return {
    attributes: read('attributes', query.attributes),
    excludedAttributes: read('excludedAttributes', query.excludedAttributes),
  };
}

/** Returns whether a selection leaves out a group's members, so they need not be loaded. */
export function excludesMembers(selection: AttributeSelection): boolean {
  if (selection.attributes) {
    return !selection.attributes.some((path) => path === 'members' || path.startsWith('members.'));
  }
  return selection.excludedAttributes?.includes('members') ?? false;
}

/**
 * Applies a selection to a rendered resource at the top level and one level
 * down (`name.givenName`). `attributes` wins when both are given.
 */
export function selectAttributes(
  resource: Record<string, unknown>,
  selection: AttributeSelection,
): Record<string, unknown> {
  if (!selection.attributes && !selection.excludedAttributes) {
    return resource;
  }
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    const name = key.toLowerCase();
    if (ALWAYS_RETURNED.has(name)) {
      result[key] = value;
      continue;
    }
    if (selection.attributes) {
      if (selection.attributes.includes(name)) {
        result[key] = value;
        continue;
      }
      const subNames = selection.attributes
        .filter((path) => path.startsWith(`${name}.`))
        .map((path) => path.slice(name.length + 1));
      if (subNames.length > 0 && value !== null && typeof value === 'object') {
        result[key] = pickSubAttributes(value, subNames);
      }
      continue;
    }
    if (!selection.excludedAttributes?.includes(name)) {
      result[key] = value;
    }
  }
  return result;
}

function pickSubAttributes(value: object, names: readonly string[]): unknown {
  const pick = (item: unknown) =>
    item !== null && typeof item === 'object'
      ? Object.fromEntries(
          Object.entries(item).filter(([key]) => names.includes(key.toLowerCase())),
        )
      : item;
  return Array.isArray(value) ? value.map(pick) : pick(value);
}
