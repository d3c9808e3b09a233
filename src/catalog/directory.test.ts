import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type SeedMethod, seedIdentityCatalog } from '../../test/fixtures/identity/seed-catalog.js';
import { describeEachDialect } from '../../test/support/databases.js';
import type { CatalogDirectory } from './catalog.js';
import { createCatalogDirectory } from './directory.js';

describeEachDialect('catalog directory', (context) => {
  let directory: CatalogDirectory;
  let seedMethod: SeedMethod;

  before(async () => {
    seedMethod = await seedIdentityCatalog(context.handle());
    directory = createCatalogDirectory(context.handle());
  });

  test('finds a user by email ignoring case', async (t) => {
    t.diagnostic(`fixture organisation stored by ${seedMethod}`);
    assert.equal(await directory.findUserRefByEmail('ADA@example.COM'), 'user:default/ada');
    assert.equal(await directory.findUserRefByEmail(' ada@example.com '), 'user:default/ada');
  });

  test('finds no user for an unknown or empty email', async () => {
    assert.equal(await directory.findUserRefByEmail('nobody@example.com'), undefined);
    assert.equal(await directory.findUserRefByEmail(''), undefined);
  });

  test('finds a user by name in the default namespace', async () => {
    assert.equal(await directory.findUserRefByName('Bob'), 'user:default/bob');
  });

  test('finds no user by a missing name or a reference', async () => {
    assert.equal(await directory.findUserRefByName('mallory'), undefined);
    assert.equal(await directory.findUserRefByName('default/bob'), undefined);
    assert.equal(await directory.findUserRefByName('team-a'), undefined);
  });

  test('finds a user by reference ignoring case', async () => {
    assert.equal(await directory.findUserRef('user:default/Ada'), 'user:default/ada');
  });

  test('finds no user for another kind or a missing user', async () => {
    assert.equal(await directory.findUserRef('group:default/team-a'), undefined);
    assert.equal(await directory.findUserRef('user:default/mallory'), undefined);
  });

  test('finds a group by reference ignoring case', async () => {
    assert.equal(await directory.findGroupRef('group:default/Team-A'), 'group:default/team-a');
  });

  test('finds no group for another kind or a missing group', async () => {
    assert.equal(await directory.findGroupRef('user:default/ada'), undefined);
    assert.equal(await directory.findGroupRef('group:default/no-such-group'), undefined);
  });

  test('reads memberships declared by the user', async () => {
    assert.deepEqual(await directory.getDirectGroupRefs('user:default/ada'), [
      'group:default/team-a',
    ]);
  });

  test('reads memberships declared by the group', async () => {
    // Case C5: team-b lists carol in spec.members; carol's own memberOf is empty.
    assert.deepEqual(await directory.getDirectGroupRefs('user:default/carol'), [
      'group:default/team-b',
    ]);
  });

  test('expands group ancestors transitively', async () => {
    const result = await directory.expandGroupAncestors(['group:default/team-a']);

    assert.deepEqual(result.groupRefs, [
      'group:default/company',
      'group:default/engineering',
      'group:default/team-a',
    ]);
    assert.deepEqual(result.cycles, []);
  });

  test('stops at a group cycle and reports it', async () => {
    const result = await directory.expandGroupAncestors(['group:default/loop-a']);

    assert.deepEqual(result.groupRefs, ['group:default/loop-a', 'group:default/loop-b']);
    assert.deepEqual(result.cycles, [['group:default/loop-a', 'group:default/loop-b']]);
  });

  test('expands nothing for no groups', async () => {
    assert.deepEqual(await directory.expandGroupAncestors([]), { groupRefs: [], cycles: [] });
  });
});
