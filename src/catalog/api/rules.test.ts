import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import { PermissionRegistry, parseRolesFile } from '../../permissions/index.js';
import { catalogPermissions } from './permissions.js';
import {
  type CatalogEntity,
  catalogPermissionRules,
  hasAnnotation,
  hasLabel,
  hasMetadata,
  hasSpec,
  isEntityKind,
  isEntityOwner,
} from './rules.js';

const orders: CatalogEntity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'orders',
    namespace: 'default',
    title: 'Order Service',
    tags: ['java', 'backend'],
    labels: { tier: 'gold' },
    annotations: {
      'backstage.io/techdocs-ref': 'dir:.',
      'example.com/Notes': 'x'.repeat(201),
    },
  },
  spec: { type: 'service', lifecycle: 'Production', owner: 'team-a', profile: { email: 'A@B.C' } },
  relations: [
    { type: 'ownedBy', targetRef: 'group:default/team-a' },
    { type: 'partOf', targetRef: 'system:default/shop' },
  ],
};

interface RuleCase {
  name: string;
  params: Record<string, unknown>;
  expected: boolean;
}

function runCases(
  rule: {
    apply(entity: Entity, params: never): boolean;
    paramsSchema: { parse(v: unknown): unknown };
  },
  cases: RuleCase[],
): void {
  for (const item of cases) {
    test(item.name, () => {
      const params = rule.paramsSchema.parse(item.params) as never;
      assert.equal(rule.apply(orders, params), item.expected);
    });
  }
}

describe('IS_ENTITY_OWNER', () => {
  runCases(isEntityOwner, [
    {
      name: 'owner among the claims',
      params: { claims: ['user:default/x', 'group:default/team-a'] },
      expected: true,
    },
    {
      name: 'claims compare without case',
      params: { claims: ['Group:Default/Team-A'] },
      expected: true,
    },
    {
      name: 'another relation is no ownership',
      params: { claims: ['system:default/shop'] },
      expected: false,
    },
    { name: 'no claims', params: { claims: [] }, expected: false },
  ]);

  test('toQuery filters ownedBy relations', () => {
    assert.deepEqual(isEntityOwner.toQuery({ claims: ['Group:Default/Team-A'] }), {
      key: 'relations.ownedBy',
      values: ['group:default/team-a'],
    });
  });
});

describe('IS_ENTITY_KIND', () => {
  runCases(isEntityKind, [
    {
      name: 'kind listed in another case',
      params: { kinds: ['api', 'COMPONENT'] },
      expected: true,
    },
    { name: 'kind not listed', params: { kinds: ['Group'] }, expected: false },
  ]);

  test('toQuery lowercases the kinds', () => {
    assert.deepEqual(isEntityKind.toQuery({ kinds: ['Component'] }), {
      key: 'kind',
      values: ['component'],
    });
  });
});

describe('HAS_ANNOTATION', () => {
  runCases(hasAnnotation, [
    {
      name: 'annotation present',
      params: { annotation: 'backstage.io/techdocs-ref' },
      expected: true,
    },
    {
      name: 'annotation with its value',
      params: { annotation: 'backstage.io/techdocs-ref', value: 'DIR:.' },
      expected: true,
    },
    {
      name: 'annotation with another value',
      params: { annotation: 'backstage.io/techdocs-ref', value: 'url:x' },
      expected: false,
    },
    {
      name: 'annotation key without case',
      params: { annotation: 'EXAMPLE.COM/notes' },
      expected: true,
    },
    {
      name: 'value too long to index never matches',
      params: { annotation: 'example.com/Notes', value: 'x'.repeat(201) },
      expected: false,
    },
    { name: 'annotation missing', params: { annotation: 'example.com/missing' }, expected: false },
  ]);
});

describe('HAS_LABEL', () => {
  runCases(hasLabel, [
    { name: 'label present', params: { label: 'Tier' }, expected: true },
    { name: 'label missing', params: { label: 'region' }, expected: false },
  ]);
});

describe('HAS_METADATA', () => {
  runCases(hasMetadata, [
    { name: 'field present', params: { key: 'title' }, expected: true },
    {
      name: 'field with its value',
      params: { key: 'title', value: 'order service' },
      expected: true,
    },
    { name: 'array item as the value', params: { key: 'tags', value: 'Java' }, expected: true },
    { name: 'array item as a key', params: { key: 'tags.backend' }, expected: true },
    { name: 'nested field', params: { key: 'labels.tier', value: 'gold' }, expected: true },
    { name: 'name is always searchable', params: { key: 'name', value: 'ORDERS' }, expected: true },
    { name: 'field missing', params: { key: 'description' }, expected: false },
  ]);
});

describe('HAS_SPEC', () => {
  runCases(hasSpec, [
    {
      name: 'value compares without case',
      params: { key: 'lifecycle', value: 'production' },
      expected: true,
    },
    {
      name: 'nested key without case',
      params: { key: 'Profile.Email', value: 'a@b.c' },
      expected: true,
    },
    { name: 'another value', params: { key: 'type', value: 'website' }, expected: false },
  ]);

  test('toQuery builds a search condition', () => {
    assert.deepEqual(hasSpec.toQuery({ key: 'Lifecycle', value: 'Production' }), {
      key: 'spec.lifecycle',
      values: ['production'],
    });
    assert.deepEqual(hasSpec.toQuery({ key: 'lifecycle' }), { key: 'spec.lifecycle' });
  });
});

describe('catalog rule parameters', () => {
  test('every rule is for catalog-entity', () => {
    assert.deepEqual(
      catalogPermissionRules.map((rule) => [rule.name, rule.resourceType]),
      [
        ['IS_ENTITY_OWNER', 'catalog-entity'],
        ['IS_ENTITY_KIND', 'catalog-entity'],
        ['HAS_ANNOTATION', 'catalog-entity'],
        ['HAS_LABEL', 'catalog-entity'],
        ['HAS_METADATA', 'catalog-entity'],
        ['HAS_SPEC', 'catalog-entity'],
      ],
    );
  });

  test('a mistyped parameter fails the roles file', () => {
    const registry = new PermissionRegistry();
    registry.registerPermissions(...catalogPermissions);
    registry.registerRules(...catalogPermissionRules);
    const text = [
      'roles:',
      '  - name: readers',
      '    members: [group:default/team-a]',
      '    grants:',
      '      - permission: catalog.entity.read',
      '        conditions: { rule: HAS_SPEC, params: { key: lifecycle, values: [production] } }',
    ].join('\n');

    assert.throws(
      () => parseRolesFile('roles.yaml', text, registry),
      (error: Error & { details?: Array<{ message: string }> }) => {
        assert.match(error.details?.[0]?.message ?? '', /HAS_SPEC/);
        return true;
      },
    );
  });
});
