import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadDocumentsFast } from './fast-yaml.js';
import { FileLines } from './file-lines.js';
import type { CatalogIssue } from './issues.js';
import { createKindPolicy, isKindAllowed } from './kind-rules.js';
import { readCatalogFile } from './read-file.js';
import { createTargetScope } from './target-scope.js';
import { parseYamlDocuments } from './yaml-documents.js';

const folder = mkdtempSync(path.join(tmpdir(), 'catalog-read-'));
after(() => rmSync(folder, { recursive: true, force: true }));

let counter = 0;
function writeCatalog(text: string, name = `file-${++counter}.yaml`): string {
  const file = path.join(folder, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function only(issues: readonly CatalogIssue[]): CatalogIssue {
  assert.equal(issues.length, 1, `expected one issue, got ${JSON.stringify(issues, null, 2)}`);
  return issues[0] as CatalogIssue;
}

const SVC_B = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: svc-b }
spec: { type: service, lifecycle: production, owner: team-x }
`;

describe('readCatalogFile cases', () => {
  test('C1: rejects an invalid name and keeps the others', async () => {
    const file = writeCatalog(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: '@shop/widgets' }
spec: { type: library, lifecycle: production, owner: team-x }
---
${SVC_B}`);
    const result = await readCatalogFile(file);

    assert.deepEqual(
      result.entities.map((entity) => entity.ref),
      ['component:default/svc-b'],
    );
    assert.equal(result.rejected, 1);
    const issue = only(result.issues);
    assert.equal(issue.severity, 'error');
    assert.equal(issue.code, 'entity-invalid');
    assert.equal(issue.field, 'metadata.name');
    assert.equal(issue.docIndex, 0);
    assert.equal(issue.line, 3);
    assert.equal(issue.entityRef, 'component:default/@shop/widgets');
    assert.match(issue.message, /'@shop\/widgets'/);
    assert.match(issue.message, /1 to 63 characters/);
    assert.match(issue.message, /runs of \[A-Za-z0-9\] joined by '-', '_' or '\.'/);
    assert.match(issue.message, /such as 'shop-widgets'/);
  });

  test('C2: names spec.lifecycle as required', async () => {
    const file = writeCatalog(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: svc-a }
spec: { type: service, owner: team-x }
`);
    const issue = only((await readCatalogFile(file)).issues);
    assert.equal(issue.entityRef, 'component:default/svc-a');
    assert.equal(issue.field, 'spec.lifecycle');
    assert.equal(issue.line, 4);
    assert.match(issue.message, /spec\.lifecycle is required for kind Component/);
  });

  test('C3: rejects a bare dependsOn name on that field only', async () => {
    const file = writeCatalog(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: svc-a }
spec: { type: service, lifecycle: production, owner: team-x, dependsOn: [svc-b] }
---
${SVC_B}`);
    const result = await readCatalogFile(file);
    assert.deepEqual(
      result.entities.map((entity) => entity.ref),
      ['component:default/svc-b'],
    );
    const issue = only(result.issues);
    assert.equal(issue.code, 'reference-invalid');
    assert.equal(issue.entityRef, 'component:default/svc-a');
    assert.equal(issue.field, 'spec.dependsOn[0]');
    assert.equal(issue.line, 4);
  });
});

describe('readCatalogFile parsing', () => {
  test('skips empty documents silently', async () => {
    const result = await readCatalogFile(writeCatalog(`---\n---\n${SVC_B}---\n\n`));
    assert.equal(result.entities.length, 1);
    assert.equal(result.entities[0]?.docIndex, 1);
    assert.deepEqual(result.issues, []);
    assert.equal(result.rejected, 0);
  });

  test('reads nothing from an empty file', async () => {
    const result = await readCatalogFile(writeCatalog(''));
    assert.deepEqual(result.entities, []);
    assert.deepEqual(result.issues, []);
  });

  test('reports a document that is not a mapping with its index', async () => {
    const result = await readCatalogFile(writeCatalog(`${SVC_B}---\n- a\n- b\n`));
    assert.equal(result.entities.length, 1);
    const issue = only(result.issues);
    assert.equal(issue.code, 'document-not-mapping');
    assert.equal(issue.docIndex, 1);
    assert.equal(issue.line, 6);
    assert.match(issue.message, /document 1 is a list, not a mapping/);
  });

  test('reports unparseable YAML once with its line', async () => {
    const result = await readCatalogFile(
      writeCatalog(`${SVC_B}---
metadata:
  annotations:
    {%if values.x %}a: b{% endif %}
`),
    );
    assert.deepEqual(result.entities, []);
    const issue = only(result.issues);
    assert.equal(issue.code, 'yaml-invalid');
    assert.equal(issue.line, 8);
    assert.equal(issue.docIndex, undefined);
  });

  test('keeps the line of the first content after comments', async () => {
    const result = await readCatalogFile(writeCatalog(`# heading\n# more\n---\n${SVC_B}`));
    assert.equal(result.entities[0]?.line, 4);
  });
});

describe('readCatalogFile validation', () => {
  test('reports every format fault of one entity', async () => {
    const file = writeCatalog(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: invalid component
  labels:
    'bad key!': x
  tags: [go, 'go 1.15.3']
spec: { type: service, lifecycle: production, owner: team-x }
`);
    const result = await readCatalogFile(file);
    const fields = result.issues.map((issue) => issue.field);
    assert.deepEqual(fields, ['metadata.name', 'metadata.labels.bad key!', 'metadata.tags[1]']);
    assert.deepEqual(
      result.issues.map((issue) => issue.line),
      [4, 6, 7],
    );
    assert.match(result.issues[2]?.message ?? '', /such as 'go-1-15-3'/);
  });

  test('rejects a root field outside apiVersion, kind, metadata and spec', async () => {
    const issue = only((await readCatalogFile(writeCatalog(`${SVC_B}status: {}\n`))).issues);
    assert.equal(issue.field, 'status');
    assert.match(issue.message, /not allowed at the top level/);
  });

  test('accepts a kind the library does not know', async () => {
    const file = writeCatalog(`apiVersion: extensions.backstage.io/v1alpha1
kind: Plugin
metadata: { name: rbac, namespace: rhdh }
spec: { anything: [1, 2] }
`);
    const result = await readCatalogFile(file);
    assert.deepEqual(
      result.entities.map((entity) => entity.ref),
      ['plugin:rhdh/rbac'],
    );
  });

  test('rejects a kind the rules do not allow', async () => {
    const file = writeCatalog(`apiVersion: extensions.backstage.io/v1alpha1
kind: Plugin
metadata: { name: rbac }
spec: {}
---
${SVC_B}`);
    const result = await readCatalogFile(file, {
      kindPolicy: createKindPolicy([{ allow: ['Component'] }], undefined),
    });
    assert.deepEqual(
      result.entities.map((entity) => entity.ref),
      ['component:default/svc-b'],
    );
    const issue = only(result.issues);
    assert.equal(issue.code, 'kind-not-allowed');
    assert.equal(issue.field, 'kind');
  });

  test('allows a kind that any rule allows', () => {
    const policy = createKindPolicy([{ allow: ['Component'] }], [{ allow: ['group'] }]);
    assert.deepEqual(policy, { allowed: ['component', 'group'], allowsUnlisted: false });
  });

  test('rejects a v1beta2 Template with a migration hint', async () => {
    const file = writeCatalog(`apiVersion: backstage.io/v1beta2
kind: Template
metadata: { name: old }
spec: { owner: team-a, type: service, parameters: {}, steps: [] }
`);
    const issue = only((await readCatalogFile(file)).issues);
    assert.equal(issue.code, 'kind-unsupported');
    assert.equal(issue.field, 'apiVersion');
    assert.match(issue.message, /scaffolder\.backstage\.io\/v1beta3/);
  });

  test('rejects a built-in kind spelled in another case', async () => {
    const file = writeCatalog(SVC_B.replace('kind: Component', 'kind: component'));
    const issue = only((await readCatalogFile(file)).issues);
    assert.equal(issue.field, 'kind');
    assert.match(issue.message, /write 'Component'/);
  });

  test('defaults the namespace', async () => {
    const result = await readCatalogFile(writeCatalog(SVC_B));
    assert.equal(result.entities[0]?.entity.metadata.namespace, 'default');
  });
});

describe('readCatalogFile search keys', () => {
  const annotated = (file: string) => ({
    locationAnnotations: { type: 'file', originTarget: path.join(folder, '*.yaml') },
    scope: createTargetScope(file),
  });

  test('returns the search rows of the entity', async () => {
    const result = await readCatalogFile(writeCatalog(SVC_B));
    const rows = result.entities[0]?.search.rows ?? [];
    const pairs: string[] = [];
    for (let index = 0; index < rows.length; index += 2) {
      pairs.push(`${rows[index]}=${rows[index + 1]}`);
    }
    assert.ok(pairs.includes('spec.owner=team-x'), pairs.join(' '));
    assert.ok(pairs.includes('metadata.name=svc-b'), pairs.join(' '));
    assert.ok(!pairs.some((pair) => pair.startsWith('metadata.uid=')), pairs.join(' '));
  });

  test('rejects keys that differ only in case', async () => {
    const file = writeCatalog(
      SVC_B.replace(
        'metadata: { name: svc-b }',
        'metadata: { name: svc-b, labels: { Tier: a, tier: b } }',
      ),
    );
    const result = await readCatalogFile(file);
    assert.equal(result.entities.length, 0);
    const issue = only(result.issues);
    assert.equal(issue.code, 'entity-invalid');
    assert.match(issue.message, /differ only in case \('metadata\.labels\.tier'\)/);
  });

  test('adds the location annotations when asked', async () => {
    const file = writeCatalog(SVC_B);
    const result = await readCatalogFile(file, annotated(file));
    const annotations = result.entities[0]?.entity.metadata.annotations ?? {};
    assert.equal(annotations['backstage.io/managed-by-location'], `file:${file}`);
    assert.equal(
      annotations['backstage.io/managed-by-origin-location'],
      `file:${path.join(folder, '*.yaml')}`,
    );
    const rows = result.entities[0]?.search.rows ?? [];
    const at = rows.indexOf('metadata.annotations.backstage.io/managed-by-location');
    assert.equal(rows[at + 1], `file:${file}`.toLowerCase());
  });

  test('checks keys with the location annotations in place', async () => {
    const text = SVC_B.replace(
      'metadata: { name: svc-b }',
      "metadata: { name: svc-b, annotations: { 'backstage.io/Managed-By-Location': 'url:x' } }",
    );
    const file = writeCatalog(text);
    assert.equal((await readCatalogFile(file)).entities.length, 1);

    const result = await readCatalogFile(file, annotated(file));
    assert.equal(result.entities.length, 0);
    assert.match(only(result.issues).message, /managed-by-location/);
  });
});

describe('readCatalogFile placeholders', () => {
  const api = (definition: string) => `apiVersion: backstage.io/v1alpha1
kind: API
metadata: { name: orders }
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    ${definition}
`;

  test('reads $text, $json and $yaml beside the file', async () => {
    writeCatalog('openapi: 3.0.0\n', 'placeholders/spec.txt');
    writeCatalog('{"a": [1, 2]}', 'placeholders/data.json');
    writeCatalog('b: { c: true }\n', 'placeholders/nested/data.yaml');
    const file = writeCatalog(
      `${api('$text: ./spec.txt')}  extra:\n    json: { $json: data.json }\n    yaml: { $yaml: ./nested/data.yaml }\n`,
      'placeholders/api.yaml',
    );
    const result = await readCatalogFile(file);
    assert.deepEqual(result.issues, []);
    const spec = result.entities[0]?.entity.spec as Record<string, unknown>;
    assert.equal(spec.definition, 'openapi: 3.0.0\n');
    assert.deepEqual(spec.extra, { json: { a: [1, 2] }, yaml: { b: { c: true } } });
    assert.equal(result.dependencies.length, 3);
  });

  const failures: Array<[string, string, RegExp]> = [
    ['a missing file', '$text: ./missing.txt', /does not exist/],
    ['a URL', '$text: https://example.com/spec', /reading URLs is not supported/],
    ['a .. escape', '$text: ../outside.txt', /outside the folder/],
    ['an absolute path outside', '$text: /etc/hostname', /outside the folder/],
  ];
  for (const [name, placeholder, message] of failures) {
    test(`rejects ${name} on that entity`, async () => {
      writeCatalog('outside\n', 'outside.txt');
      const file = writeCatalog(`${api(placeholder)}---\n${SVC_B}`, `escape-${counter}/api.yaml`);
      const result = await readCatalogFile(file);
      assert.deepEqual(
        result.entities.map((entity) => entity.ref),
        ['component:default/svc-b'],
      );
      const issue = only(result.issues);
      assert.equal(issue.code, 'placeholder-failed');
      assert.equal(issue.entityRef, 'api:default/orders');
      assert.equal(issue.field, 'spec.definition');
      assert.equal(issue.line, 8);
      assert.match(issue.message, message);
    });
  }

  test('rejects a symbolic link that leads outside', async () => {
    const secret = writeCatalog('secret\n', 'secret.txt');
    const file = writeCatalog(api('$text: ./link.txt'), 'linked/api.yaml');
    symlinkSync(secret, path.join(path.dirname(file), 'link.txt'));
    const issue = only((await readCatalogFile(file)).issues);
    assert.equal(issue.field, 'spec.definition');
    assert.match(issue.message, /symbolic link/);
    assert.match(issue.message, /link\.txt/);
  });

  test('leaves other $-keys alone', async () => {
    const result = await readCatalogFile(
      writeCatalog(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: svc-c }
spec:
  type: service
  lifecycle: production
  owner: team-x
  schema: { $ref: '#/definitions/x' }
`),
    );
    assert.deepEqual(result.issues, []);
    const spec = result.entities[0]?.entity.spec as Record<string, unknown> | undefined;
    assert.deepEqual(spec?.schema, {
      $ref: '#/definitions/x',
    });
  });
});

describe('readCatalogFile Location targets', () => {
  test('resolves relative targets against the file folder', async () => {
    const file = writeCatalog(
      `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: { name: root }
spec:
  type: url
  targets: [./a.yaml, b/c.yaml, ../d.yaml, 'https://example.com/x.yaml']
`,
      'locations/root.yaml',
    );
    const result = await readCatalogFile(file);
    const base = path.join(folder, 'locations');
    assert.deepEqual(
      result.entities[0]?.targets.map((target) => target.target),
      [path.join(base, 'a.yaml'), path.join(base, 'b/c.yaml'), path.join(folder, 'd.yaml')],
    );
    const issue = only(result.entities[0]?.issues ?? []);
    assert.equal(issue.code, 'location-unsupported');
    assert.equal(issue.field, 'spec.targets[3]');
    assert.match(issue.message, /^URL locations are not supported/);
  });

  test('reports a location type it does not read', async () => {
    const file = writeCatalog(`apiVersion: backstage.io/v1alpha1
kind: Location
metadata: { name: discovery }
spec: { type: github-discovery, target: 'https://github.com/o/r/blob/-/catalog-info.yaml' }
`);
    const result = await readCatalogFile(file);
    assert.equal(result.entities.length, 1);
    const issue = only(result.entities[0]?.issues ?? []);
    assert.equal(issue.field, 'spec.target');
    assert.match(issue.message, /location type 'github-discovery'/);
  });
});

describe('readCatalogFile kind rules', () => {
  const ORG = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: admins }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: mallory }
spec: { memberOf: [admins] }
---
${SVC_B}`;

  test('rejects User and Group without a rule', async () => {
    const file = writeCatalog(ORG);
    const result = await readCatalogFile(file);

    assert.deepEqual(
      result.entities.map((entity) => entity.ref),
      ['component:default/svc-b'],
    );
    assert.deepEqual(
      result.issues.map((issue) => `${issue.code} ${issue.entityRef} ${issue.field}`),
      ['kind-not-allowed group:default/admins kind', 'kind-not-allowed user:default/mallory kind'],
    );
    const message = result.issues[1]?.message ?? '';
    assert.match(message, /^kind 'User' is not allowed in /);
    assert.ok(message.includes(file), message);
    assert.match(message, /rules: \[\{ allow: \[User, Group\] \}\]/);
    assert.match(message, /identity provider/);
  });

  test('accepts User and Group that a location rule allows', async () => {
    const file = writeCatalog(ORG);
    const result = await readCatalogFile(file, {
      kindPolicy: createKindPolicy(undefined, [{ allow: ['user', 'GROUP'] }]),
    });

    assert.deepEqual(result.issues, []);
    assert.equal(result.entities.length, 3);
  });

  const policies: ReadonlyArray<{
    name: string;
    global?: Array<{ allow: string[] }>;
    location?: Array<{ allow: string[] }>;
    allowed: string[];
    denied: string[];
  }> = [
    { name: 'no rules', allowed: ['Component', 'Plugin', 'Location'], denied: ['User', 'Group'] },
    {
      name: 'a location rule',
      location: [{ allow: ['Group'] }],
      allowed: ['Component', 'Group'],
      denied: ['User'],
    },
    {
      name: 'global rules',
      global: [{ allow: ['Component'] }],
      allowed: ['Component'],
      denied: ['Plugin', 'User', 'Group'],
    },
    {
      name: 'global and location rules',
      global: [{ allow: ['Component'] }],
      location: [{ allow: ['User'] }],
      allowed: ['Component', 'User'],
      denied: ['Group', 'API'],
    },
  ];
  for (const { name, global, location, allowed, denied } of policies) {
    test(`isKindAllowed with ${name}`, () => {
      const policy = createKindPolicy(global, location);
      for (const kind of allowed) {
        assert.equal(isKindAllowed(kind, policy), true, `${kind} is allowed`);
      }
      for (const kind of denied) {
        assert.equal(isKindAllowed(kind, policy), false, `${kind} is denied`);
      }
    });
  }
});

describe('readCatalogFile Location target scope', () => {
  const locationFile = (targets: string[]) => `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: { name: scoped }
spec:
  targets: [${targets.map((target) => `'${target}'`).join(', ')}]
`;

  test('rejects targets outside the config folder', async () => {
    const file = writeCatalog(
      locationFile([
        './inside.yaml',
        '../../etc/passwd',
        '/etc/passwd',
        './sub/*.yaml',
        '../*.yaml',
      ]),
      'scoped/root/all.yaml',
    );
    const scope = createTargetScope(file);
    const result = await readCatalogFile(file, { scope });
    const entity = result.entities[0];
    const root = path.join(folder, 'scoped/root');

    assert.deepEqual(
      entity?.targets.map((target) => target.target),
      [path.join(root, 'inside.yaml'), path.join(root, 'sub/*.yaml')],
    );
    assert.deepEqual(
      entity?.issues.map((issue) => `${issue.code} ${issue.field}`),
      [
        'location-outside-folder spec.targets[1]',
        'location-outside-folder spec.targets[2]',
        'location-outside-folder spec.targets[4]',
      ],
    );
    const message = entity?.issues[0]?.message ?? '';
    assert.ok(
      message.startsWith(
        `spec.targets[1] '../../etc/passwd' resolves to ${path.join(folder, 'etc/passwd')},`,
      ),
      message,
    );
    assert.ok(message.includes(`outside the folder ${root} of config location ${file}`), message);
  });
});

describe('readCatalogFile content in messages', () => {
  test('quotes nothing of a document that is not a mapping', async () => {
    const result = await readCatalogFile(
      writeCatalog('root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin\n'),
    );
    const issue = only(result.issues);

    assert.equal(issue.code, 'document-not-mapping');
    assert.match(issue.message, /^document 0 is a string, not a mapping/);
    assert.ok(!issue.message.includes('root:x'), issue.message);
  });

  test('quotes nothing of a YAML syntax error', async () => {
    const result = await readCatalogFile(
      writeCatalog('kind: Component\nsecret: |hunter2-token\n  x\n'),
    );
    const issue = only(result.issues);

    assert.equal(issue.code, 'yaml-invalid');
    assert.equal(issue.line, 2);
    assert.match(issue.message, /not valid YAML \(line 2, column 10\)/);
    assert.match(issue.message, /UNEXPECTED_TOKEN/);
    assert.ok(!issue.message.includes('hunter2'), issue.message);
  });
});

describe('readCatalogFile NUL characters', () => {
  const cases: ReadonlyArray<[string, string, string]> = [
    ['an escaped NUL in a value', 'description: "before\\0after"', 'metadata.description'],
    ['a raw NUL in a value', 'description: before\u0000after', 'metadata.description'],
    ['a NUL in a key', 'labels: { "a\\x00b": x }', 'metadata.labels'],
  ];
  for (const [name, line, field] of cases) {
    test(`rejects ${name} on that entity only`, async () => {
      const file = writeCatalog(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-nul
  ${line}
spec: { type: service, lifecycle: production, owner: team-x }
---
${SVC_B}`);
      const result = await readCatalogFile(file);

      assert.deepEqual(
        result.entities.map((entity) => entity.ref),
        ['component:default/svc-b'],
      );
      const issue = only(result.issues);
      assert.equal(issue.code, 'entity-invalid');
      assert.equal(issue.field, field);
      assert.equal(issue.docIndex, 0);
      assert.match(issue.message, /contains a NUL character \(U\+0000\)/);
      for (const [key, value] of Object.entries(issue)) {
        assert.ok(!String(value).includes('\u0000'), `${key} holds no NUL`);
      }
    });
  }

  test('rejects a NUL that a placeholder reads', async () => {
    writeCatalog('text with a \u0000 inside\n', 'nul-placeholder/spec.txt');
    const file = writeCatalog(
      `apiVersion: backstage.io/v1alpha1
kind: API
metadata: { name: nul-api }
spec: { type: openapi, lifecycle: production, owner: team-a, definition: { $text: ./spec.txt } }
`,
      'nul-placeholder/api.yaml',
    );
    const issue = only((await readCatalogFile(file)).issues);

    assert.equal(issue.code, 'entity-invalid');
    assert.equal(issue.entityRef, 'api:default/nul-api');
    assert.equal(issue.field, 'spec.definition');
  });
});

describe('readCatalogFile alias bombs', () => {
  /** "Billion laughs": ten levels of nine aliases each expand to 9^10 strings. */
  function billionLaughs(): string {
    let text = 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: lol\n';
    text += '  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let level = 1; level < 10; level++) {
      text += `  a${level}: &a${level} [${Array(9)
        .fill(`*a${level - 1}`)
        .join(', ')}]\n`;
    }
    return text;
  }

  test('fails fast on both parsers', () => {
    const text = billionLaughs();
    const started = performance.now();
    const fast = loadDocumentsFast(text);
    const parsed = parseYamlDocuments(text);
    const elapsed = performance.now() - started;

    assert.equal(fast, undefined);
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? '' : parsed.message, /aliases .* more than 100 times/);
    assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  });

  test('reports the file and keeps reading other files', async () => {
    const issue = only((await readCatalogFile(writeCatalog(billionLaughs()))).issues);

    assert.equal(issue.code, 'yaml-invalid');
    assert.match(issue.message, /billion laughs/);
  });

  test('rejects a bomb that $yaml reads', async () => {
    writeCatalog(billionLaughs(), 'bomb-placeholder/data.yaml');
    const file = writeCatalog(
      `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: bomb-holder }
spec: { type: service, lifecycle: production, owner: team-x, extra: { $yaml: ./data.yaml } }
`,
      'bomb-placeholder/component.yaml',
    );
    const issue = only((await readCatalogFile(file)).issues);

    assert.equal(issue.code, 'placeholder-failed');
    assert.match(issue.message, /more than 100 times/);
  });

  test('gives line 1 to a fault of a file the lines parser rejects', () => {
    const lines = new FileLines(billionLaughs());

    assert.equal(lines.documentLine(0), 1);
    assert.equal(lines.lineOf(0, ['metadata', 'name']), 1);
  });
});

describe('readCatalogFile special files and size limits', () => {
  const component = (name: string, spec = '') => `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ${name} }
spec: { type: service, lifecycle: production, owner: team-x${spec} }
`;

  test('reports a FIFO without waiting for a writer', { timeout: 5000 }, async () => {
    const fifo = path.join(folder, 'catalog.fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const issue = only((await readCatalogFile(fifo)).issues);

    assert.equal(issue.code, 'file-unreadable');
    assert.match(issue.message, /is a FIFO \(named pipe\), not a regular file/);
  });

  const placeholderTargets: ReadonlyArray<[string, (dir: string) => void, RegExp]> = [
    ['a FIFO', (dir) => execFileSync('mkfifo', [path.join(dir, 'target')]), /a FIFO/],
    ['a folder', (dir) => mkdirSync(path.join(dir, 'target')), /a folder, not a regular file/],
  ];
  for (const [name, create, message] of placeholderTargets) {
    test(`rejects a placeholder that names ${name}`, { timeout: 5000 }, async () => {
      const file = writeCatalog(
        component('placeholder-special', ', extra: { $text: ./target }'),
        `special-${name.replace(' ', '-')}/component.yaml`,
      );
      create(path.dirname(file));
      const issue = only((await readCatalogFile(file)).issues);

      assert.equal(issue.code, 'placeholder-failed');
      assert.match(issue.message, message);
    });
  }

  test('rejects a catalog file over the size limit', async () => {
    const file = writeCatalog(`${component('big')}# ${'x'.repeat(200)}\n`);
    const issue = only((await readCatalogFile(file, { maxFileBytes: 100 })).issues);

    assert.equal(issue.code, 'file-too-large');
    assert.match(
      issue.message,
      /more than the limit of 100 bytes set by catalog\.limits\.maxFileBytes/,
    );
  });

  test('rejects a placeholder file over the size limit', async () => {
    writeCatalog('y'.repeat(101), 'big-placeholder/spec.txt');
    const file = writeCatalog(
      component('big-spec', ', extra: { $text: ./spec.txt }'),
      'big-placeholder/component.yaml',
    );
    const result = await readCatalogFile(file, { maxPlaceholderFileBytes: 100 });
    const issue = only(result.issues);

    assert.equal(issue.code, 'placeholder-failed');
    assert.match(
      issue.message,
      /101 bytes, more than the limit of 100 bytes set by catalog\.limits\.maxPlaceholderFileBytes/,
    );
  });
});

describe('readCatalogFile encodings', () => {
  test('reads UTF-8 with a byte order mark and CRLF line ends', async () => {
    const text =
      `\ufeff${SVC_B}---\r\n${SVC_B.replace('svc-b', 'svc-c').replace('lifecycle: production, ', '')}`
        .replaceAll('\n', '\r\n')
        .replaceAll('\r\r\n', '\r\n');
    const result = await readCatalogFile(writeCatalog(text));

    assert.deepEqual(
      result.entities.map((entity) => entity.ref),
      ['component:default/svc-b'],
    );
    const issue = only(result.issues);
    assert.equal(issue.field, 'spec.lifecycle');
    assert.equal(issue.line, 9);
  });

  const invalid: ReadonlyArray<[string, Buffer, RegExp]> = [
    [
      'UTF-16LE with a byte order mark',
      Buffer.from(`\ufeff${SVC_B}`, 'utf16le'),
      /is UTF-16LE \(byte order mark FF FE\), not UTF-8/,
    ],
    ['UTF-16LE without a byte order mark', Buffer.from(SVC_B, 'utf16le'), /apparently UTF-16LE/],
    [
      'Latin-1',
      Buffer.from(SVC_B.replace('owner: team-x', 'owner: équipe'), 'latin1'),
      /not valid UTF-8: byte 0xE9 at line 4, column 54 .*Latin-1/,
    ],
  ];
  for (const [name, bytes, message] of invalid) {
    test(`reports a file in ${name}`, async () => {
      const file = path.join(folder, `encoding-${++counter}.yaml`);
      writeFileSync(file, bytes);
      const result = await readCatalogFile(file);
      const issue = only(result.issues);

      assert.equal(result.entities.length, 0);
      assert.equal(result.failed, true);
      assert.equal(issue.code, 'file-encoding-invalid');
      assert.match(issue.message, message);
    });
  }
});
