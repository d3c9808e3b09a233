/** The identity capability's own tables. */
export interface IdentityTables {
  identity_sessions: IdentitySessionRow;
  identity_secrets: IdentitySecretRow;
}

/**
 * One signed-in browser. The cookie carries a random 256-bit id; only its
 * SHA-256 is stored, so a copy of the table cannot be replayed as cookies.
 */
export interface IdentitySessionRow {
  /** Hex SHA-256 of the session id sent in the cookie. */
  id_hash: string;
  /** Lowercase reference of the signed-in User entity. */
  user_ref: string;
  /** The resolved Principal as JSON. */
  principal: string;
  /** The identity claims that sign-in resolution reads (never a token), as JSON. */
  claims: string;
  /** When `principal` was last resolved from the catalog (ISO 8601, UTC). */
  principal_resolved_at: string;
  /** The catalog version `principal` was resolved under; null for sessions older than the column. */
  catalog_version: string | null;
  created_at: string;
  last_seen_at: string;
  /** End of the absolute lifetime (`auth.session.maxAgeHours` after sign-in). */
  expires_at: string;
}

/** Secrets the portal generates for itself when the config sets none. */
export interface IdentitySecretRow {
  name: string;
  value: string;
  created_at: string;
}
