import type { Entity } from '@backstage/catalog-model';
import type { EntityProvider, ProvidedEntity } from '../catalog/index.js';
import type { ScimUserAttributes } from './resources.js';

/** The catalog provider that SCIM writes through: User and Group entities under `/scim/v2`. */
export const SCIM_ENTITY_PROVIDER: EntityProvider = {
  type: 'scim',
  target: '/scim/v2',
  kinds: ['User', 'Group'],
};

/** Annotation that contains the SCIM `id` of a provisioned User or Group. */
export const SCIM_ID_ANNOTATION = 'backstage-luigi.io/scim-id';

/** Annotation that contains the SCIM `externalId`, the identity provider's own id, when it sent one. */
export const SCIM_EXTERNAL_ID_ANNOTATION = 'backstage-luigi.io/scim-external-id';

/** Maximum length of an entity name in Backstage's format. */
const MAX_ENTITY_NAME_LENGTH = 63;

/**
 * Derives an entity name from a SCIM userName or displayName: lowercase,
 * each run of characters outside `a-z 0-9 - _ .` replaced by `_`, separators
 * trimmed from both ends, at most 63 characters. So `Ada.Lovelace@example.com`
 * becomes `ada.lovelace_example.com` and `Platform Admins` `platform_admins`.
 * Returns `fallback` when nothing is left.
 */
export function toEntityName(value: string, fallback: string): string {
  const replaced = value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '_');
  const trimmed = replaced.replace(/^[-_.]+/, '').slice(0, MAX_ENTITY_NAME_LENGTH);
  const name = trimmed.replace(/[-_.]+$/, '');
  return name === '' ? fallback : name;
}

/** Returns the fallback entity name of a resource whose name has no usable character. */
export function fallbackEntityName(prefix: 'user' | 'group', id: string): string {
  return `${prefix}-${id
    .replace(/[^a-z0-9]/gi, '')
    .slice(0, 12)
    .toLowerCase()}`;
}

export function userEntityRef(entityName: string): string {
  return `user:default/${entityName}`;
}

export function groupEntityRef(entityName: string): string {
  return `group:default/${entityName}`;
}

/** The fields of a provisioned user that its User entity shows. */
export interface UserEntitySource {
  id: string;
  userName: string;
  externalId: string | undefined;
  displayName: string | undefined;
  entityName: string;
  attributes: ScimUserAttributes;
}

/** The fields of a provisioned group that its Group entity shows. */
export interface GroupEntitySource {
  id: string;
  displayName: string;
  externalId: string | undefined;
  entityName: string;
  /** Entity names of the active user members. */
  memberUserNames: readonly string[];
  /** Entity names of the group members, which become child groups. */
  childGroupNames: readonly string[];
}

export interface EntityMappingOptions {
  /** `spec.type` of every provisioned Group, `scim.groupType`. */
  groupType: string;
  /** Another annotation that receives a Group's externalId, `scim.groupExternalIdAnnotation`. */
  groupExternalIdAnnotation: string | undefined;
}

function annotations(id: string, externalId: string | undefined): Record<string, string> {
  const result: Record<string, string> = { [SCIM_ID_ANNOTATION]: id };
  if (externalId) {
    result[SCIM_EXTERNAL_ID_ANNOTATION] = externalId;
  }
  return result;
}

/**
 * Picks the email of the User entity, which sign-in matches first: the
 * primary email, else the first one, else the userName when it is an email
 * address, as Okta's and Entra ID's usually are.
 */
export function profileEmail(user: UserEntitySource): string | undefined {
  const emails = (user.attributes.emails ?? []).filter((email) => email.value);
  const chosen = emails.find((email) => email.primary) ?? emails[0];
  if (chosen?.value) {
    return chosen.value;
  }
  return /^[^@\s]+@[^@\s]+$/.test(user.userName) ? user.userName : undefined;
}

/** Picks the display name: displayName, else name.formatted, else given and family name. */
export function profileDisplayName(user: UserEntitySource): string {
  const name = user.attributes.name;
  const joined = [name?.givenName, name?.familyName].filter(Boolean).join(' ');
  return user.displayName ?? name?.formatted ?? (joined === '' ? user.userName : joined);
}

/** Builds the User entity of an active provisioned user. */
export function userEntity(user: UserEntitySource): ProvidedEntity {
  const profile: Record<string, string> = { displayName: profileDisplayName(user) };
  const email = profileEmail(user);
  if (email) {
    profile.email = email;
  }
  const entity: Entity = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name: user.entityName,
      annotations: annotations(user.id, user.externalId),
    },
    spec: { profile, memberOf: [] },
  };
  return { entity, source: `${SCIM_ENTITY_PROVIDER.target}/Users/${user.id}` };
}

/**
 * Builds the Group entity of a provisioned group. Memberships are declared on
 * the Group (`spec.members`, `spec.children`), so a membership change
 * rewrites only the group.
 */
export function groupEntity(
  group: GroupEntitySource,
  options: EntityMappingOptions,
): ProvidedEntity {
  const groupAnnotations = annotations(group.id, group.externalId);
  if (group.externalId && options.groupExternalIdAnnotation) {
    groupAnnotations[options.groupExternalIdAnnotation] = group.externalId;
  }
  const entity: Entity = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: group.entityName, annotations: groupAnnotations },
    spec: {
      type: options.groupType,
      profile: { displayName: group.displayName },
      children: [...group.childGroupNames].sort().map(groupEntityRef),
      members: [...group.memberUserNames].sort().map(userEntityRef),
    },
  };
  return { entity, source: `${SCIM_ENTITY_PROVIDER.target}/Groups/${group.id}` };
}
