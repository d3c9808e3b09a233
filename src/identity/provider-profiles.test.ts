import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describeEachDialect } from '../../test/support/databases.js';
import { HttpClient } from '../../test/support/http-client.js';
import {
  logEntries,
  type ProviderPortal,
  startProviderPortal,
} from '../../test/support/oidc-portal.js';
import { OKTA_GROUP_ID_ANNOTATION } from './provider-profiles.js';

const SRE_ENTRA_ID = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b';
const UNKNOWN_ENTRA_ID = '11111111-2222-4333-8444-555555555555';

interface Profile {
  /** The user's groups after sign-in, with ancestors. */
  groupEntityRefs: string[];
  ownershipEntityRefs: string[];
}

/** Signs in through the portal and the test provider as `account`; returns the profile. */
async function signIn(
  started: ProviderPortal,
  account: string,
): Promise<{ client: HttpClient; profile: Profile }> {
  const client = new HttpClient(started.portal.url);
  started.provider.signInAs(account);
  const { chain } = await client.follow('/api/auth/login');
  const callback = chain.find((hop) => hop.url.includes('/api/auth/callback'));
  assert.equal(
    callback?.status,
    303,
    `sign-in callback answered ${callback?.status}: ${callback?.body.slice(0, 300)}`,
  );

  const me = await client.request('/api/auth/me');
  assert.equal(me.status, 200, me.body);
  return { client, profile: JSON.parse(me.body) as Profile };
}

function unmatchedLogs(started: ProviderPortal): Array<Record<string, unknown>> {
  return logEntries(started.logLines, 'groups claim values match no Group entity');
}

describeEachDialect('identity provider profiles', (context) => {
  describe('Okta: groups claim with names', () => {
    let started: ProviderPortal;
    before(async () => {
      started = await startProviderPortal({
        dialect: context.dialect,
        provider: {
          accounts: {
            '00u1ada0Xy7': {
              email: 'ada@example.com',
              email_verified: true,
              name: 'Ada Lovelace',
              preferred_username: 'ada@example.com',
              groups: ['contractors', 'platform'],
            },
          },
          extraScopes: { groups: ['groups'] },
        },
        oidc: { profile: 'okta', scopes: ['openid', 'profile', 'email', 'groups'] },
      });
    });
    after(async () => {
      await started?.close();
    });

    test('maps group names to Groups', async () => {
      const { profile } = await signIn(started, '00u1ada0Xy7');

      assert.deepEqual(profile.groupEntityRefs, [
        'group:default/everyone',
        'group:default/platform',
        'group:default/team-a',
      ]);
    });

    test('logs an unmatched name once per sign-in', async () => {
      const before = unmatchedLogs(started).length;

      const { client } = await signIn(started, '00u1ada0Xy7');
      await client.request('/api/auth/me');
      await client.request('/api/auth/me');

      const added = unmatchedLogs(started).slice(before);
      assert.equal(added.length, 1);
      assert.deepEqual(added[0]?.groups, ['contractors']);
    });
  });

  describe('Okta: group ids through an annotation rule', () => {
    let started: ProviderPortal;
    before(async () => {
      started = await startProviderPortal({
        dialect: context.dialect,
        provider: {
          accounts: {
            '00u1ada0Xy7': {
              email: 'ada@example.com',
              name: 'Ada Lovelace',
              groups: ['00g1platform0Ab7x2', '00g9unknown000000'],
            },
          },
        },
        oidc: {
          profile: 'okta',
          groupMapping: [
            { match: 'annotation', annotation: OKTA_GROUP_ID_ANNOTATION },
            { match: 'name' },
          ],
        },
      });
    });
    after(async () => {
      await started?.close();
    });

    test('maps group ids to the annotated Group', async () => {
      const { profile } = await signIn(started, '00u1ada0Xy7');

      assert.ok(profile.groupEntityRefs.includes('group:default/platform'));
      assert.deepEqual(unmatchedLogs(started).at(-1)?.groups, ['00g9unknown000000']);
    });
  });

  describe('Auth0: groups in a namespaced claim', () => {
    let started: ProviderPortal;
    before(async () => {
      started = await startProviderPortal({
        dialect: context.dialect,
        provider: {
          accounts: {
            'auth0|64f1c0ffee': {
              email: 'grace@example.com',
              email_verified: true,
              name: 'Grace Hopper',
              nickname: 'grace',
              'https://example.com/groups': ['admins'],
              // A claim of the same name without the namespace must not count.
              groups: ['platform'],
            },
          },
        },
        oidc: { profile: 'auth0', groupsClaim: 'https://example.com/groups' },
      });
    });
    after(async () => {
      await started?.close();
    });

    test('reads groups from the configured claim', async () => {
      const { profile } = await signIn(started, 'auth0|64f1c0ffee');

      assert.deepEqual(profile.groupEntityRefs, ['group:default/admins', 'group:default/everyone']);
      assert.deepEqual(profile.ownershipEntityRefs, [
        'user:default/grace',
        'group:default/admins',
        'group:default/everyone',
      ]);
    });
  });

  describe('Keycloak: group paths', () => {
    let started: ProviderPortal;
    before(async () => {
      started = await startProviderPortal({
        dialect: context.dialect,
        provider: {
          accounts: {
            'c0a8f9e2-1d3b-4c5a-9e7f-0a1b2c3d4e5f': {
              email: 'grace@example.com',
              email_verified: true,
              name: 'Grace Hopper',
              preferred_username: 'grace',
              groups: ['/platform/sre', 'admins', '/platform/no-such-team'],
            },
          },
        },
        oidc: { profile: 'keycloak' },
      });
    });
    after(async () => {
      await started?.close();
    });

    test('maps a path through the template', async () => {
      const { profile } = await signIn(started, 'c0a8f9e2-1d3b-4c5a-9e7f-0a1b2c3d4e5f');

      assert.deepEqual(profile.groupEntityRefs, [
        'group:default/admins',
        'group:default/everyone',
        'group:default/platform',
        'group:default/platform-sre',
      ]);
      assert.deepEqual(unmatchedLogs(started).at(-1)?.groups, ['/platform/no-such-team']);
    });
  });

  describe('Entra ID: group object ids', () => {
    let started: ProviderPortal;
    before(async () => {
      started = await startProviderPortal({
        dialect: context.dialect,
        provider: {
          accounts: {
            'pairwise-Xq3ZlmF0aUnT': {
              oid: 'a4c6e8f0-1b3d-4f5a-8c7e-9d0b2a4c6e8f',
              tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
              name: 'Grace Hopper',
              preferred_username: 'grace@example.com',
              email: 'grace@example.com',
              groups: [SRE_ENTRA_ID, UNKNOWN_ENTRA_ID],
            },
            'pairwise-Overage00001': {
              oid: '0e2c4a6b-8d0f-4b1d-9e3f-5a7c9e1b3d5f',
              tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
              name: 'Ada Lovelace',
              preferred_username: 'ada@example.com',
              email: 'ada@example.com',
              _claim_names: { groups: 'src1' },
              _claim_sources: {
                src1: {
                  endpoint:
                    'https://graph.microsoft.com/v1.0/users/0e2c4a6b-8d0f-4b1d-9e3f-5a7c9e1b3d5f/getMemberObjects',
                },
              },
            },
          },
        },
        oidc: { profile: 'entra' },
      });
    });
    after(async () => {
      await started?.close();
    });

    test('maps object ids through the Graph annotation', async () => {
      const { profile } = await signIn(started, 'pairwise-Xq3ZlmF0aUnT');

      assert.deepEqual(profile.groupEntityRefs, [
        'group:default/everyone',
        'group:default/platform',
        'group:default/platform-sre',
      ]);
      assert.deepEqual(unmatchedLogs(started).at(-1)?.groups, [UNKNOWN_ENTRA_ID]);
    });

    test('overage signs in with catalog groups', async () => {
      const before = logEntries(started.logLines, 'groups overage').length;

      const { profile } = await signIn(started, 'pairwise-Overage00001');

      assert.deepEqual(profile.groupEntityRefs, ['group:default/everyone', 'group:default/team-a']);
      const warnings = logEntries(started.logLines, 'groups overage').slice(before);
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]?.user, 'user:default/ada');
      assert.match(String(warnings[0]?.msg), /SCIM/);
    });
  });
});
