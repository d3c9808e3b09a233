import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseHandle } from '../database/index.js';
import type { IdentityTables } from './tables.js';

/**
 * Returns the secret stored under `name`, generating and storing 32 random
 * bytes the first time. Replicas that race on the first start all read the
 * value that was inserted first.
 */
export async function loadOrCreateSecret(database: DatabaseHandle, name: string): Promise<string> {
  const db = database.db as Kysely<IdentityTables>;

  await db
    .insertInto('identity_secrets')
    .values({
      name,
      value: randomBytes(32).toString('base64url'),
      created_at: new Date().toISOString(),
    })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .execute();

  const row = await db
    .selectFrom('identity_secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.value;
}
