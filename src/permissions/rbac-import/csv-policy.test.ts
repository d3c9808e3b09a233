import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRbacCsv } from './csv-policy.js';

describe('parseRbacCsv', () => {
  test('skips comments and blank lines', () => {
    const csv = parseRbacCsv(
      'policy.csv',
      '# role:default/guests\n\ng, user:default/guest, role:default/guests\n  # indented comment\np, role:default/guests, catalog-entity, read, allow\n',
    );

    assert.equal(csv.policyLineCount, 2);
    assert.deepEqual(csv.issues, []);
    assert.deepEqual(csv.lines, [
      { type: 'g', line: 3, member: 'user:default/guest', role: 'role:default/guests' },
      {
        type: 'p',
        line: 5,
        subject: 'role:default/guests',
        object: 'catalog-entity',
        action: 'read',
        effect: 'allow',
      },
    ]);
  });

  test('reads a last line without a newline', () => {
    const csv = parseRbacCsv('policy.csv', 'p, user:default/ada, catalog-entity, read, deny');

    assert.equal(csv.lines.length, 1);
    assert.equal(csv.lines[0]?.line, 1);
  });

  test('reads CRLF line ends and a byte order mark', () => {
    const csv = parseRbacCsv(
      'policy.csv',
      '\uFEFFg, user:default/ada, role:default/r\r\np, role:default/r, catalog-entity, read, allow\r\n',
    );

    assert.deepEqual(csv.issues, []);
    assert.deepEqual(
      csv.lines.map((line) => line.line),
      [1, 2],
    );
  });

  test('reads a quoted field with a comma', () => {
    const csv = parseRbacCsv('policy.csv', 'p, "role:default/a", "catalog-entity", read, allow\n');

    assert.deepEqual(csv.issues, []);
    assert.equal(csv.lines[0]?.type === 'p' && csv.lines[0].subject, 'role:default/a');
  });

  test('stray quote fails its line only', () => {
    const csv = parseRbacCsv(
      'policy.csv',
      [
        'g, user:default/alice, role:default/r',
        'p, role:default/r, catalog-entity"fuzz, read, allow',
        'p, role:default/r, catalog-entity, read, allow',
      ].join('\n'),
    );

    assert.equal(csv.issues.length, 1);
    assert.equal(csv.issues[0]?.line, 2);
    assert.match(csv.issues[0]?.message ?? '', /not valid CSV: field 3 'catalog-entity"fuzz'/);
    assert.deepEqual(
      csv.lines.map((line) => line.line),
      [1, 3],
    );
    assert.equal(csv.policyLineCount, 3);
  });

  test('unclosed quote fails its line only', () => {
    const csv = parseRbacCsv(
      'policy.csv',
      'p, "role:default/r, catalog-entity, read, allow\ng, user:default/a, role:default/r\n',
    );

    assert.equal(csv.issues[0]?.line, 1);
    assert.match(csv.issues[0]?.message ?? '', /no closing double quote/);
    assert.deepEqual(
      csv.lines.map((line) => line.line),
      [2],
    );
  });

  const invalid: Array<[string, RegExp]> = [
    ['p, role:default/r, catalog-entity, read', /has 4 fields, but a p line has 5/],
    ['p, role:default/r, catalog-entity, read, allow,', /has 6 fields, but a p line has 5/],
    ['g, user:default/a', /has 2 fields, but a g line has 3/],
    ['g, user:default/a, role:default/r, extra', /has 4 fields, but a g line has 3/],
    [
      'p, role:default/r, catalog-entity, READ, allow',
      /action 'READ' is invalid: use one of create/,
    ],
    ['p, role:default/r, catalog-entity, write, allow', /action 'write' is invalid/],
    [
      'p, role:default/r, catalog-entity, read, Allow',
      /effect 'Allow' is invalid: use allow or deny/,
    ],
    ['p, role:default/r, catalog-entity, read, grant', /effect 'grant' is invalid/],
    ['p, , catalog-entity, read, allow', /subject or the permission is empty/],
    ['g, , role:default/r', /member or the role is empty/],
    [
      'P, role:default/r, catalog-entity, read, allow',
      /starts with 'P', which is not a policy type/,
    ],
    ['g2, user:default/a, role:default/r', /starts with 'g2'/],
  ];
  for (const [line, reason] of invalid) {
    test(`rejects '${line}'`, () => {
      const csv = parseRbacCsv('policy.csv', `${line}\n`);

      assert.equal(csv.lines.length, 0);
      assert.equal(csv.issues.length, 1);
      assert.equal(csv.issues[0]?.severity, 'error');
      assert.equal(csv.issues[0]?.file, 'policy.csv');
      assert.equal(csv.issues[0]?.line, 1);
      assert.match(csv.issues[0]?.message ?? '', reason);
    });
  }
});
