import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { deriveRelations, type RelationSource } from './relations.js';

const ALL_KINDS = fileURLToPath(
  new URL('../../test/fixtures/catalog/relations/all-kinds.yaml', import.meta.url),
);

/** Relations each entity of all-kinds.yaml emits, as `source type target`, both directions. */
const EXPECTED: Record<string, string[]> = {
  'component:shop/orders': [
    'component:shop/orders ownedBy group:shop/team-a',
    'group:shop/team-a ownerOf component:shop/orders',
    'component:shop/orders partOf component:shop/storefront',
    'component:shop/storefront hasPart component:shop/orders',
    'component:shop/orders providesApi api:shop/orders-api',
    'api:shop/orders-api apiProvidedBy component:shop/orders',
    'component:shop/orders consumesApi api:shop/payments-api',
    'api:shop/payments-api apiConsumedBy component:shop/orders',
    'component:shop/orders dependsOn resource:shop/orders-db',
    'resource:shop/orders-db dependencyOf component:shop/orders',
    'component:shop/orders dependsOn component:default/auth',
    'component:default/auth dependencyOf component:shop/orders',
    'component:shop/orders dependencyOf component:shop/checkout',
    'component:shop/checkout dependsOn component:shop/orders',
    'component:shop/orders partOf system:shop/shop-system',
    'system:shop/shop-system hasPart component:shop/orders',
  ],
  'api:shop/orders-api': [
    'api:shop/orders-api ownedBy group:shop/team-a',
    'group:shop/team-a ownerOf api:shop/orders-api',
    'api:shop/orders-api partOf system:shop/shop-system',
    'system:shop/shop-system hasPart api:shop/orders-api',
  ],
  'resource:shop/orders-db': [
    'resource:shop/orders-db ownedBy user:shop/jane',
    'user:shop/jane ownerOf resource:shop/orders-db',
    'resource:shop/orders-db dependsOn resource:shop/disk',
    'resource:shop/disk dependencyOf resource:shop/orders-db',
    'resource:shop/orders-db dependencyOf component:shop/reporting',
    'component:shop/reporting dependsOn resource:shop/orders-db',
    'resource:shop/orders-db partOf system:shop/shop-system',
    'system:shop/shop-system hasPart resource:shop/orders-db',
  ],
  'user:shop/jane': [
    'user:shop/jane memberOf group:shop/team-a',
    'group:shop/team-a hasMember user:shop/jane',
  ],
  'group:shop/team-a': [
    'group:shop/team-a childOf group:shop/department',
    'group:shop/department parentOf group:shop/team-a',
    'group:shop/team-a parentOf group:shop/team-b',
    'group:shop/team-b childOf group:shop/team-a',
    'group:shop/team-a hasMember user:shop/jane',
    'user:shop/jane memberOf group:shop/team-a',
  ],
  'system:shop/shop-system': [
    'system:shop/shop-system ownedBy group:shop/team-a',
    'group:shop/team-a ownerOf system:shop/shop-system',
    'system:shop/shop-system partOf domain:shop/commerce',
    'domain:shop/commerce hasPart system:shop/shop-system',
  ],
  'domain:shop/commerce': [
    'domain:shop/commerce ownedBy group:shop/team-a',
    'group:shop/team-a ownerOf domain:shop/commerce',
    'domain:shop/commerce partOf domain:shop/company',
    'domain:shop/company hasPart domain:shop/commerce',
  ],
  'template:shop/new-service': [
    'template:shop/new-service ownedBy group:shop/team-a',
    'group:shop/team-a ownerOf template:shop/new-service',
  ],
};

function fixtureEntities(): RelationSource[] {
  return parseAllDocuments(readFileSync(ALL_KINDS, 'utf8')).map(
    (document) => document.toJS() as RelationSource,
  );
}

function entity(kind: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind,
    metadata: { name: 'svc-a', namespace: 'default' },
    spec,
    ...extra,
  };
}

describe('deriveRelations', () => {
  for (const source of fixtureEntities()) {
    const ref = `${source.kind.toLowerCase()}:${source.metadata.namespace}/${source.metadata.name}`;
    test(`emits both directions for ${ref}`, () => {
      const result = deriveRelations(source);
      const got = result.relations.map(
        (relation) => `${relation.sourceRef} ${relation.type} ${relation.targetRef}`,
      );
      assert.deepEqual(result.problems, []);
      assert.deepEqual(got, EXPECTED[ref]);
    });
  }

  test('names the field path of each reference', () => {
    const result = deriveRelations(
      entity('Component', { owner: 'team-x', dependsOn: ['component:a', 'resource:b'] }),
    );
    const paths = result.relations.map((relation) => relation.path.join('.'));
    assert.deepEqual(paths, [
      'spec.owner',
      'spec.owner',
      'spec.dependsOn.0',
      'spec.dependsOn.0',
      'spec.dependsOn.1',
      'spec.dependsOn.1',
    ]);
  });

  test('rejects a bare name in dependsOn (C3)', () => {
    const result = deriveRelations(
      entity('Component', {
        type: 'service',
        lifecycle: 'production',
        owner: 'team-x',
        dependsOn: ['svc-b'],
      }),
    );
    assert.equal(result.problems.length, 1);
    const [problem] = result.problems;
    assert.equal(problem?.severity, 'error');
    assert.deepEqual(problem?.path, ['spec', 'dependsOn', 0]);
    assert.match(problem?.message ?? '', /spec\.dependsOn\[0\] 'svc-b' names no kind/);
    assert.match(problem?.message ?? '', /'component:svc-b'/);
  });

  test('still emits the valid references of that entity', () => {
    const result = deriveRelations(entity('Component', { owner: 'team-x', dependsOn: ['svc-b'] }));
    const got = result.relations.map((relation) => `${relation.type} ${relation.targetRef}`);
    assert.deepEqual(got, ['ownedBy group:default/team-x', 'ownerOf component:default/svc-a']);
  });

  test('applies the default kind of each field (C3)', () => {
    const cases: Array<[string, string, string]> = [
      ['Component', 'owner', 'group:default/x'],
      ['Component', 'system', 'system:default/x'],
      ['System', 'domain', 'domain:default/x'],
      ['Component', 'providesApis', 'api:default/x'],
      ['Component', 'consumesApis', 'api:default/x'],
      ['User', 'memberOf', 'group:default/x'],
      ['Group', 'members', 'user:default/x'],
      ['Group', 'parent', 'group:default/x'],
      ['Group', 'children', 'group:default/x'],
      ['Component', 'subcomponentOf', 'component:default/x'],
    ];
    for (const [kind, field, target] of cases) {
      const value = ['providesApis', 'consumesApis', 'memberOf', 'members', 'children'].includes(
        field,
      )
        ? ['x']
        : 'x';
      const result = deriveRelations(entity(kind, { [field]: value }));
      assert.equal(result.relations[0]?.targetRef, target, `${kind} spec.${field}`);
    }
  });

  test('keeps a reference whose name breaks the rules, with a warning', () => {
    const result = deriveRelations(
      entity('Group', { type: 'team', children: [], members: ['<YOUR_USER_NAME>'] }),
    );
    assert.equal(result.relations[0]?.targetRef, 'user:default/<your_user_name>');
    assert.equal(result.problems[0]?.severity, 'warning');
    assert.match(result.problems[0]?.message ?? '', /spec\.members\[0\] '<YOUR_USER_NAME>'/);
  });

  test('reads a namespaced shorthand as namespace and name', () => {
    const result = deriveRelations(entity('Component', { owner: 'backstage/maintainers' }));
    assert.equal(result.relations[0]?.targetRef, 'group:backstage/maintainers');
  });

  test('emits nothing for a Template before v1beta3', () => {
    const result = deriveRelations(
      entity('Template', { owner: 'team-a' }, { apiVersion: 'backstage.io/v1beta2' }),
    );
    assert.deepEqual(result.relations, []);
  });

  test('emits nothing for kinds it does not know', () => {
    const result = deriveRelations(entity('Plugin', { owner: 'team-a' }));
    assert.deepEqual(result.relations, []);
  });
});
