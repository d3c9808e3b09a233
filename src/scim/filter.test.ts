import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScimError } from './errors.js';
import { parseListFilter } from './filter.js';

test('filter reads eq comparisons', () => {
  const cases: Array<[string, 'User' | 'Group', string, string]> = [
    ['userName eq "ada@example.com"', 'User', 'userName', 'ada@example.com'],
    ['USERNAME EQ "ada"', 'User', 'userName', 'ada'],
    ['externalId eq "00u1"', 'User', 'externalId', '00u1'],
    ['displayName eq "Ada \\"the\\" Countess"', 'User', 'displayName', 'Ada "the" Countess'],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ada"', 'User', 'userName', 'ada'],
    ['  displayName eq "Platform Admins"  ', 'Group', 'displayName', 'Platform Admins'],
    ['id eq "0c1d"', 'Group', 'id', '0c1d'],
  ];
  for (const [filter, resourceType, attribute, value] of cases) {
    assert.deepEqual(parseListFilter(filter, resourceType), { attribute, value }, filter);
  }
});

test('filter rejects what it does not evaluate', () => {
  const cases: Array<[string, 'User' | 'Group', RegExp]> = [
    ['userName sw "ada"', 'User', /operator "sw" is not supported/],
    ['userName like "ada"', 'User', /not a SCIM operator/],
    ['userName eq "a" or userName eq "b"', 'User', /combines conditions/],
    ['emails[type eq "work"]', 'User', /combines conditions/],
    ['title eq "Engineer"', 'User', /Filtering Users on "title" is not supported/],
    ['userName eq "ada"', 'Group', /Filtering Groups on "userName"/],
    ['userName eq 5', 'User', /quote the value/],
    ['userName eq "\\x"', 'User', /not a valid JSON string/],
    ['userName', 'User', /not a valid SCIM filter/],
    ['', 'User', /not a valid SCIM filter/],
  ];
  for (const [filter, resourceType, message] of cases) {
    assert.throws(
      () => parseListFilter(filter, resourceType),
      (error: unknown) =>
        error instanceof ScimError &&
        error.status === 400 &&
        error.scimType === 'invalidFilter' &&
        message.test(error.message),
      filter,
    );
  }
});
