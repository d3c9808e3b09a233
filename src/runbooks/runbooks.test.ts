import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import { MAX_RUNBOOKS_PER_ENTITY } from './annotations.js';
import { loadRunbooks } from './runbooks.js';

function entityWith(annotations: Record<string, string>): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'orders', annotations },
    spec: { type: 'service', lifecycle: 'production', owner: 'team-a' },
  };
}

describe('loadRunbooks', () => {
  let folder: string;
  let location: string;

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'runbooks-'));
    mkdirSync(path.join(folder, 'docs'));
    writeFileSync(
      path.join(folder, 'docs', 'restart.md'),
      '# Restart orders\n\nRun `make restart`.\n',
    );
    writeFileSync(path.join(folder, 'docs', 'untitled.md'), 'No heading here.\n');
    location = `file:${path.join(folder, 'catalog-info.yaml')}`;
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  test('renders files and inline text in order', async () => {
    const runbooks = await loadRunbooks(
      entityWith({
        'backstage.io/managed-by-location': location,
        'backstage-luigi.io/runbook': './docs/restart.md, docs/untitled.md',
        'backstage-luigi.io/runbook-inline': '# Escalation\n\nPage the on-call lead.',
      }),
    );
    assert.deepEqual(
      runbooks.map((runbook) => [runbook.title, runbook.source]),
      [
        ['Restart orders', 'file:./docs/restart.md'],
        ['untitled.md', 'file:docs/untitled.md'],
        ['Escalation', 'inline'],
      ],
    );
    assert.match('html' in runbooks[0]! ? runbooks[0].html : '', /<code>make restart<\/code>/);
  });

  test('reports a missing file beside the others', async () => {
    const runbooks = await loadRunbooks(
      entityWith({
        'backstage.io/managed-by-location': location,
        'backstage-luigi.io/runbook': './docs/missing.md,./docs/restart.md',
      }),
    );
    assert.equal(runbooks.length, 2);
    assert.equal('error' in runbooks[0]! && runbooks[0].error.code, 'RUNBOOK_NOT_FOUND');
    assert.ok('html' in runbooks[1]!);
  });

  test('reports files of a non-file location as not supported', async () => {
    const [runbook] = await loadRunbooks(
      entityWith({
        'backstage.io/managed-by-location': 'scim:okta',
        'backstage-luigi.io/runbook': './docs/restart.md',
      }),
    );
    assert.equal('error' in runbook! && runbook.error.code, 'RUNBOOK_LOCATION_UNSUPPORTED');
    assert.match('error' in runbook! ? runbook.error.message : '', /'scim' location/);
  });

  test('reports files without a location annotation', async () => {
    const [runbook] = await loadRunbooks(
      entityWith({ 'backstage-luigi.io/runbook': './docs/restart.md' }),
    );
    assert.equal('error' in runbook! && runbook.error.code, 'RUNBOOK_LOCATION_MISSING');
  });

  test('renders inline text of any location', async () => {
    const [runbook] = await loadRunbooks(
      entityWith({
        'backstage.io/managed-by-location': 'url:https://git.example/catalog-info.yaml',
        'backstage-luigi.io/runbook-inline': 'Call the pager.',
      }),
    );
    assert.deepEqual(runbook, {
      title: 'Runbook',
      source: 'inline',
      html: '<p>Call the pager.</p>\n',
    });
  });

  test('rejects inline text over the size limit', async () => {
    const [runbook] = await loadRunbooks(
      entityWith({ 'backstage-luigi.io/runbook-inline': 'x'.repeat(11) }),
      { maxBytes: 10 },
    );
    assert.equal('error' in runbook! && runbook.error.code, 'RUNBOOK_TOO_LARGE');
  });

  test('lists no runbooks without annotations', async () => {
    assert.deepEqual(await loadRunbooks(entityWith({})), []);
  });

  test('cuts the list at the limit', async () => {
    const paths = Array.from({ length: MAX_RUNBOOKS_PER_ENTITY + 2 }, () => './docs/restart.md');
    const runbooks = await loadRunbooks(
      entityWith({
        'backstage.io/managed-by-location': location,
        'backstage-luigi.io/runbook': paths.join(','),
      }),
    );
    assert.equal(runbooks.length, MAX_RUNBOOKS_PER_ENTITY + 1);
    const last = runbooks.at(-1)!;
    assert.equal('error' in last && last.error.code, 'RUNBOOK_LIMIT_EXCEEDED');
  });
});
