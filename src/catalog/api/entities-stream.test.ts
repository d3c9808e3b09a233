import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  ADA_REFS,
  ALL_REFS,
  CATALOG_API_CATALOG_FILE,
  type ListeningCatalogApi,
  listenCatalogApi,
  TEST_USER_HEADER,
} from '../../../test/fixtures/catalog-api/fixture.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import { loadBodies } from './entity-queries.js';
import { detectBytewiseText } from './query-plan.js';

/** More components than one chunk of the streamed list (500), half of them owned by team-a. */
const GENERATED = 1_234;

function refOf(entity: Entity): string {
  return stringifyEntityRef(entity).toLocaleLowerCase('en-US');
}

describeEachDialect('catalog API whole list', (context) => {
  let api: ListeningCatalogApi;
  let folder: string;
  const generatedRefs = Array.from(
    { length: GENERATED },
    (_, index) => `component:default/generated-${String(index).padStart(4, '0')}`,
  );

  before(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'catalog-stream-'));
    const file = path.join(folder, 'generated.yaml');
    writeFileSync(
      file,
      generatedRefs
        .map(
          (_, index) => `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: generated-${String(index).padStart(4, '0')}
spec:
  type: service
  lifecycle: production
  owner: ${index % 2 === 0 ? 'team-a' : 'team-c'}
`,
        )
        .join('---\n'),
    );
    api = await listenCatalogApi(context.handle(), [CATALOG_API_CATALOG_FILE, file]);
  });
  after(async () => {
    await api?.app.close();
    rmSync(folder, { recursive: true, force: true });
  });

  test('list without a limit streams every entity', async () => {
    const response = await api.request('admin', '/entities');

    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(response.headers.get('transfer-encoding'), 'chunked');
    assert.equal(response.headers.get('content-length'), null);
    const refs = ((await response.json()) as Entity[]).map(refOf);
    assert.deepEqual(refs, [...ALL_REFS, ...generatedRefs].sort());
  });

  test('streamed list holds readable entities only', async () => {
    const response = await api.request('ada', '/entities?fields=kind,metadata.name');
    const refs = ((await response.json()) as Entity[]).map((entity) =>
      `${entity.kind}:default/${entity.metadata.name}`.toLocaleLowerCase('en-US'),
    );

    assert.deepEqual(
      refs,
      [...ADA_REFS, ...generatedRefs.filter((_, index) => index % 2 === 0)].sort(),
    );
  });

  test('aborted stream leaves the server answering', async () => {
    // node:http instead of fetch, whose pool opens a spare connection after an abort that would hold up close().
    const received = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${api.baseUrl}/api/catalog/entities`, {
        headers: { [TEST_USER_HEADER]: 'admin' },
      });
      request.on('response', (response) => {
        response.once('data', (chunk: Buffer) => {
          request.destroy();
          resolve(chunk.length);
        });
      });
      request.on('error', reject);
      request.end();
    });

    const next = await api.request('admin', '/entities?limit=3');
    assert.ok(received > 0);
    assert.equal(next.status, 200);
    assert.equal(((await next.json()) as unknown[]).length, 3);
  });

  test('listed entity that no longer matches is left out', async () => {
    const handle = context.handle();
    const query = {
      db: handle.db,
      dialect: handle.dialect,
      bytewiseText: await detectBytewiseText(handle.db, handle.dialect),
    };
    const refs = ['component:default/orders', 'component:default/payments', 'nothing:default/x'];

    const rows = await loadBodies(query, refs, {
      filter: { key: 'relations.ownedBy', values: ['group:default/team-b'] },
    });

    assert.deepEqual(
      rows.map((row) => row.ref),
      ['component:default/payments'],
    );
  });
});
