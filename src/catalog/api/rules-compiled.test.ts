import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import { expandAliases, type Principal } from '../../permissions/index.js';
import { ClaimsBuilder } from '../../permissions/principal-claims.js';
import {
  hasAnnotation,
  hasLabel,
  hasMetadata,
  hasSpec,
  isEntityKind,
  isEntityOwner,
} from './rules.js';
import { buildSearchEntries } from './search-entries.js';

// The rules' checks compare ASCII text in place and walk only the paths that
// can hold a key. These tests compare them with the plain definitions: both
// sides lowercased with toLocaleLowerCase('en-US'), and the full search rows.

function lower(value: string): string {
  return value.toLocaleLowerCase('en-US');
}

function ownedByReference(entity: Entity, claims: readonly string[]): boolean {
  const wanted = new Set(claims.map(lower));
  return (entity.relations ?? []).some(
    (relation) => lower(relation.type) === 'ownedby' && wanted.has(lower(relation.targetRef)),
  );
}

function kindReference(entity: Entity, kinds: readonly string[]): boolean {
  return kinds.map(lower).includes(lower(entity.kind));
}

function searchReference(entity: Entity, key: string, value?: string): boolean {
  const wantedValue = value === undefined ? undefined : lower(value);
  return buildSearchEntries(entity).some(
    (entry) =>
      entry.key === lower(key) && (wantedValue === undefined || entry.value === wantedValue),
  );
}

const TEXTS = [
  'component',
  'Component',
  'COMPONENT',
  'Componen',
  'Components',
  'Compoñent',
  'COMPOÑENT',
  'Ñ',
  'ñ',
  'ΟΔΟΣ',
  'οδος',
  'οδοσ',
  'İ',
  'i̇',
  'K',
  'k',
  'Straße',
  'STRASSE',
  '@',
  '[',
  'Z',
  'z',
  '',
];

function entityWith(kind: string, relations: Entity['relations'], extra = {}): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind,
    metadata: { name: 'orders', namespace: 'default', ...extra },
    spec: { lifecycle: kind, type: 'service' },
    relations,
  } as Entity;
}

test('IS_ENTITY_KIND decides as lowercased comparison', () => {
  for (const kind of TEXTS) {
    const entity = entityWith(kind, []);
    for (const wanted of TEXTS) {
      const params = { kinds: [wanted] };
      const expected = kindReference(entity, params.kinds);
      assert.equal(isEntityKind.apply(entity, params), expected, `kind '${kind}' in ['${wanted}']`);
      assert.equal(
        isEntityKind.compile(params)(entity),
        expected,
        `compiled: '${kind}' '${wanted}'`,
      );
    }
  }
});

test('IS_ENTITY_OWNER decides as lowercased comparison', () => {
  const types = ['ownedBy', 'ownedby', 'OWNEDBY', 'ownerOf', 'ownedB', 'ownedByX'];
  for (const type of types) {
    for (const target of TEXTS) {
      const entity = entityWith('Component', [
        { type: 'partOf', targetRef: `group:default/${target}` },
        { type, targetRef: `group:default/${target}` },
      ]);
      for (const claim of TEXTS) {
        const claims = [`group:default/${claim}`, 'user:default/other'];
        const expected = ownedByReference(entity, claims);
        const where = `relation ${type} to '${target}', claim '${claim}'`;
        assert.equal(isEntityOwner.apply(entity, { claims }), expected, where);
        assert.equal(isEntityOwner.compile({ claims })(entity), expected, `compiled: ${where}`);
      }
    }
  }
});

test('IS_ENTITY_OWNER matches nothing without relations', () => {
  const entity = entityWith('Component', undefined);

  assert.equal(isEntityOwner.compile({ claims: ['group:default/a'] })(entity), false);
});

test('IS_ENTITY_OWNER with aliases decides as the expanded claims', () => {
  const principals: Principal[] = [
    {
      userEntityRef: 'user:default/ada',
      groupEntityRefs: ['group:default/team-a'],
      ownershipEntityRefs: ['user:default/ada', 'group:default/team-a'],
    },
    {
      userEntityRef: 'User:Default/Bob',
      groupEntityRefs: ['group:default/Team-B', 'group:ops/x'],
      ownershipEntityRefs: ['group:default/Team-B', 'group:ops/x'],
    },
    { userEntityRef: 'user:default/cy', groupEntityRefs: [], ownershipEntityRefs: [] },
  ];
  const claimLists: unknown[] = [
    ['$ownerRefs'],
    '$ownerRefs',
    ['$currentUser'],
    ['$currentUser', '$ownerRefs'],
    ['group:team-c', '$ownerRefs'],
    ['$currentUser', 'group:default/TEAM-C'],
    [],
  ];
  const targets = [
    'user:default/ada',
    'User:Default/ADA',
    'user:default/bob',
    'group:default/team-a',
    'group:default/team-b',
    'GROUP:DEFAULT/TEAM-B',
    'group:ops/x',
    'group:default/team-c',
    'group:default/x',
  ];
  const builder = new ClaimsBuilder();
  for (const principal of principals) {
    const claims = builder.claimsOf(principal);
    assert.ok(claims, `${principal.userEntityRef} has canonical references`);
    for (const claimList of claimLists) {
      const params = { claims: claimList };
      const check = isEntityOwner.compileWithAliases?.(params);
      assert.ok(check, `claims ${JSON.stringify(claimList)} can be shared`);
      const expanded = expandAliases({ rule: 'IS_ENTITY_OWNER', params }, principal) as {
        params: Record<string, unknown>;
      };
      const compiled = isEntityOwner.compile(isEntityOwner.paramsSchema.parse(expanded.params));
      for (const target of targets) {
        for (const type of ['ownedBy', 'OWNEDBY', 'partOf']) {
          const entity = entityWith('Component', [{ type, targetRef: target }]);
          assert.equal(
            check(entity, claims),
            compiled(entity),
            `${principal.userEntityRef}, claims ${JSON.stringify(claimList)}, ${type} ${target}`,
          );
        }
      }
    }
  }
});

test('IS_ENTITY_OWNER leaves parameters its schema rejects to expansion', () => {
  for (const params of [
    undefined,
    {},
    { claims: '$currentUser' },
    { claims: ['$ownerRefs', 'team-a'] },
    { claims: ['$ownerRefs', 7] },
    { claims: ['$ownerRefs'], extra: true },
  ]) {
    assert.equal(isEntityOwner.compileWithAliases?.(params), undefined, JSON.stringify(params));
  }
});

test('HAS_ rules decide as the search rows', () => {
  for (const text of TEXTS) {
    const entity = entityWith(text, [], {
      labels: { [text]: text },
      annotations: { [`example.com/${text}`]: text },
      tags: [text],
    });
    for (const wanted of TEXTS) {
      const cases: Array<[string, boolean, boolean]> = [
        [
          'HAS_LABEL',
          hasLabel.compile({ label: wanted })(entity),
          searchReference(entity, `metadata.labels.${wanted}`),
        ],
        [
          'HAS_ANNOTATION',
          hasAnnotation.compile({ annotation: `example.com/${wanted}`, value: wanted })(entity),
          searchReference(entity, `metadata.annotations.example.com/${wanted}`, wanted),
        ],
        [
          'HAS_METADATA',
          hasMetadata.compile({ key: 'tags', value: wanted })(entity),
          searchReference(entity, 'metadata.tags', wanted),
        ],
        [
          'HAS_SPEC',
          hasSpec.compile({ key: 'lifecycle', value: wanted })(entity),
          searchReference(entity, 'spec.lifecycle', wanted),
        ],
      ];
      for (const [rule, actual, expected] of cases) {
        assert.equal(actual, expected, `${rule}: entity text '${text}', wanted '${wanted}'`);
      }
    }
  }
});
