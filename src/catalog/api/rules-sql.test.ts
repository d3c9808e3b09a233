import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { stringify } from 'yaml';
import { seedCatalogFiles } from '../../../test/support/catalog-seed.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import {
  type ConditionCriteria,
  evaluateCriteria,
  PermissionRegistry,
} from '../../permissions/index.js';
import type { CursorPosition } from './cursor.js';
import { allOfFilters } from './entity-filter.js';
import { countEntities, listEntityRefs, loadRelations } from './entity-queries.js';
import { countFacets } from './facets.js';
import { CATALOG_ENTITY_RESOURCE_TYPE, catalogPermissions } from './permissions.js';
import { fetchQueryPage, type PageRow } from './query-page.js';
import { detectBytewiseText, type QueryContext } from './query-plan.js';
import { criteriaToEntityFilter } from './read-access.js';
import { catalogPermissionRules } from './rules.js';
import { buildSearchEntries } from './search-entries.js';

/**
 * Property test: for generated entities and generated criteria, the rules'
 * in-memory `apply` and the SQL built from their `toQuery` select the same
 * entities. The entities go through the real ingestion, so the search and
 * relation rows are the ones the product writes.
 */

function positionOf(row: PageRow): CursorPosition {
  return { value: row.value, ref: row.ref, id: row.id };
}

/** Mulberry32: a small seeded generator, so every run generates the same cases. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (probability: number) => next() < probability;
  const some = <T>(items: readonly T[], max: number): T[] =>
    Array.from({ length: Math.floor(next() * (max + 1)) }, () => pick(items));
  return { next, pick, chance, some };
}

type Random = ReturnType<typeof createRandom>;

const LONG_VALUE = `long-${'x'.repeat(240)}`;
const LONG_KEY = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.example.com/very-long-annotation-name`;
const OWNERS = ['team-a', 'Team-B', 'group:default/team-c', 'user:default/ada', 'group:ops/Team-D'];
const CLAIMS = [
  'group:default/team-a',
  'GROUP:default/TEAM-B',
  'group:default/team-c',
  'user:default/Ada',
  'group:ops/team-d',
  'group:default/nobody',
];
const ANNOTATION_KEYS = [
  'example.com/Team',
  'example.com/cost-center',
  'backstage.io/techdocs-ref',
  LONG_KEY,
];
const ANNOTATION_VALUES = ['alpha', 'Alpha', 'dir:.', LONG_VALUE, ''];
const LABEL_KEYS = ['tier', 'example.com/Region'];
const LABEL_VALUES = ['gold', 'Gold', 'eu-west', 'x'];
const TAGS = ['java', 'go', 'react', 'backend'];
const LIFECYCLES = ['production', 'Experimental', 'deprecated'];
const TYPES = ['service', 'Website', 'library', 'openapi', 'database', 'team'];
const KINDS = ['Component', 'API', 'Resource', 'System', 'Domain', 'Group', 'User'];

function generateEntity(random: Random, index: number): Entity {
  const kind = random.pick(KINDS);
  const metadata: Entity['metadata'] = {
    name: `${random.pick(['svc', 'Item', 'node'])}-${index}`,
    ...(random.chance(0.3) ? { namespace: random.pick(['default', 'ops']) } : {}),
    ...(random.chance(0.5)
      ? { description: random.pick(['Takes orders', 'Alpha', LONG_VALUE]) }
      : {}),
    ...(random.chance(0.3) ? { title: random.pick(['Alpha', 'Order Service']) } : {}),
    ...(random.chance(0.5) ? { tags: [...new Set(random.some(TAGS, 3))] } : {}),
  };
  const annotations = Object.fromEntries(
    random.some(ANNOTATION_KEYS, 2).map((key) => [key, random.pick(ANNOTATION_VALUES)]),
  );
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  const labels = Object.fromEntries(
    random.some(LABEL_KEYS, 2).map((key) => [key, random.pick(LABEL_VALUES)]),
  );
  if (Object.keys(labels).length > 0) metadata.labels = labels;

  const owner = random.pick(OWNERS);
  const specs: Record<string, Record<string, unknown>> = {
    Component: { type: random.pick(TYPES), lifecycle: random.pick(LIFECYCLES), owner },
    API: {
      type: random.pick(TYPES),
      lifecycle: random.pick(LIFECYCLES),
      owner,
      definition: random.pick(['openapi: 3.0.0', LONG_VALUE]),
    },
    Resource: { type: random.pick(TYPES), owner },
    System: { owner },
    Domain: { owner },
    Group: { type: random.pick(TYPES), children: [] },
    User: {
      memberOf: random.some(['team-a', 'Team-B'], 2),
      ...(random.chance(0.5) ? { profile: { email: `User-${index}@Example.com` } } : {}),
    },
  };
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind,
    metadata,
    spec: specs[kind] as Entity['spec'],
  };
}

function generateLeaf(random: Random): ConditionCriteria {
  const withValue = (values: readonly string[]) =>
    random.chance(0.5) ? { value: random.pick(values) } : {};
  switch (random.pick(['owner', 'kind', 'kind', 'annotation', 'label', 'metadata', 'spec'])) {
    case 'owner':
      return { rule: 'IS_ENTITY_OWNER', params: { claims: random.some(CLAIMS, 3) } };
    case 'kind':
      return {
        rule: 'IS_ENTITY_KIND',
        params: {
          kinds: random.some([...KINDS, 'component', 'GROUP', 'Template'], 3),
        },
      };
    case 'annotation':
      return {
        rule: 'HAS_ANNOTATION',
        params: {
          annotation: random.pick([...ANNOTATION_KEYS, 'EXAMPLE.COM/team', 'example.com/missing']),
          ...withValue(ANNOTATION_VALUES),
        },
      };
    case 'label':
      return {
        rule: 'HAS_LABEL',
        params: { label: random.pick([...LABEL_KEYS, 'TIER', 'example.com/missing']) },
      };
    case 'metadata':
      return {
        rule: 'HAS_METADATA',
        params: {
          key: random.pick(['name', 'namespace', 'description', 'title', 'tags', 'labels.tier']),
          ...withValue(['alpha', 'ops', 'default', 'java', 'Order Service', LONG_VALUE, 'gold']),
        },
      };
    default:
      return {
        rule: 'HAS_SPEC',
        params: {
          key: random.pick([
            'lifecycle',
            'type',
            'owner',
            'profile.email',
            'memberOf',
            'definition',
          ]),
          ...withValue([
            'production',
            'EXPERIMENTAL',
            'service',
            'team-a',
            'Team-B',
            'user-3@example.com',
            LONG_VALUE,
          ]),
        },
      };
  }
}

function generateCriteria(random: Random, depth: number): ConditionCriteria {
  if (depth === 0 || random.chance(0.35)) {
    return generateLeaf(random);
  }
  const children = () =>
    Array.from({ length: 1 + Math.floor(random.next() * 3) }, () =>
      generateCriteria(random, depth - 1),
    );
  switch (random.pick(['allOf', 'anyOf', 'not'])) {
    case 'allOf':
      return { allOf: children() };
    case 'anyOf':
      return { anyOf: children() };
    default:
      return { not: generateCriteria(random, depth - 1) };
  }
}

const SORT_FIELDS = ['metadata.name', 'metadata.title', 'spec.lifecycle', 'metadata.tags'];

/**
 * Sorts references as by-query promises to: by the smallest value of the
 * field, entities without one last, ties and the rest by reference, all in
 * the sort direction.
 */
/**
 * Sorts references as a by-query listing does: by the sort value, equal
 * values by entity id, and entities without a value last, by reference.
 */
function sortBy(
  refs: readonly string[],
  sortValue: (ref: string) => string | null,
  idOf: (ref: string) => number,
  sort: { field: string; order: 'asc' | 'desc' } | undefined,
): string[] {
  const compare = (a: string, b: string) => {
    if (a === b) return 0;
    return a < b ? -1 : 1;
  };
  const direction = sort?.order === 'desc' ? -1 : 1;
  return [...refs].sort((a, b) => {
    if (!sort) return compare(a, b);
    const valueA = sortValue(a);
    const valueB = sortValue(b);
    if (valueA === null || valueB === null) {
      if (valueA !== valueB) return valueA === null ? 1 : -1;
      return direction * compare(a, b);
    }
    return direction * (compare(valueA, valueB) || idOf(a) - idOf(b));
  });
}

const ENTITY_COUNT = 120;
const CRITERIA_COUNT = 150;

describeEachDialect('catalog rules apply and SQL agree', (context) => {
  const registry = new PermissionRegistry();
  registry.registerPermissions(...catalogPermissions);
  registry.registerRules(...catalogPermissionRules);
  let folder: string;
  let query: QueryContext;
  let stored: Array<{ ref: string; id: number; entity: Entity }>;

  before(async () => {
    const random = createRandom(20_240_611);
    const entities = Array.from({ length: ENTITY_COUNT }, (_, index) =>
      generateEntity(random, index),
    );
    folder = mkdtempSync(path.join(tmpdir(), 'catalog-rules-'));
    const file = path.join(folder, 'generated.yaml');
    writeFileSync(file, entities.map((entity) => stringify(entity)).join('---\n'));

    const handle = context.handle();
    await seedCatalogFiles(handle, [file]);
    query = {
      db: handle.db,
      dialect: handle.dialect,
      bytewiseText: await detectBytewiseText(handle.db, handle.dialect),
    };

    const rows = await handle.db
      .selectFrom('catalog_entities')
      .select(['id', 'entity_ref', 'body'])
      .orderBy('entity_ref')
      .execute();
    const relations = await loadRelations(
      query,
      rows.map((row: { entity_ref: string }) => row.entity_ref),
    );
    stored = rows.map((row: { id: number; entity_ref: string; body: string }) => ({
      ref: row.entity_ref,
      id: Number(row.id),
      entity: { ...JSON.parse(row.body), relations: relations.get(row.entity_ref) ?? [] },
    }));
  });
  after(() => {
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  test('every generated entity is stored', () => {
    assert.equal(stored.length, ENTITY_COUNT);
  });

  function sortRefs(
    refs: readonly string[],
    sort: { field: string; order: 'asc' | 'desc' } | undefined,
  ): string[] {
    const entities = new Map(stored.map((item) => [item.ref, item]));
    return sortBy(
      refs,
      (ref) => {
        const values = buildSearchEntries(entities.get(ref)!.entity)
          .filter((entry) => entry.key === sort?.field && entry.value !== null)
          .map((entry) => entry.value!);
        return values.sort()[0] ?? null;
      },
      (ref) => entities.get(ref)!.id,
      sort,
    );
  }

  test('generated criteria select the same entities both ways', async () => {
    const random = createRandom(7);
    let nonTrivial = 0;

    for (let index = 0; index < CRITERIA_COUNT; index += 1) {
      // Half of the cases add a second set of criteria, as a list filter adds to a permission.
      const permission = generateCriteria(random, 3);
      const extra = random.chance(0.5) ? generateCriteria(random, 2) : undefined;
      const label = `criteria #${index}: ${JSON.stringify({ permission, extra })}`;
      const matches = (criteria: ConditionCriteria, entity: Entity) =>
        evaluateCriteria(criteria, entity, CATALOG_ENTITY_RESOURCE_TYPE, registry);
      const expected = stored
        .filter(({ entity }) => matches(permission, entity) && (!extra || matches(extra, entity)))
        .map(({ ref }) => ref);
      if (expected.length > 0 && expected.length < stored.length) {
        nonTrivial += 1;
      }

      const selection = {
        filter: allOfFilters(
          extra ? criteriaToEntityFilter(extra, registry) : undefined,
          criteriaToEntityFilter(permission, registry),
        ),
      };
      const listed = await listEntityRefs(query, selection, { order: [] });
      assert.deepEqual(listed, expected, `${label} listed`);
      assert.equal(await countEntities(query, selection), expected.length, `${label} counted`);

      // Pages of 7 rows, in reference order or sorted by a field that some entities lack.
      const sort = random.chance(0.5)
        ? { field: random.pick(SORT_FIELDS), order: random.pick(['asc', 'desc'] as const) }
        : undefined;
      const walkWindow = random.pick([undefined, 3, 10]);
      const rows: PageRow[] = [];
      let position: CursorPosition | undefined;
      for (;;) {
        const page = await fetchQueryPage(query, {
          selection,
          sort,
          position,
          backward: false,
          count: 7,
          walkWindow,
        });
        rows.push(...page);
        if (page.length < 7) break;
        position = positionOf(page.at(-1)!);
      }
      const paged = rows.map((row) => row.ref);
      const where = `${label} paged by ${JSON.stringify({ sort, walkWindow })}`;
      assert.deepEqual(paged, sortRefs(expected, sort), where);

      // The same rows backwards, from the last one.
      const backwards: string[] = [];
      position = rows.length > 0 ? positionOf(rows.at(-1)!) : undefined;
      while (position) {
        const page = await fetchQueryPage(query, {
          selection,
          sort,
          position,
          backward: true,
          count: 7,
          walkWindow,
        });
        backwards.unshift(...page.map((row) => row.ref));
        position = page.length === 7 ? positionOf(page[0]!) : undefined;
      }
      assert.deepEqual(backwards, paged.slice(0, -1), `${where} backwards`);

      const facets = await countFacets(query, ['kind'], selection);
      const facetTotal = (facets.kind ?? []).reduce((sum, item) => sum + item.count, 0);
      assert.equal(facetTotal, expected.length, `${label} facet total`);
    }

    assert.ok(nonTrivial >= CRITERIA_COUNT / 3, `only ${nonTrivial} criteria split the entities`);
  });

  test('stored references match the generated entities', () => {
    for (const { ref, entity } of stored) {
      assert.equal(stringifyEntityRef(entity).toLocaleLowerCase('en-US'), ref);
    }
  });
});
