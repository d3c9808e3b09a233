import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { describeEachDialect } from '../../test/support/databases.js';
import { PROJECT_ROOT } from '../../test/support/portal.js';
import {
  type CommandStreams,
  parseTimeBound,
  runAuditCheckpoint,
  runAuditExport,
  runAuditPrune,
  runAuditPublicKey,
  runAuditVerify,
} from './cli.js';
import { CSV_COLUMNS } from './export.js';
import { appendTestRecords, openTestTrail, type TestTrail } from './test-helpers.js';

/** Streams that keep what a command writes. */
function captureStreams(): CommandStreams & { text(): string; errorText(): string } {
  const chunks: string[] = [];
  const errorChunks: string[] = [];
  const collect = (target: string[]) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        target.push(chunk.toString());
        callback();
      },
    });
  return {
    output: collect(chunks),
    errors: collect(errorChunks),
    text: () => chunks.join(''),
    errorText: () => errorChunks.join(''),
  };
}

describe('parseTimeBound', () => {
  const now = new Date('2025-03-01T00:00:00.000Z');
  const cases: Array<[string, string]> = [
    ['2025-01-31', '2025-01-31T00:00:00.000Z'],
    ['2025-01-31T12:30:00Z', '2025-01-31T12:30:00.000Z'],
    ['2025-01-31T12:30:00+02:00', '2025-01-31T10:30:00.000Z'],
    ['30d', '2025-01-30T00:00:00.000Z'],
    ['12h', '2025-02-28T12:00:00.000Z'],
  ];
  for (const [text, expected] of cases) {
    test(`reads ${text}`, () => {
      assert.equal(parseTimeBound('--since', text, now).toISOString(), expected);
    });
  }

  test('rejects a time without zone', () => {
    assert.throws(
      () => parseTimeBound('--since', '2025-01-31T12:30', now),
      /--since '2025-01-31T12:30' is not a time/,
    );
  });
});

describeEachDialect('audit commands', (context) => {
  let folder: string;
  let configFile: string;
  let keyFile: string;
  let opened: TestTrail;

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'audit-cli-'));
    configFile = path.join(folder, 'app-config.yaml');
    keyFile = path.join(folder, 'audit-key.pem');
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  /** Ten records and a checkpoint of the first eight, signed with the key the config names. */
  async function setUp(audit: Record<string, unknown> = {}): Promise<void> {
    opened = await openTestTrail(context.handle());
    const privateKey = opened.keys.signer?.privateKey;
    assert.ok(privateKey);
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const config = {
      database: context.database().config,
      permission: { rolesFile: path.join(PROJECT_ROOT, 'examples', 'roles.yaml') },
      audit: { signing: { privateKeyFile: keyFile }, ...audit },
    };
    writeFileSync(configFile, JSON.stringify(config));
    await appendTestRecords(context.handle(), opened, 8);
    await opened.trail.checkpoint();
    await appendTestRecords(context.handle(), opened, 2);
  }

  test('verify passes an intact trail', async () => {
    await setUp();
    const streams = captureStreams();

    const code = await runAuditVerify({ config: [configFile], format: 'text' }, streams);

    assert.equal(code, 0, streams.errorText());
    assert.match(
      streams.text(),
      /10 records \(1 to 10\), 1 signed checkpoint or marker checked with 1 public key\./,
    );
    assert.match(streams.text(), /Verification passed\./);
  });

  test('verify fails and names the record', async () => {
    await setUp();
    await sql`update audit_records set reason = 'edited' where sequence = 7`.execute(
      context.handle().db,
    );
    const streams = captureStreams();

    const code = await runAuditVerify({ config: [configFile], format: 'json' }, streams);

    assert.equal(code, 1);
    const report = JSON.parse(streams.text()) as {
      ok: boolean;
      problems: Array<{ sequence: number }>;
    };
    assert.equal(report.ok, false);
    assert.equal(report.problems[0]?.sequence, 7);
  });

  test('verify with another public key fails', async () => {
    await setUp();
    const other = path.join(folder, 'other.pub.pem');
    const { publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(other, publicKey.export({ format: 'pem', type: 'spki' }));
    const streams = captureStreams();

    const code = await runAuditVerify(
      { config: [configFile], publicKey: [other], format: 'text' },
      streams,
    );

    assert.equal(code, 1);
    assert.match(streams.text(), /not among the 1 accepted public keys/);
  });

  test('verify reports a missing key file', async () => {
    await setUp();
    rmSync(keyFile);
    const streams = captureStreams();

    const code = await runAuditVerify({ config: [configFile], format: 'text' }, streams);

    assert.equal(code, 2);
    assert.match(
      streams.errorText(),
      /audit\.signing\.privateKeyFile: .*audit-key\.pem cannot be read/,
    );
    assert.match(streams.errorText(), /openssl genpkey -algorithm ed25519/);
  });

  test('verify reports a missing public key file', async () => {
    await setUp();
    const missing = path.join(folder, 'missing-public.pem');
    const streams = captureStreams();

    const code = await runAuditVerify(
      { config: [configFile], publicKey: [missing], format: 'text' },
      streams,
    );

    assert.equal(code, 2);
    assert.match(streams.errorText(), /--public-key: .*missing-public\.pem cannot be read/);
    assert.match(streams.errorText(), /backstage-luigi audit public-key > .*missing-public\.pem/);
    assert.match(streams.errorText(), /openssl pkey -in PRIVATE-KEY\.pem -pubout/);
    assert.doesNotMatch(streams.errorText(), /genpkey/);
  });

  test('export writes JSON lines of a range', async () => {
    await setUp();
    const streams = captureStreams();

    const code = await runAuditExport(
      {
        config: [configFile],
        since: '2025-01-01T00:00:02Z',
        until: '2025-01-01T00:00:05Z',
        format: 'jsonl',
      },
      streams,
    );

    assert.equal(code, 0, streams.errorText());
    const lines = streams.text().trim().split('\n');
    const sequences = lines.map((line) => (JSON.parse(line) as { sequence: number }).sequence);
    assert.deepEqual(sequences, [3, 4, 5]);
    assert.match(streams.errorText(), /Exported 3 audit records/);
  });

  test('export writes CSV to a file', async () => {
    await setUp();
    const file = path.join(folder, `export-${context.dialect}.csv`);
    rmSync(file, { force: true });
    const streams = captureStreams();

    const code = await runAuditExport(
      { config: [configFile], format: 'csv', output: file },
      streams,
    );

    assert.equal(code, 0, streams.errorText());
    const rows = readFileSync(file, 'utf8').trimEnd().split('\r\n');
    assert.equal(rows[0], CSV_COLUMNS.join(','));
    assert.equal(rows.length, 11);
    assert.match(rows[1] ?? '', /^1,2025-01-01T00:00:00\.000Z,user:default\/user-0,test\.action,/);
    assert.match(rows[1] ?? '', /"\{""index"":0\}"/);
  });

  test('export never overwrites a file', async () => {
    await setUp();
    const file = path.join(folder, `existing-${context.dialect}.jsonl`);
    writeFileSync(file, 'kept\n');
    const streams = captureStreams();

    const code = await runAuditExport(
      { config: [configFile], format: 'jsonl', output: file },
      streams,
    );

    assert.equal(code, 2);
    assert.match(streams.errorText(), /cannot be created \(EEXIST\)/);
    assert.equal(readFileSync(file, 'utf8'), 'kept\n');
  });

  test('export rejects a bad time', async () => {
    await setUp();
    const streams = captureStreams();

    const code = await runAuditExport(
      { config: [configFile], since: 'yesterday', format: 'jsonl' },
      streams,
    );

    assert.equal(code, 2);
    assert.match(streams.errorText(), /--since 'yesterday' is not a time/);
  });

  test('export rejects an unknown format', async () => {
    await setUp();
    const streams = captureStreams();

    const code = await runAuditExport({ config: [configFile], format: 'xml' }, streams);

    assert.equal(code, 2);
    assert.match(streams.errorText(), /--format 'xml' is not supported: use jsonl or csv/);
  });

  test('prune dry run reports the range', async () => {
    await setUp({ retention: '1h' });
    const streams = captureStreams();

    const code = await runAuditPrune(
      { config: [configFile], dryRun: true },
      streams,
      () => new Date('2025-01-01T02:00:00.000Z'),
    );

    assert.equal(code, 0, streams.errorText());
    assert.match(streams.text(), /Prune would remove 8 records up to record 8/);
  });

  test('prune without retention explains the setting', async () => {
    await setUp();
    const streams = captureStreams();

    const code = await runAuditPrune({ config: [configFile] }, streams);

    assert.equal(code, 2);
    assert.match(streams.errorText(), /audit\.retention is not set/);
  });

  test('checkpoint signs the head', async () => {
    await setUp();
    const streams = captureStreams();

    const code = await runAuditCheckpoint({ config: [configFile] }, streams);

    assert.equal(code, 0, streams.errorText());
    assert.match(streams.text(), /Signed checkpoint of record 10 with key [0-9a-f]{16}/);
  });

  test('public-key prints the PEM', async () => {
    await setUp();
    const streams = captureStreams();

    const code = runAuditPublicKey({ config: [configFile] }, streams);

    assert.equal(code, 0, streams.errorText());
    assert.match(streams.text(), /^-----BEGIN PUBLIC KEY-----\n/);
  });
});
