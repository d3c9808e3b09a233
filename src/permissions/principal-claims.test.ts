import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClaimsBuilder } from './principal-claims.js';
import type { Principal } from './types.js';

function principal(user: string, owning: string[] = []): Principal {
  return { userEntityRef: user, groupEntityRefs: owning, ownershipEntityRefs: [user, ...owning] };
}

test('claims hold the references in lowercase', () => {
  const claims = new ClaimsBuilder().claimsOf(
    principal('User:Default/Ada', ['group:default/Team-A', 'group:ops/x']),
  );

  assert.ok(claims);
  assert.equal(claims.userEntityRef, 'user:default/ada');
  for (const ref of ['user:default/ada', 'group:default/team-a', 'group:ops/x']) {
    assert.equal(claims.hasOwnershipRef(ref), true, ref);
  }
  for (const ref of ['User:Default/Ada', 'group:default/team-b', 'group:default/x', '']) {
    assert.equal(claims.hasOwnershipRef(ref), false, ref);
  }
});

test('the user reference is an ownership reference only when the principal lists it', () => {
  const claims = new ClaimsBuilder().claimsOf({
    userEntityRef: 'user:default/ada',
    groupEntityRefs: [],
    ownershipEntityRefs: ['group:default/team-a'],
  });

  assert.equal(claims?.hasOwnershipRef('user:default/ada'), false);
  assert.equal(claims?.hasOwnershipRef('group:default/team-a'), true);
});

test('principals with a reference that is not canonical get no claims', () => {
  const builder = new ClaimsBuilder();
  const refs = [
    'user:ada',
    'ada',
    'user:default/',
    ':default/ada',
    'user:default/ada/more',
    'user:default/-ada',
    'user:default/ada-',
    'user:def--ault/ada',
    'user:default/a b',
    'user:default/\u212Aate',
    'user:default/adá',
    `user:${'n'.repeat(64)}/ada`,
    `user:default/${'a'.repeat(64)}`,
    `${'k'.repeat(64)}:default/ada`,
    '1user:default/ada',
  ];
  for (const ref of refs) {
    assert.equal(builder.claimsOf(principal(ref)), undefined, `user ${ref}`);
    assert.equal(
      builder.claimsOf(principal('user:default/ada', [ref])),
      undefined,
      `ownership ${ref}`,
    );
  }
  for (const ref of [
    `user:${'n'.repeat(63)}/ada`,
    `user:default/${'a'.repeat(63)}`,
    'user:default/a',
    'user:default/a_b.c-d',
    'Component:my-ns/Orders.V2',
  ]) {
    assert.ok(builder.claimsOf(principal(ref)), ref);
  }
});
