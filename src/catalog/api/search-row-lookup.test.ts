import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import {
  createSeededRandom,
  type SeededRandom,
  seedFromEnvironment,
} from '../../../test/support/seeded-random.js';
import { buildSearchEntries } from './search-entries.js';
import { hasSearchRow } from './search-row-lookup.js';

/** Returns what buildSearchEntries contains for the key, and for each of the values. */
function expectedAnswers(entity: Entity, key: string, values: readonly string[]) {
  const entries = buildSearchEntries(entity).filter((entry) => entry.key === key);
  return {
    any: entries.length > 0,
    byValue: values.map((value) => entries.some((entry) => entry.value === value)),
  };
}

/** Asserts that hasSearchRow agrees with buildSearchEntries on the key, with and without each value. */
function assertAgrees(entity: Entity, key: string, values: readonly string[], context: string) {
  const expected = expectedAnswers(entity, key, values);
  assert.equal(hasSearchRow(entity, key, undefined), expected.any, `${context}: key '${key}'`);
  values.forEach((value, index) => {
    assert.equal(
      hasSearchRow(entity, key, value),
      expected.byValue[index],
      `${context}: key '${key}' with value '${value}'`,
    );
  });
}

/** Adds the lowercase dotted path of every node, including those the search walk skips. */
function collectPaths(value: unknown, path: string, paths: Set<string>): void {
  if (path !== '') {
    paths.add(path.toLowerCase());
  }
  if (value === null || typeof value !== 'object') {
    return;
  }
  for (const [name, item] of Object.entries(value)) {
    // Array items share their array's path, as in the search walk.
    let childPath = path;
    if (!Array.isArray(value)) {
      childPath = path === '' ? name : `${path}.${name}`;
    }
    collectPaths(item, childPath, paths);
  }
}

/** Lists the keys and values to look up: those of the entity's rows and paths, lowercase, plus near misses. */
function questionsOf(entity: Entity): { keys: string[]; values: string[] } {
  const entries = buildSearchEntries(entity);
  const keys = new Set<string>();
  collectPaths(entity, '', keys);
  const values = new Set<string>(['true', 'false', '1', 'default']);
  for (const entry of entries) {
    keys.add(entry.key);
    keys.add(`${entry.key}.x`);
    keys.add(entry.key.slice(0, -1));
    if (entry.value !== null) {
      values.add(entry.value);
      values.add(`${entry.value}x`);
    }
  }
  return { keys: [...keys], values: [...values] };
}

const base = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'orders', namespace: 'default' },
};

const cases: Array<{ name: string; entity: Entity; keys: string[]; values: string[] }> = [
  {
    name: 'scalars, arrays and string items',
    entity: {
      ...base,
      metadata: { ...base.metadata, tags: ['Java', 'java', 'a.b'], labels: { Tier: 'Gold' } },
      spec: { type: 'service', replicas: 3, public: false, owner: null, Zone: 'EU-Z', at: '@[`{' },
    } as Entity,
    keys: [
      'metadata.tags',
      'metadata.tags.java',
      'metadata.tags.a.b',
      'metadata.tags.a',
      'metadata.labels.tier',
      'spec.replicas',
      'spec.public',
      'spec.owner',
      'spec.zone',
      'spec.at',
      'spec',
    ],
    values: ['java', 'a.b', 'true', 'gold', '3', 'false', 'eu-z', '@[`{'],
  },
  {
    name: 'nested arrays and objects inside arrays',
    entity: {
      ...base,
      spec: {
        ports: [[80, 443], [{ Name: 'http', protocol: 'TCP' }], 'Admin'],
        empty: [],
        deep: { a: { b: { c: 'D' } } },
      },
    } as unknown as Entity,
    keys: [
      'spec.ports',
      'spec.ports.name',
      'spec.ports.protocol',
      'spec.ports.admin',
      'spec.empty',
      'spec.deep.a.b.c',
      'spec.deep.a',
    ],
    values: ['80', '443', 'http', 'tcp', 'admin', 'true', 'd'],
  },
  {
    name: 'keys with dots and paths that differ only in case',
    entity: {
      ...base,
      metadata: {
        ...base.metadata,
        annotations: { 'backstage.io/techdocs-ref': 'dir:.', 'Example.COM/Team': 'A' },
      },
      spec: { 'a.b': 'first', a: { b: 'second' }, Lifecycle: 'Production' },
    } as unknown as Entity,
    keys: [
      'metadata.annotations.backstage.io/techdocs-ref',
      'metadata.annotations.example.com/team',
      'spec.a.b',
      'spec.lifecycle',
    ],
    values: ['dir:.', 'a', 'first', 'second', 'production'],
  },
  {
    name: 'paths the walk skips and the rows it adds last',
    entity: {
      ...base,
      metadata: { name: 'Orders', uid: 'U-1', etag: 'e1', Name: 'other' },
      relations: [{ type: 'ownedBy', targetRef: 'group:default/a' }],
      status: { items: [{ level: 'error' }], phase: 'ready' },
      attachments: 'x',
      Relations: 'kept',
    } as unknown as Entity,
    keys: [
      'metadata.name',
      'metadata.namespace',
      'metadata.uid',
      'metadata.etag',
      'relations',
      'relations.type',
      'status.items.level',
      'status.phase',
      'attachments',
    ],
    values: ['orders', 'other', 'default', 'u-1', 'e1', 'kept', 'x', 'error', 'ready'],
  },
  {
    name: 'an entity without uid or namespace',
    entity: { apiVersion: 'v1', kind: 'Group', metadata: { name: 'team-a' } } as Entity,
    keys: ['metadata.uid', 'metadata.namespace', 'kind', 'apiversion'],
    values: ['default', 'group', 'v1'],
  },
  {
    // 'metadata.annotations.' has 21 characters, so these keys have 200 and 201.
    name: 'keys and values at the length limits',
    entity: {
      ...base,
      metadata: {
        ...base.metadata,
        annotations: {
          ['k'.repeat(179)]: 'short',
          ['K'.repeat(180)]: 'short',
          long: 'v'.repeat(201),
          edge: 'w'.repeat(200),
        },
      },
    } as unknown as Entity,
    keys: [
      `metadata.annotations.${'k'.repeat(179)}`,
      `metadata.annotations.${'k'.repeat(180)}`,
      'metadata.annotations.long',
      'metadata.annotations.edge',
    ],
    values: ['short', 'v'.repeat(201), 'w'.repeat(200)],
  },
  {
    // The walk reads own fields only, as Object.keys does.
    name: 'fields inherited from a prototype',
    entity: {
      ...base,
      spec: Object.assign(Object.create({ inherited: 'x' }), { own: 'y' }),
    } as unknown as Entity,
    keys: ['spec.inherited', 'spec.own'],
    values: ['x', 'y'],
  },
  {
    name: 'text outside ASCII',
    entity: {
      ...base,
      metadata: { ...base.metadata, tags: ['ΟΔΟΣ', 'Straße', 'İstanbul'] },
      spec: { ΟΔΟΣ: 'ΣΑΣ', naïve: 'Café', İ: 'x', K: 'kelvin' },
    } as unknown as Entity,
    keys: [
      'metadata.tags',
      'metadata.tags.οδος',
      'metadata.tags.οδοσ',
      'metadata.tags.straße',
      'metadata.tags.i̇stanbul',
      'spec.οδος',
      'spec.οδοσ',
      'spec.naïve',
      'spec.i̇',
      'spec.k',
    ],
    values: ['οδος', 'οδοσ', 'σας', 'σασ', 'café', 'i̇stanbul', 'straße', 'x', 'kelvin'],
  },
];

describe('hasSearchRow', () => {
  for (const item of cases) {
    test(`agrees with buildSearchEntries: ${item.name}`, () => {
      const questions = questionsOf(item.entity);
      for (const key of [...item.keys, ...questions.keys]) {
        assertAgrees(item.entity, key, [...item.values, ...questions.values], item.name);
      }
    });
  }

  test('finds no row for a key longer than the search table stores', () => {
    const name = 'k'.repeat(180);
    const entity = {
      ...base,
      metadata: { ...base.metadata, annotations: { [name]: 'v' } },
    } as unknown as Entity;

    assert.equal(hasSearchRow(entity, `metadata.annotations.${name}`, undefined), false);
  });
});

const SEED_VARIABLE = 'SEARCH_ROW_SEED';
const SEED = seedFromEnvironment(SEED_VARIABLE, 20_261_205);
const GENERATED_ENTITIES = 300;

const NAMES = [
  'a',
  'A',
  'Z',
  'z',
  'b',
  'a.b',
  'Tier',
  'tier',
  'name',
  'uid',
  'status',
  'ΟΣ',
  'ß',
  'İ',
];
const TEXTS = [
  'x',
  'X',
  'Z',
  'z',
  '@',
  '[',
  'a.b',
  'Tier',
  'ΟΣ',
  'ς',
  'straße',
  '',
  'y'.repeat(201),
];

function generateValue(random: SeededRandom, depth: number): unknown {
  const draw = random.int(depth > 2 ? 4 : 7);
  switch (draw) {
    case 0:
      return random.pick(TEXTS);
    case 1:
      return random.int(3);
    case 2:
      return random.chance(0.5);
    case 3:
      return null;
    case 4:
    case 5: {
      const record: Record<string, unknown> = {};
      for (const name of random.sample(NAMES, 4)) {
        record[name] = generateValue(random, depth + 1);
      }
      return record;
    }
    default:
      return Array.from({ length: random.int(4) }, () => generateValue(random, depth + 1));
  }
}

function generateEntity(random: SeededRandom): Entity {
  const metadata: Record<string, unknown> = { name: random.pick(['orders', 'Orders', 'ΟΣ']) };
  if (random.chance(0.5)) metadata.namespace = random.pick(['default', 'Ops']);
  if (random.chance(0.5)) metadata.uid = random.pick(['U-1', 'u-2']);
  for (const name of random.sample(['tags', 'labels', 'annotations', 'Name', 'etag'], 3)) {
    metadata[name] = generateValue(random, 1);
  }
  const entity: Record<string, unknown> = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: random.pick(['Component', 'API']),
    metadata,
    spec: generateValue(random, 0),
  };
  for (const name of random.sample(['relations', 'status', 'Relations', 'attachments'], 2)) {
    entity[name] = generateValue(random, 1);
  }
  return entity as unknown as Entity;
}

test('hasSearchRow agrees with buildSearchEntries on generated entities', () => {
  const random = createSeededRandom(SEED);
  for (let index = 0; index < GENERATED_ENTITIES; index++) {
    const entity = generateEntity(random);
    const questions = questionsOf(entity);
    for (const key of questions.keys) {
      assertAgrees(
        entity,
        key,
        questions.values,
        `seed ${SEED} (replay with ${SEED_VARIABLE}=${SEED}), entity ${index}`,
      );
    }
  }
});
