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

describe('IS_ENTITY_OWNER claims in a roles file', () => {
  const registry = new PermissionRegistry();
  registry.registerPermissions(...catalogPermissions);
  registry.registerRules(...catalogPermissionRules);

  const rolesWithClaims = (claims: string) =>
    [
      'roles:',
      '  - name: owners',
      '    members: [group:default/team-a]',
      '    grants:',
      '      - permission: catalog.entity.read',
      '        conditions:',
      '          rule: IS_ENTITY_OWNER',
      `          params: { claims: ${claims} }`,
    ].join('\n');

  const INVALID: Array<{ name: string; claims: string; value: string; fix: RegExp }> = [
    {
      name: 'without a kind',
      claims: '[team-a]',
      value: 'team-a',
      fix: /<kind>:\[<namespace>\/\]<name>/,
    },
    {
      name: 'as a mistyped alias',
      claims: "['$ownerref']",
      value: '$ownerref',
      fix: /\$ownerRefs or \$currentUser/,
    },
    {
      name: 'without a name',
      claims: "['group:default/']",
      value: 'group:default/',
      fix: /<kind>:/,
    },
    {
      name: 'with a space',
      claims: "['group:default/team a']",
      value: 'group:default/team a',
      fix: /letters, digits/,
    },
    {
      name: 'with a bad kind',
      claims: "['gr-oup:team-a']",
      value: 'gr-oup:team-a',
      fix: /letters, digits/,
    },
    {
      name: 'with NUL',
      claims: '["group:default/te\\0am"]',
      value: 'group:default/te\u0000am',
      fix: /letters/,
    },
    {
      name: 'with a long name',
      claims: `['group:default/${'n'.repeat(64)}']`,
      value: 'n'.repeat(64),
      fix: /letters/,
    },
  ];

  for (const item of INVALID) {
    test(`claim ${item.name} fails at load`, () => {
      assert.throws(
        () => parseRolesFile('roles.yaml', rolesWithClaims(item.claims), registry),
        (error: Error & { details?: Array<{ path: string; message: string }> }) => {
          const [detail] = error.details ?? [];
          assert.equal(error.details?.length, 1, JSON.stringify(error.details));
          assert.match(detail?.path ?? '', /roles\.yaml.*claims/);
          assert.ok(detail?.message.includes(item.value), detail?.message);
          assert.match(detail?.message ?? '', /IS_ENTITY_OWNER/);
          assert.match(detail?.message ?? '', item.fix);
          return true;
        },
      );
    });
  }

  test('claims that are not text fail at load', () => {
    for (const claims of ['[42]', "'group:default/team-a'", '[null]']) {
      assert.throws(
        () => parseRolesFile('roles.yaml', rolesWithClaims(claims), registry),
        (error: Error & { details?: Array<{ message: string }> }) => {
          const message = error.details?.[0]?.message ?? '';
          assert.match(message, /IS_ENTITY_OWNER/, claims);
          assert.match(message, /group:default\/team-a/, claims);
          return true;
        },
        claims,
      );
    }
  });

  test('full, short and alias claims load', () => {
    const roles = parseRolesFile(
      'roles.yaml',
      rolesWithClaims("['Group:Default/Team-A', 'group:team-b', '$ownerRefs', '$currentUser']"),
      registry,
    );

    assert.equal(roles.roles.length, 1);
  });

  test('short claim normalizes to a full reference', () => {
    const params = isEntityOwner.paramsSchema.parse({ claims: ['Group:Team-B', 'user:ops/Ada'] });

    assert.deepEqual(params.claims, ['group:default/team-b', 'user:ops/ada']);
  });
});
