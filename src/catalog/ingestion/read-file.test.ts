import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { CatalogIssue } from './issues.js';
import { allowedKinds } from './kind-rules.js';
import { readCatalogFile } from './read-file.js';

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
      allowedKinds: allowedKinds([{ allow: ['Component'] }], undefined),
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
    const kinds = allowedKinds([{ allow: ['Component'] }], [{ allow: ['group'] }]);
    assert.deepEqual([...(kinds ?? [])], ['component', 'group']);
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
