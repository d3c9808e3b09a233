import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_SESSION_NAME_LENGTH,
  roleSessionNameOf,
  sessionTagsOf,
  sourceIdentityOf,
} from './aws-session-names.js';

const REQUEST_ID = '3f1c9a52-7d4e-4b8a-9c61-0e2f5a7b8c9d';
const STS_NAME = /^[A-Za-z0-9_+=,.@-]{2,64}$/;

describe('aws session names', () => {
  const sourceIdentityCases: Array<{ ref: string; expected: string }> = [
    { ref: 'user:default/ada', expected: 'ada' },
    { ref: 'user:ops/ada', expected: 'ops.ada' },
    { ref: 'user:default/grace hopper', expected: 'grace-hopper' },
    { ref: 'user:default/zoë', expected: 'zo-' },
    { ref: 'user:default/a', expected: 'a_' },
    { ref: `user:default/${'n'.repeat(80)}`, expected: 'n'.repeat(64) },
  ];
  for (const { ref, expected } of sourceIdentityCases) {
    test(`source identity of ${ref.slice(0, 30)}`, () => {
      const identity = sourceIdentityOf(ref);

      assert.equal(identity, expected);
      assert.match(identity, STS_NAME);
    });
  }

  test('session name keeps the whole request id', () => {
    const name = roleSessionNameOf(`user:default/${'n'.repeat(80)}`, REQUEST_ID);

    assert.equal(name.length, MAX_SESSION_NAME_LENGTH);
    assert.equal(name, `${'n'.repeat(27)}@${REQUEST_ID}`);
    assert.match(name, STS_NAME);
  });

  test('session name of a short user', () => {
    assert.equal(roleSessionNameOf('user:default/ada', REQUEST_ID), `ada@${REQUEST_ID}`);
  });

  test('team tag lists groups once, sorted', () => {
    const { tags, omittedTeams } = sessionTagsOf(
      {
        userEntityRef: 'user:default/ada',
        ownershipEntityRefs: ['user:default/ada', 'group:default/sre'],
        groupEntityRefs: ['group:default/sre', 'Group:default/Payments'],
      },
      REQUEST_ID,
    );

    assert.deepEqual(tags, [
      { Key: 'request-id', Value: REQUEST_ID },
      { Key: 'team', Value: 'payments:sre' },
    ]);
    assert.deepEqual(omittedTeams, []);
  });

  test('requester without groups gets no team tag', () => {
    const { tags } = sessionTagsOf(
      {
        userEntityRef: 'user:default/ada',
        ownershipEntityRefs: ['user:default/ada'],
        groupEntityRefs: [],
      },
      REQUEST_ID,
    );

    assert.deepEqual(tags, [{ Key: 'request-id', Value: REQUEST_ID }]);
  });

  test('team tag stays within 256 characters', () => {
    const groups = Array.from(
      { length: 12 },
      (_, index) => `group:default/team-${String(index).padStart(2, '0')}-${'x'.repeat(20)}`,
    );

    const { tags, omittedTeams } = sessionTagsOf(
      { userEntityRef: 'user:default/ada', ownershipEntityRefs: [], groupEntityRefs: groups },
      REQUEST_ID,
    );

    const team = tags.find((tag) => tag.Key === 'team')?.Value ?? '';
    assert.ok(team.length <= 256, `the team tag has ${team.length} characters`);
    assert.equal(team.split(':').length + omittedTeams.length, 12);
    // Each name has 28 characters, so 8 names and 7 separators fill 231 of the 256.
    assert.deepEqual(
      omittedTeams,
      ['08', '09', '10', '11'].map((number) => `team-${number}-${'x'.repeat(20)}`),
    );
  });
});
