import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EntityFilter } from './entity-filter.js';
import { MATCH_ALL, MATCH_NONE, normalizeFilter } from './filter-normalize.js';

const owned: EntityFilter = { key: 'relations.ownedBy', values: ['group:default/team-a'] };
const kinds = (...values: string[]): EntityFilter => ({ key: 'kind', values });

const CASES: Array<{ name: string; input: EntityFilter; expected: EntityFilter }> = [
  {
    name: 'kind branch that cannot match is dropped',
    input: { allOf: [kinds('component'), { anyOf: [owned, kinds('group', 'user')] }] },
    expected: { allOf: [kinds('component'), owned] },
  },
  {
    name: 'kind branch that always matches makes its anyOf true',
    input: { allOf: [kinds('component'), { anyOf: [owned, kinds('Component', 'api')] }] },
    expected: kinds('component'),
  },
  {
    name: 'partly overlapping kinds stay',
    input: { allOf: [kinds('component', 'api'), { anyOf: [owned, kinds('api')] }] },
    expected: { allOf: [kinds('component', 'api'), { anyOf: [owned, kinds('api')] }] },
  },
  {
    name: 'disjoint kinds in one allOf match nothing',
    input: { allOf: [kinds('component'), kinds('api'), owned] },
    expected: MATCH_NONE,
  },
  {
    name: 'kind context reaches through nested allOf',
    input: { allOf: [{ allOf: [kinds('component')] }, { anyOf: [kinds('group'), owned] }] },
    expected: { allOf: [kinds('component'), owned] },
  },
  {
    name: 'negated impossible kind is true',
    input: { allOf: [kinds('component'), { not: kinds('group') }] },
    expected: kinds('component'),
  },
  {
    name: 'negated certain kind is false',
    input: { allOf: [kinds('component'), { not: kinds('component') }] },
    expected: MATCH_NONE,
  },
  {
    name: 'kind conditions without context stay',
    input: { anyOf: [kinds('group'), owned] },
    expected: { anyOf: [kinds('group'), owned] },
  },
  {
    name: 'kind existence is not a kind set',
    input: { allOf: [kinds('component'), { key: 'kind' }] },
    expected: { allOf: [kinds('component'), { key: 'kind' }] },
  },
  {
    name: 'empty combinations fold',
    input: { anyOf: [{ allOf: [] }, owned] },
    expected: MATCH_ALL,
  },
];

for (const item of CASES) {
  test(`normalize: ${item.name}`, () => {
    assert.deepEqual(normalizeFilter(item.input), item.expected);
  });
}
