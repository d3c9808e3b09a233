import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { HttpClient } from '../../test/support/http-client.js';
import { PROJECT_ROOT } from '../../test/support/portal.js';
import {
  type ScimHttpClient,
  type ScimTestPortal,
  startScimPortal,
} from '../../test/support/scim.js';
import type { CatalogTables } from '../catalog/index.js';

/**
 * The requests that Okta and Entra ID send to provision a user, add them to
 * two groups, remove them from one, deactivate them and delete them, replayed
 * step by step. After each step the tests check the catalog's User and Group
 * entities, the user's permission decisions, and a signed-in session of the
 * user. The bodies follow the shapes each provider sends, including Entra
 * ID's capitalised operations and "True"/"False" strings.
 */

const USER_NAME = 'lin.chen@kestrel-freight.example';
const USER_REF = 'user:default/lin.chen_kestrel-freight.example';
const PLATFORM_REF = 'group:default/platform_engineers';
const SRE_REF = 'group:default/site_reliability';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Granted to members of platform_engineers by the fixture roles file. */
const PLATFORM_PERMISSION = 'catalog.location.read';
/** Granted to members of site_reliability by the fixture roles file. */
const SRE_PERMISSION = 'permission.policy.read';

const overrides = {
  permission: { rolesFile: path.join(PROJECT_ROOT, 'test', 'fixtures', 'scim', 'roles.yaml') },
  auth: {
    development: {
      enabled: true,
      users: [
        { username: 'lin', password: 'demo', name: 'Lin Chen', email: USER_NAME, groups: [] },
      ],
    },
  },
  scim: { groupExternalIdAnnotation: 'graph.microsoft.com/group-id' },
};

/** What a step leaves in the catalog and in the permission model. */
interface Expected {
  userExists: boolean;
  groups: string[];
  /** Status of GET /api/catalog/locations in the user's open session: 200, 403, or 401 once signed out. */
  sessionStatus: number;
}

/** One provider's conversation, with the ids the portal assigned. */
interface Conversation {
  portal: ScimTestPortal;
  client: ScimHttpClient;
  session: HttpClient;
  userId: string;
  groupIds: Record<'platform' | 'sre', string>;
}

async function catalogState(conversation: Conversation) {
  const db = conversation.portal.portal.portal.database.db as Kysely<CatalogTables>;
  const user = await db
    .selectFrom('catalog_entities')
    .select(['entity_ref', 'body'])
    .where('entity_ref', '=', USER_REF)
    .executeTakeFirst();
  const memberships = await db
    .selectFrom('catalog_relations')
    .select('target_ref')
    .where('source_ref', '=', USER_REF)
    .where('type', '=', 'memberOf')
    .orderBy('target_ref')
    .execute();
  return {
    user: user
      ? (JSON.parse(user.body) as { spec: { profile: Record<string, string> } })
      : undefined,
    groups: [...new Set(memberships.map((row) => row.target_ref))],
  };
}

/** Checks the catalog, the decisions on a resolved principal and the open session. */
async function checkState(conversation: Conversation, expected: Expected): Promise<void> {
  const state = await catalogState(conversation);
  assert.equal(state.user !== undefined, expected.userExists, 'User entity presence');
  assert.deepEqual(state.groups, expected.groups, 'memberOf relations');

  const { identity, permissions } = conversation.portal.portal.portal;
  const principal = await identity.resolvePrincipal(USER_REF);
  assert.equal(principal !== undefined, expected.userExists, 'principal resolves');
  if (principal) {
    assert.deepEqual(principal.groupEntityRefs, expected.groups);
    assert.equal(
      permissions.authorize(principal, PLATFORM_PERMISSION).result,
      expected.groups.includes(PLATFORM_REF) ? 'ALLOW' : 'DENY',
    );
    assert.equal(
      permissions.authorize(principal, SRE_PERMISSION).result,
      expected.groups.includes(SRE_REF) ? 'ALLOW' : 'DENY',
    );
  }

  const response = await conversation.session.request('/api/catalog/locations');
  assert.equal(response.status, expected.sessionStatus, 'status in the open session');
}

async function startConversation(dialect: 'sqlite' | 'postgres'): Promise<Conversation> {
  const portal = await startScimPortal(dialect, overrides);
  return {
    portal,
    client: portal.client,
    session: new HttpClient(portal.portal.url),
    userId: '',
    groupIds: { platform: '', sre: '' },
  };
}

function ok(response: { status: number; text: string }, status: number): void {
  assert.equal(response.status, status, `status ${response.status}: ${response.text}`);
}

describeEachDialect('SCIM replay', (context) => {
  describe('Okta', () => {
    let conversation: Conversation;

    before(async () => {
      conversation = await startConversation(context.dialect);
    });

    after(async () => {
      await conversation?.portal.close();
    });

    test('provisions the user', async () => {
      const { client } = conversation;
      const lookup = await client.request(
        'GET',
        `/Users?filter=${encodeURIComponent(`userName eq "${USER_NAME}"`)}&startIndex=1&count=100`,
      );
      ok(lookup, 200);
      assert.equal(lookup.body.totalResults, 0);

      const created = await client.request('POST', '/Users', {
        schemas: [USER_SCHEMA],
        userName: USER_NAME,
        name: { givenName: 'Lin', familyName: 'Chen' },
        emails: [{ primary: true, value: USER_NAME, type: 'work' }],
        displayName: 'Lin Chen',
        locale: 'en-US',
        externalId: '00u1ab2cd3EF4gh5i6j7',
        groups: [],
        password: 'Okta-Sync-1',
        active: true,
      });
      ok(created, 201);
      conversation.userId = created.body.id as string;

      const state = await catalogState(conversation);
      assert.deepEqual(state.user?.spec.profile, { displayName: 'Lin Chen', email: USER_NAME });
      await conversation.session.signInWithDevelopmentProvider('lin', 'demo');
      await checkState(conversation, { userExists: true, groups: [], sessionStatus: 403 });
    });

    test('adds the user to two groups', async () => {
      const { client } = conversation;
      for (const [key, displayName] of [
        ['platform', 'Platform Engineers'],
        ['sre', 'Site Reliability'],
      ] as const) {
        const lookup = await client.request(
          'GET',
          `/Groups?filter=${encodeURIComponent(`displayName eq "${displayName}"`)}&startIndex=1&count=100`,
        );
        assert.equal(lookup.body.totalResults, 0);
        const created = await client.request('POST', '/Groups', {
          schemas: [GROUP_SCHEMA],
          displayName,
          members: [],
        });
        ok(created, 201);
        conversation.groupIds[key] = created.body.id as string;

        const added = await client.request('PATCH', `/Groups/${created.body.id}`, {
          schemas: [PATCH_SCHEMA],
          Operations: [
            {
              op: 'add',
              path: 'members',
              value: [{ value: conversation.userId, display: USER_NAME }],
            },
          ],
        });
        ok(added, 204);
      }

      await checkState(conversation, {
        userExists: true,
        groups: [PLATFORM_REF, SRE_REF],
        sessionStatus: 200,
      });
    });

    test('removes the user from one group', async () => {
      const removed = await conversation.client.request(
        'PATCH',
        `/Groups/${conversation.groupIds.sre}`,
        {
          schemas: [PATCH_SCHEMA],
          Operations: [{ op: 'remove', path: `members[value eq "${conversation.userId}"]` }],
        },
      );
      ok(removed, 204);

      await checkState(conversation, {
        userExists: true,
        groups: [PLATFORM_REF],
        sessionStatus: 200,
      });
    });

    test('updates the profile with a full replace', async () => {
      const replaced = await conversation.client.request('PUT', `/Users/${conversation.userId}`, {
        schemas: [USER_SCHEMA],
        id: conversation.userId,
        userName: USER_NAME,
        name: { givenName: 'Lin', familyName: 'Chen-Ito' },
        emails: [{ primary: true, value: USER_NAME, type: 'work' }],
        displayName: 'Lin Chen-Ito',
        externalId: '00u1ab2cd3EF4gh5i6j7',
        active: true,
      });
      ok(replaced, 200);
      assert.equal(replaced.body.displayName, 'Lin Chen-Ito');

      const state = await catalogState(conversation);
      assert.equal(state.user?.spec.profile.displayName, 'Lin Chen-Ito');
      await checkState(conversation, {
        userExists: true,
        groups: [PLATFORM_REF],
        sessionStatus: 200,
      });
    });

    test('deactivates the user with a full replace', async () => {
      const replaced = await conversation.client.request('PUT', `/Users/${conversation.userId}`, {
        schemas: [USER_SCHEMA],
        id: conversation.userId,
        userName: USER_NAME,
        name: { givenName: 'Lin', familyName: 'Chen-Ito' },
        emails: [{ primary: true, value: USER_NAME, type: 'work' }],
        displayName: 'Lin Chen-Ito',
        externalId: '00u1ab2cd3EF4gh5i6j7',
        active: false,
      });
      ok(replaced, 200);
      assert.equal(replaced.body.active, false);

      await checkState(conversation, { userExists: false, groups: [], sessionStatus: 401 });
      const group = await conversation.client.request(
        'GET',
        `/Groups/${conversation.groupIds.platform}`,
      );
      assert.deepEqual(
        (group.body.members as Array<{ value: string }>).map((member) => member.value),
        [conversation.userId],
      );
    });

    test('deletes the user', async () => {
      const deleted = await conversation.client.request('DELETE', `/Users/${conversation.userId}`);
      ok(deleted, 204);

      const deletedUser = await conversation.client.request('GET', `/Users/${conversation.userId}`);
      ok(deletedUser, 404);
      const group = await conversation.client.request(
        'GET',
        `/Groups/${conversation.groupIds.platform}`,
      );
      assert.deepEqual(group.body.members, []);
      await checkState(conversation, { userExists: false, groups: [], sessionStatus: 401 });
    });
  });

  describe('Entra ID', () => {
    let conversation: Conversation;

    before(async () => {
      conversation = await startConversation(context.dialect);
    });

    after(async () => {
      await conversation?.portal.close();
    });

    test('provisions the user', async () => {
      const { client } = conversation;
      const lookup = await client.request(
        'GET',
        `/Users?filter=${encodeURIComponent(`userName eq "${USER_NAME}"`)}`,
      );
      assert.equal(lookup.body.totalResults, 0);

      const created = await client.request('POST', '/Users', {
        schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
        externalId: 'lin.chen',
        userName: USER_NAME,
        active: true,
        displayName: 'Lin Chen',
        emails: [{ primary: true, type: 'work', value: USER_NAME }],
        meta: { resourceType: 'User' },
        name: { formatted: 'Lin Chen', familyName: 'Chen', givenName: 'Lin' },
        title: 'Platform Engineer',
        [ENTERPRISE_SCHEMA]: { department: 'Infrastructure' },
      });
      ok(created, 201);
      conversation.userId = created.body.id as string;
      assert.deepEqual(created.body[ENTERPRISE_SCHEMA], { department: 'Infrastructure' });

      await conversation.session.signInWithDevelopmentProvider('lin', 'demo');
      await checkState(conversation, { userExists: true, groups: [], sessionStatus: 403 });
    });

    test('adds the user to two groups', async () => {
      const { client } = conversation;
      const groups = [
        ['platform', 'Platform Engineers', '8d2b1c9e-54a3-4b7f-9e1d-2f6a7c3b9a10'],
        ['sre', 'Site Reliability', 'c41f0e27-9b8d-4c6a-a3e5-7d2b1f0c8e94'],
      ] as const;
      for (const [key, displayName, objectId] of groups) {
        const lookup = await client.request(
          'GET',
          `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${displayName}"`)}`,
        );
        assert.equal(lookup.body.totalResults, 0);
        const created = await client.request('POST', '/Groups', {
          schemas: [GROUP_SCHEMA],
          externalId: objectId,
          displayName,
          members: [],
        });
        ok(created, 201);
        conversation.groupIds[key] = created.body.id as string;

        const added = await client.request('PATCH', `/Groups/${created.body.id}`, {
          schemas: [PATCH_SCHEMA],
          Operations: [{ op: 'Add', path: 'members', value: [{ value: conversation.userId }] }],
        });
        ok(added, 204);
      }

      const db = conversation.portal.portal.portal.database.db as Kysely<CatalogTables>;
      const platform = await db
        .selectFrom('catalog_entities')
        .select('body')
        .where('entity_ref', '=', PLATFORM_REF)
        .executeTakeFirstOrThrow();
      const annotations = (
        JSON.parse(platform.body) as { metadata: { annotations: Record<string, string> } }
      ).metadata.annotations;
      assert.equal(annotations['graph.microsoft.com/group-id'], groups[0][2]);
      await checkState(conversation, {
        userExists: true,
        groups: [PLATFORM_REF, SRE_REF],
        sessionStatus: 200,
      });
    });

    test('removes the user from one group', async () => {
      const removed = await conversation.client.request(
        'PATCH',
        `/Groups/${conversation.groupIds.platform}`,
        {
          schemas: [PATCH_SCHEMA],
          Operations: [{ op: 'Remove', path: 'members', value: [{ value: conversation.userId }] }],
        },
      );
      ok(removed, 204);

      await checkState(conversation, { userExists: true, groups: [SRE_REF], sessionStatus: 403 });
    });

    test('updates attributes with capitalised operations', async () => {
      const patched = await conversation.client.request('PATCH', `/Users/${conversation.userId}`, {
        schemas: [PATCH_SCHEMA],
        Operations: [
          { op: 'Replace', path: 'displayName', value: 'Lin Chen-Ito' },
          {
            op: 'Replace',
            value: { 'name.familyName': 'Chen-Ito', 'name.formatted': 'Lin Chen-Ito' },
          },
          { op: 'Replace', path: 'emails[type eq "work"].value', value: USER_NAME },
          { op: 'Add', path: `${ENTERPRISE_SCHEMA}:department`, value: 'Platform' },
          { op: 'Replace', path: 'active', value: 'True' },
        ],
      });
      ok(patched, 200);
      assert.equal(patched.body.displayName, 'Lin Chen-Ito');
      assert.deepEqual(patched.body.name, {
        formatted: 'Lin Chen-Ito',
        familyName: 'Chen-Ito',
        givenName: 'Lin',
      });
      assert.equal(patched.body.active, true);
      assert.deepEqual(patched.body[ENTERPRISE_SCHEMA], { department: 'Platform' });

      await checkState(conversation, { userExists: true, groups: [SRE_REF], sessionStatus: 403 });
    });

    test('deactivates the user with "False"', async () => {
      const patched = await conversation.client.request('PATCH', `/Users/${conversation.userId}`, {
        schemas: [PATCH_SCHEMA],
        Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
      });
      ok(patched, 200);
      assert.equal(patched.body.active, false);

      await checkState(conversation, { userExists: false, groups: [], sessionStatus: 401 });
    });

    test('deletes the user', async () => {
      const deleted = await conversation.client.request('DELETE', `/Users/${conversation.userId}`);
      ok(deleted, 204);

      const lookup = await conversation.client.request(
        'GET',
        `/Users?filter=${encodeURIComponent(`userName eq "${USER_NAME}"`)}`,
      );
      assert.equal(lookup.body.totalResults, 0);
      await checkState(conversation, { userExists: false, groups: [], sessionStatus: 401 });
    });
  });
});
