import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseHandle } from '../database/index.js';
import { ConflictError, InputError, NotFoundError } from '../errors/index.js';
import type { ScimTables, ScimTokenRow } from './tables.js';

/**
 * A provisioning token is `luigi_scim_<id>_<secret>`: a 16-character hex id
 * that finds the row, and 32 random bytes in base64url. The prefix lets
 * secret scanners recognise a leaked token.
 */
const TOKEN_PATTERN = /^luigi_scim_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** A token name: lowercase letters, digits, `.`, `_` and `-`, such as `okta` or `entra-prod`. */
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** How often `last_used_at` is written for one token, at most. */
const LAST_USED_INTERVAL_MS = 60_000;

/** A token as `scim token list` shows it; never its secret or hash. */
export interface ScimTokenInfo {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** The SCIM client that a valid token identifies. */
export interface ScimClient {
  tokenId: string;
  name: string;
}

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function toInfo(row: ScimTokenRow): ScimTokenInfo {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/** Creates, lists, revokes and verifies provisioning tokens; only their SHA-256 is stored. */
export class ScimTokens {
  readonly #db: Kysely<ScimTables>;
  readonly #clock: () => Date;

  constructor(database: DatabaseHandle, clock: () => Date = () => new Date()) {
    this.#db = database.db as Kysely<ScimTables>;
    this.#clock = clock;
  }

  /**
   * Creates a token and returns it with its record; the token itself is
   * shown only here. Throws an InputError for an invalid name and a
   * ConflictError when a live token already has the name.
   */
  async create(name: string): Promise<{ token: string; info: ScimTokenInfo }> {
    if (!NAME_PATTERN.test(name)) {
      throw new InputError(
        `Token name ${JSON.stringify(name)} is invalid: use 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit, such as okta`,
      );
    }
    const existing = await this.#db
      .selectFrom('scim_tokens')
      .select('id')
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (existing) {
      throw new ConflictError(
        `A SCIM token named ${name} already exists: revoke it first with \`scim token revoke --name ${name}\`, or choose another name`,
      );
    }

    const id = randomBytes(8).toString('hex');
    const token = `luigi_scim_${id}_${randomBytes(32).toString('base64url')}`;
    const row: ScimTokenRow = {
      id,
      name,
      secret_hash: hashToken(token).toString('hex'),
      created_at: this.#clock().toISOString(),
      last_used_at: null,
      revoked_at: null,
    };
    await this.#db.insertInto('scim_tokens').values(row).execute();
    return { token, info: toInfo(row) };
  }

  /** Lists every token, revoked ones too, oldest first. */
  async list(): Promise<ScimTokenInfo[]> {
    const rows = await this.#db
      .selectFrom('scim_tokens')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toInfo);
  }

  /** Revokes the live token of that name; throws a NotFoundError when there is none. */
  async revoke(name: string): Promise<ScimTokenInfo> {
    const row = await this.#db
      .selectFrom('scim_tokens')
      .selectAll()
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) {
      throw new NotFoundError(
        `No live SCIM token is named ${JSON.stringify(name)}: \`scim token list\` shows the names`,
      );
    }
    const revokedAt = this.#clock().toISOString();
    await this.#db
      .updateTable('scim_tokens')
      .set({ revoked_at: revokedAt })
      .where('id', '=', row.id)
      .execute();
    return toInfo({ ...row, revoked_at: revokedAt });
  }

  /**
   * Returns the client of a live token, or undefined for a malformed,
   * unknown or revoked one. The stored and the presented hash are compared
   * in constant time.
   */
  async verify(token: string): Promise<ScimClient | undefined> {
    const match = TOKEN_PATTERN.exec(token);
    if (!match) {
      return undefined;
    }
    const id = match[1] as string;
    const row = await this.#db
      .selectFrom('scim_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) {
      return undefined;
    }
    const stored = Buffer.from(row.secret_hash, 'hex');
    const presented = hashToken(token);
    if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) {
      return undefined;
    }

    const now = this.#clock();
    const lastUsed = row.last_used_at ? new Date(row.last_used_at).getTime() : 0;
    if (now.getTime() - lastUsed >= LAST_USED_INTERVAL_MS) {
      await this.#db
        .updateTable('scim_tokens')
        .set({ last_used_at: now.toISOString() })
        .where('id', '=', id)
        .execute();
    }
    return { tokenId: id, name: row.name };
  }
}
