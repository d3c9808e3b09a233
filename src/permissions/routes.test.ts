import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type AuthorizePermissionRequest,
  createPermission,
  PermissionClient,
} from '@backstage/plugin-permission-common';
import { describeEachDialect } from '../../test/support/databases.js';
import { startHeaderForwarder } from '../../test/support/header-forwarder.js';
import { HttpClient } from '../../test/support/http-client.js';
import { startTestPortal, type TestPortal } from '../../test/support/portal.js';
import type { Explanation } from './explain.js';

/**
 * The permission routes of the whole example portal: Backstage's authorize
 * protocol through the real PermissionClient from
 * @backstage/plugin-permission-common on a listening loopback server, and
 * the explain route, on both databases.
 */

// The definitions of @backstage/plugin-catalog-common, written out because
// that package is not a dependency of this project.
const catalogEntityRead = createPermission({
  name: 'catalog.entity.read',
  attributes: { action: 'read' },
  resourceType: 'catalog-entity',
});
const catalogLocationRead = createPermission({
  name: 'catalog.location.read',
  attributes: { action: 'read' },
});

type ClientConfig = ConstructorParameters<typeof PermissionClient>[0]['config'];

/** The part of Backstage's Config that PermissionClient reads. */
function clientConfig(batched: boolean): ClientConfig {
  const values: Record<string, boolean> = {
    'permission.enabled': true,
    'permission.EXPERIMENTAL_enableBatchedRequests': batched,
  };
  return { getOptionalBoolean: (key: string) => values[key] } as unknown as ClientConfig;
}

function withoutId(decision: object | undefined): object | undefined {
  if (!decision) {
    return decision;
  }
  const { id: _id, ...rest } = decision as { id?: string };
  return rest;
}

const AMARA_OWNERSHIP = [
  'user:default/amara.okafor',
  'group:default/booking-team',
  'group:default/customer-experience',
  'group:default/engineering',
  'group:default/kestrel',
];

describeEachDialect('permission routes', (context) => {
  let portal: TestPortal;
  const signedIn = new Map<string, HttpClient>();
  const closers: Array<() => Promise<void>> = [];

  /** A client signed in as a demo user, one sign-in per user and dialect. */
  async function clientOf(username: string): Promise<HttpClient> {
    const existing = signedIn.get(username);
    if (existing) {
      return existing;
    }
    const client = new HttpClient(portal.url);
    await client.signInWithDevelopmentProvider(username, 'demo');
    signedIn.set(username, client);
    return client;
  }

  /** Backstage's PermissionClient, calling through a forwarder that adds the user's session cookie. */
  async function permissionClientOf(username: string, batched = false): Promise<PermissionClient> {
    const cookieName = portal.config.auth.session.cookieName;
    const session = (await clientOf(username)).cookie(cookieName);
    assert.ok(session, `${username} has no session cookie ${cookieName}`);
    const forwarder = await startHeaderForwarder(portal.url, {
      cookie: `${cookieName}=${session}`,
    });
    closers.push(() => forwarder.close());
    return new PermissionClient({
      discovery: { getBaseUrl: async () => `${forwarder.url}/api/permission` },
      config: clientConfig(batched),
    });
  }

  async function postAuthorize(username: string | undefined, json: unknown) {
    const client = username ? await clientOf(username) : new HttpClient(portal.url);
    const response = await client.request('/api/permission/authorize', { method: 'POST', json });
    return { status: response.status, body: JSON.parse(response.body) };
  }

  async function explain(username: string, query: Record<string, string>) {
    const client = await clientOf(username);
    const response = await client.request(
      `/api/permission/explain?${new URLSearchParams(query).toString()}`,
    );
    return { status: response.status, body: JSON.parse(response.body) };
  }

  before(async () => {
    portal = await startTestPortal({ dialect: context.dialect });
  });

  after(async () => {
    for (const close of closers) {
      await close();
    }
    await portal?.close();
  });

  test('PermissionClient authorize decides each item', async () => {
    const client = await permissionClientOf('amara');
    const requests: AuthorizePermissionRequest[] = [
      { permission: catalogLocationRead },
      { permission: catalogEntityRead, resourceRef: 'component:default/booking-web' },
      { permission: catalogEntityRead, resourceRef: 'component:default/route-optimizer' },
      { permission: catalogEntityRead, resourceRef: 'Component:Default/Booking-Web' },
      { permission: catalogEntityRead, resourceRef: 'component:default/no-such-thing' },
      { permission: catalogEntityRead, resourceRef: 'booking-web' },
    ];

    const decisions = await client.authorize(requests);

    assert.deepEqual(
      decisions.map((decision) => decision.result),
      ['DENY', 'ALLOW', 'DENY', 'ALLOW', 'DENY', 'DENY'],
    );
  });

  test('PermissionClient authorize allows the platform admin', async () => {
    const client = await permissionClientOf('sofia');

    const decisions = await client.authorize([
      { permission: catalogLocationRead },
      { permission: catalogEntityRead, resourceRef: 'component:default/route-optimizer' },
    ]);

    assert.deepEqual(
      decisions.map((decision) => decision.result),
      ['ALLOW', 'ALLOW'],
    );
  });

  test('PermissionClient authorize applies a deny grant', async () => {
    // oliver's team owns both, but proof-of-delivery is labelled as personal data, which contractors may not read.
    const client = await permissionClientOf('oliver');

    const decisions = await client.authorize([
      { permission: catalogEntityRead, resourceRef: 'component:default/driver-gateway' },
      { permission: catalogEntityRead, resourceRef: 'component:default/proof-of-delivery' },
    ]);

    assert.deepEqual(
      decisions.map((decision) => decision.result),
      ['ALLOW', 'DENY'],
    );
  });

  test('PermissionClient authorizeConditional returns criteria', async () => {
    const client = await permissionClientOf('amara');

    const [decision] = await client.authorizeConditional([{ permission: catalogEntityRead }]);

    // The client passes each response item on with the id it generated for the request.
    assert.deepEqual(withoutId(decision), {
      result: 'CONDITIONAL',
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: {
        anyOf: [
          {
            rule: 'IS_ENTITY_OWNER',
            resourceType: 'catalog-entity',
            params: { claims: AMARA_OWNERSHIP },
          },
          {
            rule: 'IS_ENTITY_KIND',
            resourceType: 'catalog-entity',
            params: { kinds: ['Domain', 'System', 'Group', 'User'] },
          },
          {
            allOf: [
              {
                rule: 'IS_ENTITY_KIND',
                resourceType: 'catalog-entity',
                params: { kinds: ['API'] },
              },
              {
                rule: 'HAS_SPEC',
                resourceType: 'catalog-entity',
                params: { key: 'lifecycle', value: 'production' },
              },
            ],
          },
        ],
      },
    });
  });

  test('PermissionClient authorizeConditional negates a deny grant', async () => {
    const client = await permissionClientOf('oliver');

    const [decision] = await client.authorizeConditional([{ permission: catalogEntityRead }]);
    const conditions = decision?.result === 'CONDITIONAL' ? decision.conditions : undefined;

    assert.ok(conditions && 'allOf' in conditions, JSON.stringify(decision));
    assert.equal(conditions.allOf.length, 2);
    assert.deepEqual(conditions.allOf[1], {
      not: {
        anyOf: [
          {
            rule: 'HAS_ANNOTATION',
            resourceType: 'catalog-entity',
            params: { annotation: 'kestrel.example/pci-scope', value: 'true' },
          },
          {
            rule: 'HAS_LABEL',
            resourceType: 'catalog-entity',
            params: { label: 'kestrel.example/personal-data' },
          },
        ],
      },
    });
  });

  test('PermissionClient authorizeConditional allows the platform admin', async () => {
    const client = await permissionClientOf('sofia');

    const decisions = await client.authorizeConditional([{ permission: catalogEntityRead }]);

    assert.deepEqual(decisions.map(withoutId), [{ result: 'ALLOW' }]);
  });

  test('PermissionClient batched requests list resources', async () => {
    const client = await permissionClientOf('amara', true);

    const decisions = await client.authorize([
      { permission: catalogEntityRead, resourceRef: 'component:default/booking-web' },
      { permission: catalogLocationRead },
      { permission: catalogEntityRead, resourceRef: 'component:default/route-optimizer' },
      { permission: catalogEntityRead, resourceRef: 'group:default/booking-team' },
    ]);

    assert.deepEqual(
      decisions.map((decision) => decision.result),
      ['ALLOW', 'DENY', 'DENY', 'ALLOW'],
    );
  });

  test('authorize answers resource lists in order', async () => {
    const { status, body } = await postAuthorize('amara', {
      items: [
        {
          id: 'list',
          permission: {
            type: 'resource',
            name: 'catalog.entity.read',
            attributes: {},
            resourceType: 'catalog-entity',
          },
          resourceRef: [
            'component:default/route-optimizer',
            'component:default/booking-web',
            'component:default/booking-web',
          ],
        },
        {
          id: 'admin-list',
          permission: { type: 'basic', name: 'catalog.location.read', attributes: {} },
          resourceRef: ['a', 'b'],
        },
      ],
    });

    assert.equal(status, 200);
    assert.deepEqual(body, {
      items: [
        { id: 'list', result: ['DENY', 'ALLOW', 'ALLOW'] },
        { id: 'admin-list', result: ['DENY', 'DENY'] },
      ],
    });
  });

  test('authorize denies an unregistered permission with a reason', async () => {
    const { status, body } = await postAuthorize('sofia', {
      items: [
        {
          id: 'a',
          permission: { type: 'basic', name: 'scaffolder.action.execute', attributes: {} },
        },
        { id: 'b', permission: { type: 'basic', name: 'catalog.location.read', attributes: {} } },
      ],
    });

    assert.equal(status, 200);
    assert.equal(body.items[0].id, 'a');
    assert.equal(body.items[0].result, 'DENY');
    assert.match(
      body.items[0].reason,
      /permission 'scaffolder\.action\.execute' is not registered/,
    );
    assert.deepEqual(body.items[1], { id: 'b', result: 'ALLOW' });
  });

  test('authorize denies a permission sent with another type', async () => {
    const { status, body } = await postAuthorize('sofia', {
      items: [
        { id: 'basic', permission: { type: 'basic', name: 'catalog.entity.read', attributes: {} } },
        {
          id: 'type',
          permission: {
            type: 'resource',
            name: 'catalog.entity.read',
            attributes: {},
            resourceType: 'scaffolder-template',
          },
          resourceRef: 'component:default/booking-web',
        },
      ],
    });

    assert.equal(status, 200);
    assert.equal(body.items[0].result, 'DENY');
    assert.match(
      body.items[0].reason,
      /registered as a resource permission, not a basic one: send type 'resource' with resourceType 'catalog-entity'/,
    );
    assert.equal(body.items[1].result, 'DENY');
    assert.match(
      body.items[1].reason,
      /has resource type 'catalog-entity', not 'scaffolder-template'/,
    );
  });

  test('authorize requires a session', async () => {
    const { status, body } = await postAuthorize(undefined, { items: [] });

    assert.equal(status, 401);
    assert.equal(body.error.code, 'UNAUTHENTICATED');
  });

  test('authorize answers an empty batch', async () => {
    const { status, body } = await postAuthorize('amara', { items: [] });

    assert.equal(status, 200);
    assert.deepEqual(body, { items: [] });
  });

  const basic = { type: 'basic', name: 'catalog.location.read', attributes: {} };
  const malformed: Array<{ name: string; body: unknown; path: string; message: RegExp }> = [
    { name: 'no items', body: {}, path: 'items', message: /items is required \(expected array\)/ },
    { name: 'items not a list', body: { items: 'x' }, path: 'items', message: /'x' is invalid/ },
    {
      name: 'no id',
      body: { items: [{ permission: basic }] },
      path: 'items[0].id',
      message: /is required/,
    },
    {
      name: 'unknown type',
      body: { items: [{ id: '1', permission: { ...basic, type: 'policy' } }] },
      path: 'items[0].permission.type',
      message: /expected one of "basic", "resource"/,
    },
    {
      name: 'resource without type',
      body: { items: [{ id: '1', permission: { ...basic, type: 'resource' } }] },
      path: 'items[0].permission.resourceType',
      message: /is required/,
    },
    {
      name: 'no attributes',
      body: { items: [{ id: '1', permission: { type: 'basic', name: 'x' } }] },
      path: 'items[0].permission.attributes',
      message: /is required/,
    },
    {
      name: 'unknown action',
      body: { items: [{ id: '1', permission: { ...basic, attributes: { action: 'fly' } } }] },
      path: 'items[0].permission.attributes.action',
      message: /'fly' is invalid/,
    },
    {
      name: 'numeric resourceRef',
      body: { items: [{ id: '1', permission: basic, resourceRef: 7 }] },
      path: 'items[0].resourceRef',
      message: /7 is invalid/,
    },
    {
      name: 'repeated id',
      body: {
        items: [
          { id: 'x', permission: basic },
          { id: 'x', permission: basic },
        ],
      },
      path: 'items[1].id',
      message: /'x' repeats the id of items\[0\]/,
    },
    {
      name: 'too many items',
      body: {
        items: Array.from({ length: 1001 }, (_, index) => ({ id: `${index}`, permission: basic })),
      },
      path: 'items',
      message: /at most 1000 items/,
    },
    {
      name: 'too many references',
      body: {
        items: [
          { id: 'a', permission: basic, resourceRef: Array.from({ length: 600 }, () => 'r') },
          { id: 'b', permission: basic, resourceRef: Array.from({ length: 401 }, () => 'r') },
        ],
      },
      path: 'items',
      message: /names 1001 resource references: send at most 1000/,
    },
  ];
  for (const item of malformed) {
    test(`authorize rejects a body with ${item.name}`, async () => {
      const { status, body } = await postAuthorize('amara', item.body);

      assert.equal(status, 400);
      assert.equal(body.error.code, 'INPUT_INVALID');
      assert.equal(body.error.details[0].path, item.path);
      assert.match(body.error.message, item.message);
    });
  }

  test('authorize rejects malformed JSON', async () => {
    const client = await clientOf('amara');

    const response = await client.request('/api/permission/authorize', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      json: undefined,
    });

    assert.equal(response.status, 400);
  });

  test('explain requires permission.policy.read', async () => {
    const { status, body } = await explain('amara', {
      user: 'amara.okafor',
      permission: 'catalog.entity.read',
    });

    assert.equal(status, 403);
    assert.match(body.error.message, /permission\.policy\.read is not granted/);
  });

  test('explain shows the grants behind a conditional decision', async () => {
    const { status, body } = await explain('sofia', {
      user: 'amara.okafor',
      permission: 'catalog.entity.read',
    });
    const explanation = body as Explanation;

    assert.equal(status, 200);
    assert.equal(explanation.user, 'user:default/amara.okafor');
    assert.deepEqual(explanation.ownershipRefs, AMARA_OWNERSHIP);
    assert.deepEqual(explanation.permission, {
      name: 'catalog.entity.read',
      type: 'resource',
      resourceType: 'catalog-entity',
    });
    assert.equal(explanation.result, 'CONDITIONAL');
    assert.equal(explanation.pluginId, 'catalog');
    assert.deepEqual(explanation.decidedBy, [{ role: 'developer', grant: 0, effect: 'allow' }]);
    assert.equal(explanation.grants.length, 1);
    assert.deepEqual(explanation.grants[0]?.via, ['group:default/engineering']);
    assert.equal(explanation.grants[0]?.decisive, true);
    assert.equal(explanation.grants[0]?.matched, undefined);
    assert.deepEqual(explanation.grants[0]?.conditions, explanation.conditions);
  });

  test('explain marks each condition for a resource', async () => {
    const { status, body } = await explain('sofia', {
      user: 'oliver.brandt',
      permission: 'catalog.entity.read',
      resourceRef: 'component:default/proof-of-delivery',
    });
    const explanation = body as Explanation;
    const [developer, restriction] = explanation.grants;

    assert.equal(status, 200);
    assert.equal(explanation.result, 'DENY');
    assert.equal(explanation.resourceFound, true);
    assert.equal(explanation.conditions, undefined);
    assert.equal(developer?.role, 'developer');
    assert.equal(developer?.matched, true);
    assert.equal(restriction?.role, 'contractor-restrictions');
    assert.deepEqual(restriction?.via, ['group:default/contractors']);
    assert.equal(restriction?.effect, 'deny');
    assert.equal(restriction?.matched, true);
    assert.deepEqual(restriction?.conditions, {
      anyOf: [
        {
          rule: 'HAS_ANNOTATION',
          resourceType: 'catalog-entity',
          params: { annotation: 'kestrel.example/pci-scope', value: 'true' },
          matched: false,
        },
        {
          rule: 'HAS_LABEL',
          resourceType: 'catalog-entity',
          params: { label: 'kestrel.example/personal-data' },
          matched: true,
        },
      ],
      matched: true,
    });
  });

  test('explain marks nested conditions', async () => {
    const { body } = await explain('sofia', {
      user: 'amara.okafor',
      permission: 'catalog.entity.read',
      resourceRef: 'api:default/booking-api',
    });
    const conditions = (body as Explanation).grants[0]?.conditions as {
      anyOf: Array<{ matched: boolean; allOf?: Array<{ matched: boolean }> }>;
      matched: boolean;
    };

    assert.equal((body as Explanation).result, 'ALLOW');
    assert.equal(conditions.matched, true);
    assert.deepEqual(
      conditions.anyOf.map((node) => node.matched),
      [true, false, true],
    );
    assert.deepEqual(
      conditions.anyOf[2]?.allOf?.map((node) => node.matched),
      [true, true],
    );
  });

  test('explain denies a missing resource', async () => {
    const { status, body } = await explain('sofia', {
      user: 'amara.okafor',
      permission: 'catalog.entity.read',
      resourceRef: 'component:default/no-such-thing',
    });

    assert.equal(status, 200);
    assert.equal(body.result, 'DENY');
    assert.equal(body.resourceFound, false);
    assert.equal(body.grants[0].matched, undefined);
  });

  test('explain resolves groups as sign-in does', async () => {
    const me = await (await clientOf('oliver')).request('/api/auth/me');
    const { body } = await explain('sofia', {
      user: 'user:default/Oliver.Brandt',
      permission: 'catalog.location.read',
    });

    assert.equal(body.result, 'DENY');
    assert.deepEqual(body.grants, []);
    assert.deepEqual(body.groups, JSON.parse(me.body).groupEntityRefs);
    assert.deepEqual(body.ownershipRefs, JSON.parse(me.body).ownershipEntityRefs);
  });

  const badQueries: Array<{ name: string; query: string; status: number; message: RegExp }> = [
    {
      name: 'no user',
      query: 'permission=catalog.entity.read',
      status: 400,
      message: /Parameter user is required/,
    },
    {
      name: 'no permission',
      query: 'user=amara.okafor',
      status: 400,
      message: /Parameter permission is required/,
    },
    {
      name: 'a group as user',
      query: 'user=group:default/booking-team&permission=catalog.entity.read',
      status: 400,
      message: /'group:default\/booking-team' has kind 'group'/,
    },
    {
      name: 'a repeated user',
      query: 'user=a&user=b&permission=catalog.entity.read',
      status: 400,
      message: /Parameter user is given more than once/,
    },
    {
      name: 'an unknown permission',
      query: 'user=amara.okafor&permission=catalog.entity.delete',
      status: 400,
      message: /'catalog\.entity\.delete' is not a registered permission/,
    },
    {
      name: 'a resource for a basic permission',
      query: 'user=amara.okafor&permission=catalog.location.read&resourceRef=component:booking-web',
      status: 400,
      message: /resourceRef applies only to resource permissions/,
    },
    {
      name: 'an unknown user',
      query: 'user=mallory&permission=catalog.entity.read',
      status: 404,
      message: /User user:default\/mallory was not found in the catalog/,
    },
  ];
  for (const item of badQueries) {
    test(`explain rejects ${item.name}`, async () => {
      const client = await clientOf('sofia');

      const response = await client.request(`/api/permission/explain?${item.query}`);

      assert.equal(response.status, item.status);
      assert.match(JSON.parse(response.body).error.message, item.message);
    });
  }
});
