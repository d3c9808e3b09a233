import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import {
  CATALOG_API_BROKEN_FILE,
  CATALOG_API_CATALOG_FILE,
  type ListeningCatalogApi,
  listenCatalogApi,
} from '../../../test/fixtures/catalog-api/fixture.js';
import { describeEachDialect } from '../../../test/support/databases.js';

/** Characters no parameter may contain: NUL, other C0 controls and DEL, percent-encoded. */
const CONTROLS = ['%00', '%01', '%1B', '%7F'];

/** Each query parameter and path segment of the API, with `{}` where the character goes. */
const TARGETS: Array<{ url: string; names: string }> = [
  { url: '/entities?filter=kind=comp{}onent', names: 'filter' },
  { url: '/entities?filter=ki{}nd', names: 'filter' },
  { url: '/entities?fields=metadata.{}name', names: 'fields' },
  { url: '/entities?order=asc:metadata.{}name', names: 'order' },
  { url: '/entities?limit=1{}', names: 'limit' },
  { url: '/entities?offset={}1', names: 'offset' },
  { url: '/entities?after=e30{}', names: 'after' },
  { url: '/entities?x{}y=1', names: 'query parameter name' },
  { url: '/entities/by-query?cursor=e30{}', names: 'cursor' },
  { url: '/entities/by-query?orderField=metadata.{}name,asc', names: 'orderField' },
  { url: '/entities/by-query?fullTextFilterTerm=or{}der', names: 'fullTextFilterTerm' },
  {
    url: '/entities/by-query?fullTextFilterTerm=a&fullTextFilterFields=metadata.{}name',
    names: 'fullTextFilterFields',
  },
  { url: '/entities/by-query?totalItems=incl{}ude', names: 'totalItems' },
  { url: '/entities/by-name/comp{}onent/default/orders', names: 'kind' },
  { url: '/entities/by-name/component/def{}ault/orders', names: 'namespace' },
  { url: '/entities/by-name/component/default/ord{}ers', names: 'name' },
  { url: '/entities/by-uid/{}', names: 'uid' },
  { url: '/entity-facets?facet=k{}ind', names: 'facet' },
  { url: '/entity-facets?facet=kind&filter=kind=a{}', names: 'filter' },
  { url: '/locations/{}x', names: 'id' },
  { url: '/locations/by-entity/component/default/ord{}ers', names: 'name' },
  { url: '/ingestion-errors?entityRef=component:default/{}', names: 'entityRef' },
  { url: '/ingestion-errors?location={}', names: 'location' },
];

describeEachDialect('catalog API control characters over HTTP', (context) => {
  let api: ListeningCatalogApi;

  before(async () => {
    api = await listenCatalogApi(context.handle(), [
      CATALOG_API_CATALOG_FILE,
      CATALOG_API_BROKEN_FILE,
    ]);
  });
  after(async () => {
    await api?.app.close();
  });

  for (const target of TARGETS) {
    test(`400 for control characters in ${target.url.split('{}')[0]}`, async () => {
      for (const control of CONTROLS) {
        const url = target.url.replace('{}', control);
        const response = await api.request('admin', url);
        const body = (await response.json()) as { error: { code: string; message: string } };

        assert.equal(response.status, 400, `${url}: ${body.error.message}`);
        assert.equal(body.error.code, 'INPUT_INVALID', url);
        assert.ok(body.error.message.includes(target.names), `${url}: ${body.error.message}`);
        assert.match(body.error.message, /U\+00(00|01|1B|7F)/, url);
        assert.match(body.error.message, /: remove it$/, url);
      }
    });
  }

  test('400 for NUL in a by-refs body', async () => {
    for (const body of [
      { entityRefs: ['component:default/ord\u0000ers'] },
      { entityRefs: ['component:default/orders'], fields: ['metadata.\u0000name'] },
    ]) {
      const response = await api.request('admin', '/entities/by-refs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = (await response.json()) as { error: { code: string; message: string } };

      assert.equal(response.status, 400, answer.error.message);
      assert.match(
        answer.error.message,
        /^body\.(entityRefs|fields)\[0\] contains a NUL character/,
      );
    }
  });

  test('tab and line feed pass in filter values', async () => {
    const response = await api.request('admin', '/entities?filter=metadata.name=or%09ders%0A');

    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), []);
  });

  test('broken percent-encoding is not a failure', async () => {
    for (const url of [
      '/entities?filter=kind=%E0%A4%A',
      '/entities?filter=kind=%ZZ',
      '/entities?filter=kind=%ED%A0%80',
      '/entities/by-query?fullTextFilterTerm=%C0%80',
      '/entities/by-name/component/default/%E0%A4%A',
      '/entities/by-name/component/default/%ED%A0%80',
      '/locations/%ZZ',
    ]) {
      const response = await api.request('admin', url);
      await response.arrayBuffer();

      assert.ok([200, 400, 404].includes(response.status), `${url}: ${response.status}`);
    }
  });

  test('raw control bytes in the request line are 400', async () => {
    const { port } = new URL(api.baseUrl);
    for (const target of [
      '/api/catalog/entities?filter=kind=a\u0000b',
      '/api/catalog/entities/by-name/component/default/a\u0001b',
      '/api/catalog/entities?filter=kind=a\u007fb',
    ]) {
      const status = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-test-user: admin\r\n\r\n`);
        });
        let received = '';
        socket.on('data', (chunk) => {
          received += chunk.toString('latin1');
          if (received.includes('\r\n')) {
            socket.destroy();
            resolve(received.split('\r\n')[0]!);
          }
        });
        socket.on('error', reject);
        socket.on('close', () => resolve(received.split('\r\n')[0] ?? ''));
      });

      assert.match(status, /^HTTP\/1\.1 400 /, JSON.stringify(target));
    }
  });
});
