import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConditionalPolicies } from './conditional-policy.js';

const ownerDocument = (role: string, actions: string) => `result: CONDITIONAL
roleEntityRef: '${role}'
pluginId: catalog
resourceType: catalog-entity
permissionMapping: [${actions}]
conditions:
  rule: IS_ENTITY_OWNER
  resourceType: catalog-entity
  params:
    claims: ['group:default/team-a']
`;

describe('parseConditionalPolicies', () => {
  test('reads documents between --- separators', () => {
    const text = `---\n${ownerDocument('role:default/a', 'update')}---\n${ownerDocument('role:default/a', 'read, delete')}`;

    const policies = parseConditionalPolicies('conditions.yaml', text);

    assert.deepEqual(policies.issues, []);
    assert.equal(policies.documentCount, 2);
    assert.deepEqual(
      policies.documents.map((document) => [document.index, document.line]),
      [
        [0, 2],
        [1, 13],
      ],
    );
    assert.deepEqual(policies.documents[1]?.permissionMapping, ['read', 'delete']);
    assert.deepEqual(policies.documents[1]?.conditions, {
      rule: 'IS_ENTITY_OWNER',
      resourceType: 'catalog-entity',
      params: { claims: ['group:default/team-a'] },
    });
  });

  test('skips a trailing bare --- without a newline', () => {
    const policies = parseConditionalPolicies(
      'conditions.yaml',
      `---\n${ownerDocument('role:default/a', 'read')}---`,
    );

    assert.deepEqual(policies.issues, []);
    assert.equal(policies.documentCount, 1);
    assert.equal(policies.documents.length, 1);
  });

  test('reads an empty file as no documents', () => {
    const policies = parseConditionalPolicies('conditions.yaml', '# nothing yet\n');

    assert.equal(policies.documentCount, 0);
    assert.deepEqual(policies.issues, []);
  });

  describe('malformed document', () => {
    // The criteria were written without indentation, so they became top-level keys.
    const malformed = `---
result: CONDITIONAL
roleEntityRef: 'role:default/end-user'
pluginId: catalog
resourceType: catalog-entity
permissionMapping: [read]
conditions:
rule: IS_ENTITY_OWNER
resourceType: catalog-entity
params:
claims: ['group:default/team-x']
---
${ownerDocument('role:default/other', 'read')}`;
    const policies = parseConditionalPolicies('conditions.yaml', malformed);
    const faults = policies.issues.map((issue) => ({
      line: issue.line,
      document: issue.document,
      field: issue.field,
    }));

    test('fails and names each fault', () => {
      assert.ok(policies.issues.every((issue) => issue.severity === 'error'));
      assert.equal(policies.documents.length, 1);
      assert.equal(policies.documents[0]?.roleEntityRef, 'role:default/other');
      assert.equal(policies.documentCount, 2);
    });

    test('names the empty conditions', () => {
      assert.ok(faults.some((fault) => fault.field === 'conditions' && fault.line === 7));
      assert.match(
        policies.issues.find((issue) => issue.field === 'conditions')?.message ?? '',
        /is empty/,
      );
    });

    test('names the duplicated resourceType', () => {
      const issue = policies.issues.find((item) => item.field === 'resourceType');
      assert.equal(issue?.line, 9);
      assert.equal(issue?.document, 0);
      assert.match(issue?.message ?? '', /appears twice/);
    });

    test('names each unknown top-level key', () => {
      for (const [key, line] of [
        ['rule', 8],
        ['params', 10],
        ['claims', 11],
      ] as const) {
        const issue = policies.issues.find((item) => item.field === key);
        assert.equal(issue?.line, line, key);
        assert.equal(issue?.document, 0, key);
        assert.match(issue?.message ?? '', new RegExp(`'${key}' is not a top-level key`), key);
      }
    });

    test('lists no other fault', () => {
      assert.equal(policies.issues.length, 5, JSON.stringify(faults));
    });
  });

  test('invalid YAML fails its document only', () => {
    const text = `---\nresult: CONDITIONAL\nroleEntityRef: a: b\n---\n${ownerDocument('role:default/b', 'read')}`;

    const policies = parseConditionalPolicies('conditions.yaml', text);

    assert.equal(policies.documents.length, 1);
    assert.equal(policies.documents[0]?.roleEntityRef, 'role:default/b');
    assert.ok(policies.issues.length > 0);
    assert.ok(policies.issues.every((issue) => issue.document === 0));
    assert.match(policies.issues[0]?.message ?? '', /not valid YAML/);
  });

  const invalid: Array<[string, string, string, RegExp]> = [
    [
      'a result other than CONDITIONAL',
      ownerDocument('role:default/a', 'read').replace('CONDITIONAL', 'ALLOW'),
      'result',
      /'ALLOW' is invalid: a conditional policy has result: CONDITIONAL/,
    ],
    [
      'a missing pluginId',
      ownerDocument('role:default/a', 'read').replace('pluginId: catalog\n', ''),
      'pluginId',
      /is required/,
    ],
    [
      'an unknown action',
      ownerDocument('role:default/a', 'read, write'),
      'permissionMapping[1]',
      /'write' is not an action/,
    ],
    [
      'an empty permissionMapping',
      ownerDocument('role:default/a', ''),
      'permissionMapping',
      /list the actions/,
    ],
    [
      'criteria of the wrong shape',
      ownerDocument('role:default/a', 'read').replace('rule: IS_ENTITY_OWNER', 'rule: 7'),
      'conditions.rule',
      /7 is invalid: write the rule's name/,
    ],
    [
      'criteria that mix a rule and anyOf',
      ownerDocument('role:default/a', 'read').replace(
        'rule: IS_ENTITY_OWNER',
        'anyOf: []\n  rule: IS_ENTITY_OWNER',
      ),
      'conditions',
      /mixes anyOf, rule, resourceType, params/,
    ],
    [
      'an empty anyOf',
      ownerDocument('role:default/a', 'read').replace(
        /conditions:\n[\s\S]*$/,
        'conditions:\n  anyOf: []\n',
      ),
      'conditions.anyOf',
      /must list at least one criterion/,
    ],
    [
      'a fault inside not',
      ownerDocument('role:default/a', 'read').replace(
        /conditions:\n[\s\S]*$/,
        'conditions:\n  not:\n    rule: IS_ENTITY_OWNER\n    claims: [x]\n',
      ),
      'conditions.not.claims',
      /unknown key 'claims': a condition has rule, params and resourceType/,
    ],
    ['a list instead of a mapping', '- result: CONDITIONAL\n', '', /the document is not a mapping/],
  ];
  for (const [name, text, field, reason] of invalid) {
    test(`rejects ${name}`, () => {
      const policies = parseConditionalPolicies('conditions.yaml', text);

      assert.equal(policies.documents.length, 0);
      assert.equal(policies.issues.length, 1, JSON.stringify(policies.issues));
      assert.equal(policies.issues[0]?.field ?? '', field);
      assert.match(policies.issues[0]?.message ?? '', reason);
    });
  }
});
