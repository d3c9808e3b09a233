import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Kysely } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import {
  type ScimHttpClient,
  type ScimTestPortal,
  startScimPortal,
} from '../../test/support/scim.js';
import type { CatalogTables } from '../catalog/index.js';
import { SCIM_SCHEMAS } from './schemas.js';
import type { ScimTables } from './tables.js';

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

function newUser(userName: string, extra: Record<string, unknown> = {}) {
  return {
    schemas: [SCIM_SCHEMAS.user],
    userName,
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ primary: true, value: userName, type: 'work' }],
    active: true,
    ...extra,
  };
}

async function entityBody(portal: ScimTestPortal, ref: string) {
  const db = portal.portal.portal.database.db as Kysely<CatalogTables>;
  const row = await db
    .selectFrom('catalog_entities')
    .select(['body', 'location_id'])
    .where('entity_ref', '=', ref)
    .executeTakeFirst();
  return row ? (JSON.parse(row.body) as { spec: Record<string, unknown> }) : undefined;
}

function assertScimError(
  response: { status: number; headers: Headers; body: Record<string, unknown> },
  status: number,
  scimType?: string,
) {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', /^application\/scim\+json/);
  assert.deepEqual(response.body.schemas, [ERROR_SCHEMA]);
  assert.equal(response.body.status, String(status));
  assert.equal(response.body.scimType, scimType);
  assert.equal(typeof response.body.detail, 'string');
}

describeEachDialect('SCIM routes', (context) => {
  let portal: ScimTestPortal;
  let client: ScimHttpClient;

  before(async () => {
    portal = await startScimPortal(context.dialect);
    client = portal.client;
  });

  after(async () => {
    await portal?.close();
  });

  test('every SCIM route requires the token', async () => {
    const routes = portal.portal.portal.routes.filter(
      (route) => route.access && 'scimToken' in route.access && route.method !== 'HEAD',
    );
    assert.ok(routes.length >= 17, `expected the SCIM routes, found ${routes.length}`);

    for (const route of routes) {
      const path = route.url.replace('/scim/v2', '').replace(':id', 'x');
      const response = await client.request(
        route.method,
        path,
        route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
        {
          authorization: null,
        },
      );
      assertScimError(response, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="scim"');
    }
  });

  test('unknown and revoked tokens get 401', async () => {
    const forged = await client.request('GET', '/Users', undefined, {
      authorization: `Bearer luigi_scim_0123456789abcdef_${'A'.repeat(43)}`,
    });
    assertScimError(forged, 401);

    const scim = portal.portal.portal.scim;
    assert.ok(scim);
    const { token } = await scim.tokens.create('short-lived');
    const accepted = await client.request('GET', '/Users', undefined, {
      authorization: `Bearer ${token}`,
    });
    assert.equal(accepted.status, 200);

    await scim.tokens.revoke('short-lived');
    const revoked = await client.request('GET', '/Users', undefined, {
      authorization: `Bearer ${token}`,
    });
    assertScimError(revoked, 401);
  });

  test('discovery endpoints describe the server', async () => {
    const config = await client.request('GET', '/ServiceProviderConfig');
    assert.equal(config.status, 200);
    assert.match(config.headers.get('content-type') ?? '', /^application\/scim\+json/);
    assert.deepEqual((config.body.patch as { supported: boolean }).supported, true);
    assert.deepEqual((config.body.bulk as { supported: boolean }).supported, false);

    const types = await client.request('GET', '/ResourceTypes');
    assert.equal(types.body.totalResults, 2);
    assert.deepEqual(
      types.body.Resources?.map((type) => type.endpoint),
      ['/Users', '/Groups'],
    );
    const userType = await client.request('GET', '/ResourceTypes/User');
    assert.equal(userType.body.schema, SCIM_SCHEMAS.user);

    const schemas = await client.request('GET', '/Schemas');
    assert.deepEqual(
      schemas.body.Resources?.map((schema) => schema.id),
      [SCIM_SCHEMAS.user, SCIM_SCHEMAS.group, SCIM_SCHEMAS.enterpriseUser],
    );
    const missing = await client.request('GET', '/Schemas/urn:example:nothing');
    assertScimError(missing, 404);
  });

  test('user create, read, filter and conflicts', async () => {
    const created = await client.request(
      'POST',
      '/Users',
      newUser('Ada.Lovelace@example.com', { password: 'Secret-1', externalId: 'okta-00u1' }),
    );
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    assert.equal(created.headers.get('location'), `${portal.portal.url}/scim/v2/Users/${id}`);
    assert.equal(created.body.userName, 'Ada.Lovelace@example.com');
    assert.equal(created.body.active, true);
    assert.equal(created.body.password, undefined);
    assert.deepEqual(created.body.groups, []);

    const scimDb = portal.portal.portal.database.db as Kysely<ScimTables>;
    const row = await scimDb
      .selectFrom('scim_users')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.ok(!row.attributes.includes('Secret-1'));

    const entity = await entityBody(portal, 'user:default/ada.lovelace_example.com');
    assert.deepEqual(entity?.spec, {
      profile: { displayName: 'Ada Lovelace', email: 'Ada.Lovelace@example.com' },
      memberOf: [],
    });

    const fetched = await client.request('GET', `/Users/${id}`);
    assert.equal(fetched.status, 200);
    assert.equal(fetched.body.externalId, 'okta-00u1');

    const byUserName = await client.request(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "ada.lovelace@EXAMPLE.com"')}`,
    );
    assert.equal(byUserName.body.totalResults, 1);
    assert.equal(byUserName.body.Resources?.[0]?.id, id);

    const byExternalId = await client.request(
      'GET',
      `/Users?filter=${encodeURIComponent('externalId eq "okta-00u1"')}`,
    );
    assert.equal(byExternalId.body.totalResults, 1);

    const none = await client.request(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "nobody@example.com"')}`,
    );
    assert.equal(none.status, 200);
    assert.equal(none.body.totalResults, 0);
    assert.deepEqual(none.body.Resources, []);

    const duplicate = await client.request('POST', '/Users', newUser('ADA.LOVELACE@example.com'));
    assertScimError(duplicate, 409, 'uniqueness');

    // The example organisation's own file defines user:default/amara.okafor.
    const fileUser = await client.request('POST', '/Users', newUser('amara.okafor'));
    assertScimError(fileUser, 409, 'uniqueness');
    assert.match(fileUser.body.detail as string, /already stored from catalog location/);
  });

  test('invalid filters get invalidFilter', async () => {
    const filters = [
      'title eq "Engineer"',
      'userName co "ada"',
      'userName eq "a" and displayName eq "b"',
      'emails[type eq "work"]',
      'userName eq',
      'userName eq true',
    ];
    for (const filter of filters) {
      const response = await client.request('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      assertScimError(response, 400, 'invalidFilter');
    }
  });

  test('pages follow startIndex and count', async () => {
    for (const name of ['page-1@example.com', 'page-2@example.com', 'page-3@example.com']) {
      const response = await client.request('POST', '/Users', newUser(name));
      assert.equal(response.status, 201);
    }
    const all = await client.request('GET', '/Users?count=1000');
    const total = all.body.totalResults as number;

    const page = await client.request('GET', '/Users?startIndex=2&count=2');
    assert.equal(page.body.totalResults, total);
    assert.equal(page.body.startIndex, 2);
    assert.equal(page.body.itemsPerPage, 2);
    assert.deepEqual(
      page.body.Resources?.map((user) => user.id),
      all.body.Resources?.slice(1, 3).map((user) => user.id),
    );

    const countOnly = await client.request('GET', '/Users?count=0');
    assert.equal(countOnly.body.totalResults, total);
    assert.deepEqual(countOnly.body.Resources, []);

    const invalid = await client.request('GET', '/Users?count=ten');
    assertScimError(invalid, 400, 'invalidValue');
  });

  test('bad bodies get SCIM errors', async () => {
    const notJson = await client.request('POST', '/Users', undefined, { rawBody: '{"userName":' });
    assertScimError(notJson, 400, 'invalidSyntax');

    const noUserName = await client.request('POST', '/Users', { schemas: [SCIM_SCHEMAS.user] });
    assertScimError(noUserName, 400, 'invalidValue');
    assert.match(noUserName.body.detail as string, /userName is required/);

    const badActive = await client.request(
      'POST',
      '/Users',
      newUser('bad@example.com', { active: 'maybe' }),
    );
    assertScimError(badActive, 400, 'invalidValue');
    assert.match(badActive.body.detail as string, /active must be true or false/);

    const nul = await client.request(
      'POST',
      '/Users',
      newUser('nul@example.com', { displayName: 'a\u0000b' }),
    );
    assertScimError(nul, 400, 'invalidValue');

    const plainJson = await client.request('POST', '/Users', newUser('json@example.com'), {
      contentType: 'application/json',
    });
    assert.equal(plainJson.status, 201);

    const wrongType = await client.request('POST', '/Users', undefined, {
      rawBody: 'userName=x',
      contentType: 'text/plain',
    });
    assertScimError(wrongType, 415);

    const missing = await client.request('GET', '/Users/00000000-0000-0000-0000-000000000000');
    assertScimError(missing, 404);
  });

  test('user replace, patch and delete', async () => {
    const created = await client.request('POST', '/Users', newUser('grace@example.com'));
    const id = created.body.id as string;

    const replaced = await client.request('PUT', `/Users/${id}`, {
      ...newUser('grace@example.com'),
      displayName: 'Grace H.',
      id,
    });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.displayName, 'Grace H.');
    const replacedEntity = await entityBody(portal, 'user:default/grace_example.com');
    assert.equal(
      (replacedEntity?.spec.profile as { displayName?: string } | undefined)?.displayName,
      'Grace H.',
    );

    const patched = await client.request('PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [
        { op: 'Replace', path: 'name.givenName', value: 'Grace' },
        { op: 'Add', path: 'title', value: 'Rear Admiral' },
        { op: 'replace', value: { 'name.familyName': 'Hopper', nickName: 'Amazing Grace' } },
        { op: 'Remove', path: 'nickName' },
      ],
    });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body.name, { givenName: 'Grace', familyName: 'Hopper' });
    assert.equal(patched.body.title, 'Rear Admiral');
    assert.equal(patched.body.nickName, undefined);

    const readOnly = await client.request('PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'add', path: 'groups', value: [{ value: 'x' }] }],
    });
    assertScimError(readOnly, 400, 'mutability');

    const badOp = await client.request('PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'move', path: 'title', value: 'x' }],
    });
    assertScimError(badOp, 400, 'invalidSyntax');

    const badPath = await client.request('PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', path: 'emails[type eq "work"', value: 'x' }],
    });
    assertScimError(badPath, 400, 'invalidPath');

    const deleted = await client.request('DELETE', `/Users/${id}`);
    assert.equal(deleted.status, 204);
    assert.equal(await entityBody(portal, 'user:default/grace_example.com'), undefined);
    const missingUser = await client.request('GET', `/Users/${id}`);
    assertScimError(missingUser, 404);
  });

  test('groups with members and member removal by filter', async () => {
    const alice = await client.request('POST', '/Users', newUser('alice@example.com'));
    const bob = await client.request('POST', '/Users', newUser('bob@example.com'));
    const aliceId = alice.body.id as string;
    const bobId = bob.body.id as string;

    const created = await client.request('POST', '/Groups', {
      schemas: [SCIM_SCHEMAS.group],
      displayName: 'Platform Admins',
      externalId: 'entra-group-1',
      members: [{ value: aliceId }, { value: bobId }],
    });
    assert.equal(created.status, 201);
    const groupId = created.body.id as string;
    assert.deepEqual(
      (created.body.members as Array<{ value: string }>).map((member) => member.value).sort(),
      [aliceId, bobId].sort(),
    );
    assert.deepEqual((await entityBody(portal, 'group:default/platform_admins'))?.spec.members, [
      'user:default/alice_example.com',
      'user:default/bob_example.com',
    ]);

    const userView = await client.request('GET', `/Users/${aliceId}`);
    assert.deepEqual(
      (userView.body.groups as Array<{ value: string; display: string }>).map(
        (group) => group.display,
      ),
      ['Platform Admins'],
    );

    const byName = await client.request(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "platform admins"')}&excludedAttributes=members`,
    );
    assert.equal(byName.body.totalResults, 1);
    assert.equal(byName.body.Resources?.[0]?.members, undefined);

    const removed = await client.request('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'remove', path: `members[value eq "${bobId}"]` }],
    });
    assert.equal(removed.status, 204);
    assert.deepEqual((await entityBody(portal, 'group:default/platform_admins'))?.spec.members, [
      'user:default/alice_example.com',
    ]);

    const unknownMember = await client.request('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'add', path: 'members', value: [{ value: 'no-such-id' }] }],
    });
    assertScimError(unknownMember, 400, 'invalidValue');

    const renamed = await client.request('PATCH', `/Groups/${groupId}?attributes=displayName`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', value: { id: groupId, displayName: 'Portal Admins' } }],
    });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.displayName, 'Portal Admins');
    assert.equal(renamed.body.members, undefined);
    assert.equal(await entityBody(portal, 'group:default/platform_admins'), undefined);
    assert.ok(await entityBody(portal, 'group:default/portal_admins'));

    const deleted = await client.request('DELETE', `/Groups/${groupId}`);
    assert.equal(deleted.status, 204);
    assert.equal(await entityBody(portal, 'group:default/portal_admins'), undefined);
  });

  test('catalog refresh keeps provisioned entities', async () => {
    const created = await client.request('POST', '/Users', newUser('kept@example.com'));
    assert.equal(created.status, 201);

    await portal.portal.portal.catalog.refreshAll();

    assert.ok(await entityBody(portal, 'user:default/kept_example.com'));
  });
});
