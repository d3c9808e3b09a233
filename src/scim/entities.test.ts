import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  fallbackEntityName,
  groupEntity,
  profileEmail,
  toEntityName,
  userEntity,
} from './entities.js';

test('entity name derives from the SCIM name', () => {
  const cases: Array<[string, string]> = [
    ['Ada.Lovelace@example.com', 'ada.lovelace_example.com'],
    ['Platform Admins', 'platform_admins'],
    ['  --Team  (EMEA)--  ', 'team_emea'],
    ['Jürgen Müller', 'jurgen_muller'],
    ['a'.repeat(70), 'a'.repeat(63)],
    [`${'b'.repeat(62)}.x`, 'b'.repeat(62)],
  ];
  for (const [value, expected] of cases) {
    assert.equal(toEntityName(value, 'fallback'), expected, value);
  }
});

test('entity name falls back without usable characters', () => {
  assert.equal(toEntityName('日本', 'user-1234'), 'user-1234');
  assert.equal(fallbackEntityName('group', '0F3A-99b2-77cc-1234'), 'group-0f3a99b277cc');
});

test('profile email prefers the primary email', () => {
  const base = {
    id: '1',
    userName: 'ada',
    externalId: undefined,
    displayName: undefined,
    entityName: 'ada',
  };
  const emails = [
    { value: 'home@example.com', type: 'home' },
    { value: 'work@example.com', type: 'work', primary: true },
  ];
  assert.equal(profileEmail({ ...base, attributes: { emails } }), 'work@example.com');
  assert.equal(
    profileEmail({ ...base, attributes: { emails: emails.slice(0, 1) } }),
    'home@example.com',
  );
  assert.equal(
    profileEmail({ ...base, userName: 'ada@example.com', attributes: {} }),
    'ada@example.com',
  );
  assert.equal(profileEmail({ ...base, attributes: {} }), undefined);
});

test('user entity carries the SCIM ids', () => {
  const { entity, source } = userEntity({
    id: 'u-1',
    userName: 'ada@example.com',
    externalId: '00u1',
    displayName: undefined,
    entityName: 'ada_example.com',
    attributes: { name: { givenName: 'Ada', familyName: 'Lovelace' } },
  });
  assert.equal(source, '/scim/v2/Users/u-1');
  assert.deepEqual(entity, {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name: 'ada_example.com',
      annotations: {
        'backstage-luigi.io/scim-id': 'u-1',
        'backstage-luigi.io/scim-external-id': '00u1',
      },
    },
    spec: { profile: { displayName: 'Ada Lovelace', email: 'ada@example.com' }, memberOf: [] },
  });
});

test('group entity lists members and children', () => {
  const { entity } = groupEntity(
    {
      id: 'g-1',
      displayName: 'Platform',
      externalId: 'object-1',
      entityName: 'platform',
      memberUserNames: ['bob', 'ada'],
      childGroupNames: ['sre'],
    },
    { groupType: 'team', groupExternalIdAnnotation: 'graph.microsoft.com/group-id' },
  );
  assert.deepEqual(entity.spec, {
    type: 'team',
    profile: { displayName: 'Platform' },
    children: ['group:default/sre'],
    members: ['user:default/ada', 'user:default/bob'],
  });
  assert.equal(entity.metadata.annotations?.['graph.microsoft.com/group-id'], 'object-1');
});
