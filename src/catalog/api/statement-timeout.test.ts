import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  type ListeningCatalogApi,
  listenCatalogApi,
} from '../../../test/fixtures/catalog-api/fixture.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import { connectDatabase, type DatabaseHandle } from '../../database/index.js';

const TIMEOUT_MS = 300;

/**
 * A query that waits on a lock held by another session runs into the
 * statement timeout, as a slow query does, so the API responds 503 and frees
 * the pooled connection. SQLite has no statement timeout.
 */
describeEachDialect('catalog API statement timeout', (context) => {
  // SQLite has no statement timeout, so the suite exists on PostgreSQL only.
  if (context.dialect !== 'postgres') {
    return;
  }
  // A suite of its own, so its after() closes the pool before the database is dropped.
  describe('with a timeout of 300 ms', () => {
    let handle: DatabaseHandle;
    let api: ListeningCatalogApi;

    before(async () => {
      const { config } = context.database();
      handle = connectDatabase(
        config.client === 'pg' ? { ...config, statementTimeoutMs: TIMEOUT_MS } : config,
      );
      api = await listenCatalogApi(handle);
    });
    after(async () => {
      await api?.app.close();
      await handle?.destroy();
    });

    test('locked table answers 503 and recovers', async () => {
      const { config } = context.database();
      const locker = new pg.Client({ connectionString: config.connection as string });
      await locker.connect();
      try {
        await locker.query('begin');
        await locker.query('lock table catalog_entities in access exclusive mode');

        // More requests than the pool has connections (10), and each must still get a response.
        const started = performance.now();
        const responses = await Promise.all(
          Array.from({ length: 12 }, () => api.request('admin', '/entities?limit=5')),
        );
        const elapsed = performance.now() - started;

        for (const response of responses) {
          const body = (await response.json()) as { error: { code: string; message: string } };
          assert.equal(response.status, 503);
          assert.equal(body.error.code, 'DATABASE_TIMEOUT');
          assert.match(body.error.message, /statement timeout: narrow the request/);
        }
        assert.ok(elapsed < 10 * TIMEOUT_MS, `answered after ${Math.round(elapsed)} ms`);
      } finally {
        await locker.query('rollback');
        await locker.end();
      }

      const response = await api.request('admin', '/entities?limit=5');
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as unknown[]).length, 5);
    });
  });
});
