import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import {
  checkPostgres,
  createTestDatabase,
  type TestDatabase,
} from '../../test/support/databases.js';
import { startTestPortal, type TestPortal } from '../../test/support/portal.js';
import {
  ScimHttpClient,
  type ScimResponse,
  type ScimTestPortal,
  startScimPortal,
} from '../../test/support/scim.js';
import type { CatalogTables } from '../catalog/index.js';
import { SCIM_SCHEMAS } from './schemas.js';

const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USERS = 30;

function assertStatus(response: ScimResponse, status: number): void {
  assert.equal(response.status, status, response.text);
}

// Replicas share one database only on PostgreSQL; the embedded SQLite
// default serves a single process, whose queue already serializes changes.
describe('SCIM changes on two replicas [postgres]', async () => {
  const skipReason = await checkPostgres();
  if (skipReason && process.env.CI !== 'true') {
    test('PostgreSQL half', { skip: skipReason }, () => {});
    return;
  }

  let database: TestDatabase;
  let first: ScimTestPortal;
  let second: TestPortal;
  let secondClient: ScimHttpClient;

  before(async () => {
    if (skipReason) {
      throw new Error(`${skipReason}; CI=true requires every storage test to run on PostgreSQL`);
    }
    database = await createTestDatabase('postgres');
    first = await startScimPortal('postgres', {}, database);
    second = await startTestPortal({
      database,
      overrides: { scim: { enabled: true } },
    });
    // The token is stored in the shared database, so the second replica accepts it too.
    secondClient = new ScimHttpClient(second.url, first.client.token);
  });

  after(async () => {
    await second?.close();
    await first?.close();
    await database?.cleanup();
  });

  test('concurrent member adds lose none', async () => {
    const clients = [first.client, secondClient];
    const group = await first.client.request('POST', '/Groups', {
      schemas: [SCIM_SCHEMAS.group],
      displayName: 'release managers',
    });
    assertStatus(group, 201);
    const groupId = group.body.id as string;

    const userIds: string[] = [];
    for (let index = 0; index < USERS; index += 1) {
      const user = await first.client.request('POST', '/Users', {
        schemas: [SCIM_SCHEMAS.user],
        userName: `releaser${index}@example.com`,
        active: true,
      });
      assertStatus(user, 201);
      userIds.push(user.body.id as string);
    }

    const patches = await Promise.all(
      userIds.map((userId, index) =>
        clients[index % 2]?.request('PATCH', `/Groups/${groupId}`, {
          schemas: [PATCH_SCHEMA],
          Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }],
        }),
      ),
    );
    for (const patch of patches) {
      assert.ok(patch);
      assert.ok(patch.status === 200 || patch.status === 204, patch.text);
    }

    for (const client of clients) {
      const stored = await client.request('GET', `/Groups/${groupId}`);
      assertStatus(stored, 200);
      const members = (stored.body.members as Array<{ value: string }>).map(
        (member) => member.value,
      );
      assert.deepEqual(members.sort(), [...userIds].sort());
    }

    const db = first.portal.portal.database.db as Kysely<CatalogTables>;
    const row = await db
      .selectFrom('catalog_entities')
      .select('body')
      .where('entity_ref', '=', 'group:default/release_managers')
      .executeTakeFirstOrThrow();
    const entityMembers = (JSON.parse(row.body) as { spec: { members: string[] } }).spec.members;
    assert.equal(entityMembers.length, USERS, `catalog members: ${entityMembers.join(', ')}`);
  });
});
