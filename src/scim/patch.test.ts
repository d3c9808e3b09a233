import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScimError } from './errors.js';
import {
  applyAttributeOperations,
  applyMemberChanges,
  parsePatchBody,
  splitGroupOperations,
} from './patch.js';
import { parseUserInput } from './resources.js';

const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

function operations(...items: unknown[]) {
  return parsePatchBody({ schemas: [PATCH_SCHEMA], Operations: items });
}

const user = () => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: 'u-1',
  userName: 'ada@example.com',
  name: { givenName: 'Ada', familyName: 'Byron' },
  emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
  active: true,
});

test('patch body reads Entra capitalised ops', () => {
  const parsed = operations(
    { op: 'Replace', path: 'active', value: 'False' },
    { OP: 'Add', Path: 'title', Value: 'Countess' },
    { op: 'Remove', path: 'nickName' },
  );
  assert.deepEqual(
    parsed.map((operation) => [operation.op, operation.path, operation.value]),
    [
      ['replace', 'active', 'False'],
      ['add', 'title', 'Countess'],
      ['remove', 'nickName', undefined],
    ],
  );
});

test('patch body rejects malformed operations', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ schemas: ['urn:other'], Operations: [] }, 'invalidSyntax', /schemas must contain/],
    [{ schemas: [PATCH_SCHEMA] }, 'invalidSyntax', /Operations is missing/],
    [{ Operations: [{ op: 'copy', path: 'x' }] }, 'invalidSyntax', /op "copy" is invalid/],
    [{ Operations: [{ op: 'remove' }] }, 'noTarget', /has no path/],
    [{ Operations: [{ op: 'add', path: 'title' }] }, 'invalidValue', /has no value/],
    [{ Operations: [{ op: 'replace', value: 'x' }] }, 'invalidValue', /must be an object/],
    [[], 'invalidSyntax', /JSON object/],
  ];
  for (const [body, scimType, message] of cases) {
    assert.throws(
      () => parsePatchBody(body),
      (error: unknown) =>
        error instanceof ScimError && error.scimType === scimType && message.test(error.message),
      JSON.stringify(body),
    );
  }
});

test('path-less replace applies dotted keys', () => {
  const patched = applyAttributeOperations(
    user(),
    operations({
      op: 'replace',
      value: { 'name.familyName': 'Lovelace', displayName: 'Ada Lovelace', active: false },
    }),
  );
  assert.deepEqual(patched.name, { givenName: 'Ada', familyName: 'Lovelace' });
  assert.equal(patched.displayName, 'Ada Lovelace');
  assert.equal(patched.active, false);
});

test('patch applies filtered and extension paths', () => {
  const patched = applyAttributeOperations(
    user(),
    operations(
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ada@lovelace.example' },
      { op: 'Add', path: `${ENTERPRISE}:department`, value: 'Analytics' },
      { op: 'add', path: 'NAME.GIVENNAME', value: 'Augusta Ada' },
      { op: 'remove', path: 'name.middleName' },
      { op: 'Remove', path: 'title' },
    ),
  );
  assert.deepEqual(patched.emails, [
    { value: 'ada@lovelace.example', type: 'work', primary: true },
  ]);
  assert.deepEqual(patched[ENTERPRISE], { department: 'Analytics' });
  assert.equal((patched.name as { givenName: string }).givenName, 'Augusta Ada');
});

test('patched "False" strings parse as booleans', () => {
  const patched = applyAttributeOperations(
    user(),
    operations(
      { op: 'Replace', path: 'active', value: 'False' },
      { op: 'Replace', path: 'emails[type eq "work"].primary', value: 'True' },
    ),
  );
  const input = parseUserInput(patched);
  assert.equal(input.active, false);
  assert.equal(input.attributes.emails?.[0]?.primary, true);
});

test('patch reports bad paths as invalidPath', () => {
  assert.throws(
    () =>
      applyAttributeOperations(
        user(),
        operations({ op: 'replace', path: 'emails[type', value: 'x' }),
      ),
    (error: unknown) =>
      error instanceof ScimError &&
      error.scimType === 'invalidPath' &&
      /Operations\[0\] \(replace emails\[type\)/.test(error.message),
  );
});

test('group operations split off member changes', () => {
  const { attributeOperations, memberChanges } = splitGroupOperations(
    operations(
      { op: 'add', path: 'members', value: [{ value: 'u-1', display: 'Ada' }, { value: 'u-2' }] },
      { op: 'remove', path: 'members[value eq "u-2"]' },
      { op: 'Remove', path: 'members', value: [{ value: 'u-3' }] },
      { op: 'replace', value: { displayName: 'Admins', members: [{ value: 'u-9' }] } },
      { op: 'remove', path: 'members[value eq "u-4" or value eq "u-5"]' },
      { op: 'remove', path: 'members' },
    ),
  );
  assert.deepEqual(memberChanges, [
    { kind: 'add', ids: ['u-1', 'u-2'] },
    { kind: 'remove', ids: ['u-2'] },
    { kind: 'remove', ids: ['u-3'] },
    { kind: 'replace', ids: ['u-9'] },
    { kind: 'remove', ids: ['u-4', 'u-5'] },
    { kind: 'removeAll' },
  ]);
  assert.deepEqual(
    attributeOperations.map((operation) => operation.value),
    [{ displayName: 'Admins' }],
  );
});

test('group operations reject other member paths', () => {
  assert.throws(
    () =>
      splitGroupOperations(
        operations({ op: 'replace', path: 'members[value eq "u-1"].display', value: 'x' }),
      ),
    (error: unknown) => error instanceof ScimError && error.scimType === 'invalidPath',
  );
  assert.throws(
    () =>
      splitGroupOperations(operations({ op: 'add', path: 'members', value: [{ display: 'x' }] })),
    (error: unknown) => error instanceof ScimError && error.scimType === 'invalidValue',
  );
});

test('member changes apply in order', () => {
  const result = applyMemberChanges(
    ['a', 'b'],
    [
      { kind: 'add', ids: ['c', 'a'] },
      { kind: 'remove', ids: ['b'] },
    ],
  );
  assert.deepEqual(result, ['a', 'c']);
  assert.deepEqual(applyMemberChanges(['a'], [{ kind: 'replace', ids: ['x', 'x', 'y'] }]), [
    'x',
    'y',
  ]);
  assert.deepEqual(applyMemberChanges(['a'], [{ kind: 'removeAll' }]), []);
});
