/**
 * The SCIM capability's own tables. Provisioned users and groups live here;
 * the catalog contains the User and Group entities derived from them.
 */
export interface ScimTables {
  scim_users: ScimUserRow;
  scim_groups: ScimGroupRow;
  scim_group_members: ScimGroupMemberRow;
  scim_tokens: ScimTokenRow;
}

export interface ScimUserRow {
  /** The SCIM `id`, a UUID the portal assigns. */
  id: string;
  user_name: string;
  /** `user_name` in lowercase: SCIM compares userName without case, so it is unique in this form. */
  user_name_key: string;
  display_name: string | null;
  /** `display_name` in lowercase, for the case-insensitive `displayName eq` filter. */
  display_name_key: string | null;
  external_id: string | null;
  /** 1 for active, 0 for deactivated; a deactivated user has no User entity in the catalog. */
  active: number;
  /** Name of the User entity in the default namespace, unique among provisioned users. */
  entity_name: string;
  /** The other attributes of the resource as JSON (name, emails, extensions); never a password. */
  attributes: string;
  /** Incremented on each change; the resource's `meta.version`. */
  version: number;
  created_at: string;
  updated_at: string;
}

export interface ScimGroupRow {
  id: string;
  display_name: string;
  /** `display_name` in lowercase, for the case-insensitive `displayName eq` filter. */
  display_name_key: string;
  external_id: string | null;
  /** Name of the Group entity in the default namespace, unique among provisioned groups. */
  entity_name: string;
  version: number;
  created_at: string;
  updated_at: string;
}

/** A direct member of a provisioned group: a provisioned user or another provisioned group. */
export interface ScimGroupMemberRow {
  group_id: string;
  member_id: string;
  member_type: 'User' | 'Group';
}

/**
 * A bearer token that a SCIM client (Okta, Entra ID) presents. Only the
 * SHA-256 of the token is stored, so a copy of the table cannot be replayed.
 */
export interface ScimTokenRow {
  /** Random hex id, also the token's second part, so a token finds its row without a hash lookup. */
  id: string;
  /** Unique among tokens that are not revoked, such as `okta`. */
  name: string;
  /** Hex SHA-256 of the whole token. */
  secret_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}
