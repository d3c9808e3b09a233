import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import { describeEachDialect } from '../../test/support/databases.js';
import { HttpClient } from '../../test/support/http-client.js';
import { PROJECT_ROOT, startTestPortal, type TestPortal } from '../../test/support/portal.js';
import { renderRunbookMarkdown } from './render.js';
import type { EntityRunbooks } from './routes.js';
import { loadRunbooks, type Runbook } from './runbooks.js';

/**
 * Hostile runbook paths, files and markdown. Every runbook that cannot be
 * shown must come back as an entry with a code and a message that names the
 * value, and never as a file from outside the catalog file's folder.
 */

function entityWith(annotations: Record<string, string>): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'orders', annotations },
    spec: { type: 'service', lifecycle: 'production', owner: 'team-a' },
  };
}

const SECRET = 'SECRET-OUTSIDE-THE-FOLDER';

describe('runbook files under attack', () => {
  let root: string;
  let folder: string;
  let location: string;

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'runbook-attack-'));
    folder = path.join(root, 'service');
    mkdirSync(path.join(folder, 'docs'), { recursive: true });
    mkdirSync(path.join(root, 'other'));
    writeFileSync(path.join(root, 'outside.md'), `# ${SECRET}\n`);
    writeFileSync(path.join(root, 'other', 'secret.md'), `# ${SECRET}\n`);
    symlinkSync(path.join(root, 'outside.md'), path.join(folder, 'docs', 'link.md'));
    symlinkSync(path.join(root, 'other'), path.join(folder, 'docs', 'linked-folder'));
    symlinkSync('/etc/hostname', path.join(folder, 'docs', 'hostname.md'));
    writeFileSync(path.join(folder, 'docs', '..%2foutside.md'), '# Literal name\n');
    writeFileSync(
      path.join(folder, 'docs', 'binary.md'),
      Buffer.from([0x00, 0xff, 0xfe, 0x3c, 0x73, 0x63, 0x72, 0x69, 0x70, 0x74, 0x3e, 0x00, 0xc3]),
    );
    writeFileSync(path.join(folder, 'docs', 'huge.md'), 'x'.repeat(300 * 1024));
    mkdirSync(path.join(folder, 'docs', 'folder.md'));
    execFileSync('mkfifo', [path.join(folder, 'docs', 'pipe.md')]);
    location = `file:${path.join(folder, 'catalog-info.yaml')}`;
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  async function load(paths: string): Promise<Runbook[]> {
    return await loadRunbooks(
      entityWith({
        'backstage.io/managed-by-location': location,
        'backstage-luigi.io/runbook': paths,
      }),
    );
  }

  function codeOf(runbook: Runbook | undefined): string {
    assert.ok(runbook);
    return 'error' in runbook ? runbook.error.code : 'shown';
  }

  test('paths that leave the folder are refused by name', async () => {
    const cases: Array<[string, string]> = [
      ['../outside.md', 'RUNBOOK_PATH_INVALID'],
      ['docs/../../outside.md', 'RUNBOOK_PATH_INVALID'],
      ['docs\\..\\..\\outside.md', 'RUNBOOK_PATH_INVALID'],
      [path.join(root, 'outside.md'), 'RUNBOOK_PATH_INVALID'],
      ['C:\\outside.md', 'RUNBOOK_PATH_INVALID'],
      ['\\\\server\\share\\outside.md', 'RUNBOOK_PATH_INVALID'],
      ['file:///etc/passwd.md', 'RUNBOOK_PATH_INVALID'],
      ['https://evil.example/runbook.md', 'RUNBOOK_PATH_INVALID'],
      ['//evil.example/runbook.md', 'RUNBOOK_PATH_INVALID'],
      ['./docs/link.md', 'RUNBOOK_PATH_OUTSIDE'],
      ['./docs/linked-folder/secret.md', 'RUNBOOK_PATH_OUTSIDE'],
      ['./docs/hostname.md', 'RUNBOOK_PATH_OUTSIDE'],
      ['./docs/..%2foutside.md', 'shown'],
      ['./docs/%2e%2e/outside.md', 'RUNBOOK_NOT_FOUND'],
      ['./docs/passwd', 'RUNBOOK_PATH_INVALID'],
      ['./docs/x.md\u0000.txt', 'RUNBOOK_PATH_INVALID'],
    ];
    for (const [value, expected] of cases) {
      const [runbook] = await load(value);
      assert.equal(codeOf(runbook), expected, value);
      const text = JSON.stringify(runbook);
      assert.ok(!text.includes(SECRET), `${value} leaked the outside file`);
      if (runbook && 'error' in runbook) {
        assert.ok(runbook.error.message.length > 20, value);
      }
    }
  });

  test('files that are not markdown text are refused or shown as text', async () => {
    const [binary, huge, directory, pipe] = await load(
      './docs/binary.md, ./docs/huge.md, ./docs/folder.md, ./docs/pipe.md',
    );
    assert.equal(codeOf(binary), 'shown');
    assert.ok(binary);
    assert.ok('html' in binary);
    assert.doesNotMatch(binary.html, /<script/i);
    assert.equal(codeOf(huge), 'RUNBOOK_TOO_LARGE');
    assert.equal(codeOf(directory), 'RUNBOOK_UNREADABLE');
    assert.equal(codeOf(pipe), 'RUNBOOK_UNREADABLE');
  });

  test('empty and repeated annotation entries', async () => {
    const runbooks = await load(' , ,./docs/binary.md,,');
    assert.ok(runbooks.length <= 20);
    for (const runbook of runbooks) {
      if ('error' in runbook) {
        assert.match(runbook.error.message, /empty|write a path/);
      }
    }
    const many = await load(Array.from({ length: 5000 }, () => './docs/huge.md').join(','));
    assert.equal(many.length, 21);
    assert.equal(codeOf(many.at(-1)), 'RUNBOOK_LIMIT_EXCEEDED');
  });

  test('inline runbooks cannot smuggle script, styles or huge text', async () => {
    const payloads = [
      '# <img src=x onerror=alert(1)>',
      '[x](javascript:alert(1) "title")',
      '[x]( <javascript:alert(1)> )',
      '[x](data:image/png;base64,AAAA)',
      '![x](data:image/svg+xml,<svg onload=alert(1)>)',
      '![x](DATA:image/png;base64,AAAA" onerror="alert(1))',
      '<a href="javascript:alert(1)">x</a>',
      '[x](\u0001javascript:alert(1))',
      '[x](javascript\u2028:alert(1))',
      '[x](%6A%61%76%61script:alert(1))',
      '| a |\n|:-:|\n| <b onmouseover=alert(1)>b</b> |',
      '```html\n<script>alert(1)</script>\n```',
      `${'> '.repeat(5000)}deep`,
      `${'['.repeat(50_000)}x${'](y)'.repeat(10)}`,
      `${'*a '.repeat(50_000)}`,
    ];
    for (const text of payloads) {
      const started = performance.now();
      const [runbook] = await loadRunbooks(
        entityWith({ 'backstage-luigi.io/runbook-inline': text }),
      );
      const took = performance.now() - started;
      assert.ok(took < 2000, `${text.slice(0, 40)} took ${took} ms`);
      assert.ok(runbook, text.slice(0, 40));
      assert.ok('html' in runbook, text.slice(0, 40));
      assert.doesNotMatch(runbook.html, /<script|<img[^>]* on\w+=|<b |style=/i, text.slice(0, 40));
      assert.doesNotMatch(
        runbook.html,
        /(href|src)="\s*(javascript|vbscript|data:text|data:image\/svg)/i,
      );
    }
    const title = renderRunbookMarkdown('# <img src=x onerror=alert(1)>').title;
    // The title is text: the Entity micro frontend sets it with textContent.
    assert.equal(title, '<img src=x onerror=alert(1)>');
  });
});

const ORGANISATION_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'all.yaml');

describeEachDialect('runbook route under attack', ({ dialect }) => {
  let folder: string;
  let portal: TestPortal;
  let client: HttpClient;

  before(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'runbook-route-attack-'));
    writeFileSync(
      path.join(folder, 'catalog-info.yaml'),
      [
        'apiVersion: backstage.io/v1alpha1',
        'kind: Component',
        'metadata:',
        '  name: orders-service',
        '  annotations:',
        '    backstage-luigi.io/runbook: ./run.md',
        '    backstage.io/managed-by-location: file:/etc/hostname',
        'spec: { type: service, lifecycle: production, owner: booking-team }',
      ].join('\n'),
    );
    writeFileSync(path.join(folder, 'run.md'), '# Orders\n');
    const rolesFile = path.join(folder, 'roles.yaml');
    writeFileSync(
      rolesFile,
      'roles:\n  - name: readers\n    members: [group:engineering]\n    grants:\n      - permission: catalog.entity.read\n      - permission: runbook.read\n',
    );
    portal = await startTestPortal({
      dialect,
      overrides: {
        catalog: {
          locations: [
            { type: 'file', target: ORGANISATION_FILE, rules: [{ allow: ['User', 'Group'] }] },
            { type: 'file', target: path.join(folder, 'catalog-info.yaml') },
          ],
        },
        permission: { rolesFile },
      },
    });
    client = new HttpClient(portal.url);
    await client.signInWithDevelopmentProvider('amara', 'demo', '/');
  });

  after(async () => {
    await portal?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  test('a location annotation in the file does not move the folder', async () => {
    const response = await client.request(
      '/api/runbooks/by-entity/Component/DEFAULT/Orders-Service',
    );
    assert.equal(response.status, 200, response.body);
    const body = JSON.parse(response.body) as EntityRunbooks;
    assert.equal(body.entityRef, 'component:default/orders-service');
    assert.deepEqual(
      body.runbooks.map((runbook) => ('html' in runbook ? runbook.title : runbook.error.code)),
      ['Orders'],
    );
  });

  test('odd entity names in the path are not found', async () => {
    for (const target of [
      'component/default/..%2F..%2Fetc%2Fpasswd',
      'component/default/%2e%2e',
      'component/..%2Fdefault/orders-service',
      'component/default/orders-service%00',
      `component/default/${'x'.repeat(5000)}`,
      'component/default/orders-service/extra',
    ]) {
      const response = await client.request(`/api/runbooks/by-entity/${target}`);
      assert.ok([400, 404, 414].includes(response.status), `${target}: ${response.status}`);
      const error = (JSON.parse(response.body) as { error: { message: string } }).error;
      assert.ok(error.message.length > 0, target);
      assert.ok(!response.body.includes('root:'), target);
    }
    // PostgreSQL rejects a NUL in a compared text, which was a 500 here.
    const nul = await client.request('/api/runbooks/by-entity/component/default/orders-service%00');
    assert.equal(nul.status, 400, nul.body);
    assert.match(
      nul.body,
      /orders-service\\u0000.*is invalid: kind, namespace and name contain only/,
    );
  });
});
