import type { AppConfig } from '../config/index.js';

export type OidcConfig = NonNullable<AppConfig['auth']['oidc']>;
export type OidcProfileName = OidcConfig['profile'];
export type GroupMappingRule = NonNullable<OidcConfig['groupMapping']>[number];

/** Annotation on a Group entity with its Entra ID object id, as Backstage's Microsoft Graph provider writes it. */
export const ENTRA_GROUP_ID_ANNOTATION = 'graph.microsoft.com/group-id';

/** Annotation on a Group entity with its Okta group id (`00g…`). */
export const OKTA_GROUP_ID_ANNOTATION = 'okta.com/group-id';

/** Defaults that a profile gives the groups claim and group mapping. */
export interface ProviderProfile {
  /** Undefined when the provider has no usual name for it, so the config must set one. */
  groupsClaim: string | undefined;
  groupMapping: GroupMappingRule[];
}

const BY_NAME: GroupMappingRule = { match: 'name', namespace: 'default' };

export const PROVIDER_PROFILES: Readonly<Record<OidcProfileName, ProviderProfile>> = {
  generic: { groupsClaim: 'groups', groupMapping: [BY_NAME] },
  // Okta's groups claim lists group names.
  okta: { groupsClaim: 'groups', groupMapping: [BY_NAME] },
  // Auth0 has no groups claim of its own: an Action adds one under a namespaced name.
  auth0: { groupsClaim: undefined, groupMapping: [BY_NAME] },
  // Keycloak's group membership mapper sends paths such as /platform/sre when
  // "Full group path" is on, and bare names when it is off.
  keycloak: {
    groupsClaim: 'groups',
    groupMapping: [
      { match: 'pattern', pattern: '/(?<path>.+)', template: 'group:default/{path}' },
      BY_NAME,
    ],
  },
  // Entra ID sends group object ids (GUIDs).
  entra: {
    groupsClaim: 'groups',
    groupMapping: [{ match: 'annotation', annotation: ENTRA_GROUP_ID_ANNOTATION }],
  },
};

/** Returns the groups claim and mapping rules in effect: the config's where set, else the profile's. */
export function effectiveGroupSettings(oidc: OidcConfig | undefined): {
  groupsClaim: string;
  groupMapping: GroupMappingRule[];
} {
  const profile = PROVIDER_PROFILES[oidc?.profile ?? 'generic'];
  return {
    // The schema requires groupsClaim for a profile without a default.
    groupsClaim: oidc?.groupsClaim ?? profile.groupsClaim ?? 'groups',
    groupMapping: oidc?.groupMapping ?? profile.groupMapping,
  };
}
