import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { describeEachDialect } from '../../test/support/databases.js';
import { connectDatabase } from '../database/index.js';
import { openTestTrail, testAuditConfig } from './test-helpers.js';
import { createAuditTrail } from './trail.js';

const run = promisify(execFile);
const APPENDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-appender.ts');
const PER_APPENDER = 40;

describeEachDialect('audit concurrent appends', (context) => {
  test('several connections never fork the chain', async () => {
    const opened = await openTestTrail(context.handle());
    const handles = [0, 1, 2].map(() => connectDatabase(context.database().config));
    try {
      const trails = handles.map((database) =>
        createAuditTrail({
          database,
          config: testAuditConfig(),
          logger: pino({ level: 'silent' }),
          keys: { publicKeys: new Map() },
        }),
      );

      // Each connection runs several appends at once, so they also race
      // within one pool.
      await Promise.all(
        trails.flatMap((trail, connection) =>
          Array.from({ length: PER_APPENDER }, (_, index) =>
            trail.append(handles[connection]?.db ?? context.handle().db, {
              actor: `service:connection-${connection}`,
              action: 'test.concurrent',
              outcome: 'succeeded',
              details: { index },
            }),
          ),
        ),
      );

      const report = await opened.trail.verify();
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.records, 3 * PER_APPENDER);
      assert.equal(report.lastSequence, 3 * PER_APPENDER);
    } finally {
      await Promise.all(handles.map((database) => database.destroy()));
    }
  });

  test('verify during appends finds no fault', async () => {
    const opened = await openTestTrail(context.handle());
    const appender = connectDatabase(context.database().config);
    try {
      const trail = createAuditTrail({
        database: appender,
        config: testAuditConfig(),
        logger: pino({ level: 'silent' }),
        keys: { publicKeys: new Map() },
      });
      let appending = true;
      const appends = (async () => {
        for (let index = 0; appending && index < 2_000; index += 1) {
          await trail.append(appender.db, { action: 'test.concurrent', outcome: 'succeeded' });
        }
      })();

      const reports = [];
      for (let round = 0; round < 5; round += 1) {
        reports.push(await opened.trail.verify());
      }
      appending = false;
      await appends;

      for (const report of reports) {
        assert.deepEqual(report.problems, []);
      }
      assert.equal((await opened.trail.verify()).ok, true);
    } finally {
      await appender.destroy();
    }
  });

  test('several processes never fork the chain', async () => {
    const opened = await openTestTrail(context.handle());
    const config = JSON.stringify(context.database().config);

    const outputs = await Promise.all(
      ['a', 'b', 'c'].map((label) =>
        run(process.execPath, ['--import', 'tsx', APPENDER, config, String(PER_APPENDER), label], {
          timeout: 60_000,
        }),
      ),
    );

    for (const output of outputs) {
      assert.equal(output.stdout.trim(), 'done', output.stderr);
    }
    const report = await opened.trail.verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.records, 3 * PER_APPENDER);
    const actors = new Set(
      (await opened.trail.list({ limit: 1000 })).map((record) => record.actor),
    );
    assert.deepEqual([...actors].sort(), ['service:a', 'service:b', 'service:c']);
  });
});
