/**
 * A separate process for the concurrency test: appends records to the
 * database given as JSON in argv[2], `count` (argv[3]) times, each in its own
 * transaction, then prints "done". Not part of the portal.
 */
import { pino } from 'pino';
import type { DatabaseConfig } from '../config/index.js';
import { connectDatabase } from '../database/index.js';
import { testAuditConfig } from './test-helpers.js';
import { createAuditTrail } from './trail.js';

const [configJson, countText, label] = process.argv.slice(2);
if (!configJson || !countText || !label) {
  console.error('usage: test-appender.ts <database config JSON> <count> <label>');
  process.exit(2);
}

const database = connectDatabase(JSON.parse(configJson) as DatabaseConfig);
const trail = createAuditTrail({
  database,
  config: testAuditConfig(),
  logger: pino({ level: 'silent' }),
  keys: { publicKeys: new Map() },
});
try {
  for (let index = 0; index < Number(countText); index += 1) {
    await trail.append(database.db, {
      actor: `service:${label}`,
      action: 'test.concurrent',
      outcome: 'succeeded',
      details: { index },
    });
  }
  console.log('done');
} finally {
  await database.destroy();
}
