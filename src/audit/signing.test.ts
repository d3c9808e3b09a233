import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AuditConfig, type DatabaseConfig, loadConfig } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import { defaultSigningKeyFile, GENERATED_KEY_FILE_NAME, loadAuditKeys } from './signing.js';

const DEFAULTS: AuditConfig = { checkpoint: { intervalSeconds: 300 }, signing: { publicKeys: [] } };

function pemOf(type: 'ed25519' | 'rsa'): { privatePem: string; publicPem: string } {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ed25519');
  return {
    privatePem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

describe('audit signing keys', () => {
  let folder: string;
  let database: DatabaseConfig;

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'audit-keys-'));
    database = {
      client: 'better-sqlite3',
      connection: { filename: path.join(folder, 'portal.sqlite') },
    };
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  test('default key is generated once, mode 0600', () => {
    const first = loadAuditKeys(DEFAULTS, database, { generate: true });
    const second = loadAuditKeys(DEFAULTS, database, { generate: true });

    const file = path.join(folder, GENERATED_KEY_FILE_NAME);
    assert.equal(defaultSigningKeyFile(database), file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(first.signer);
    assert.equal(second.signer?.keyId, first.signer.keyId);
    assert.ok(first.publicKeys.has(first.signer.keyId));
  });

  test('PostgreSQL default key lives under ./data', () => {
    const postgres: DatabaseConfig = {
      client: 'pg',
      connection: 'postgres://portal@127.0.0.1/portal',
      pool: { max: 10 },
    };

    assert.equal(
      defaultSigningKeyFile(postgres, '/srv/portal'),
      path.join('/srv/portal', 'data', GENERATED_KEY_FILE_NAME),
    );
  });

  test('verification never generates a key', () => {
    const elsewhere: DatabaseConfig = {
      client: 'better-sqlite3',
      connection: { filename: path.join(folder, 'other', 'portal.sqlite') },
    };

    const keys = loadAuditKeys(DEFAULTS, elsewhere, { generate: false });

    assert.equal(keys.signer, undefined);
    assert.equal(keys.publicKeys.size, 0);
  });

  test('PEM text from the config signs', () => {
    const { privatePem, publicPem } = pemOf('ed25519');
    const other = pemOf('ed25519');

    const keys = loadAuditKeys(
      { ...DEFAULTS, signing: { privateKey: privatePem, publicKeys: [{ pem: other.publicPem }] } },
      database,
      { generate: false },
    );

    assert.ok(keys.signer);
    assert.equal(keys.publicKeys.size, 2);
    assert.ok(publicPem.startsWith('-----BEGIN PUBLIC KEY-----'));
  });

  test('RSA key is rejected', () => {
    const file = path.join(folder, 'rsa.pem');
    writeFileSync(file, pemOf('rsa').privatePem, { mode: 0o600 });

    assert.throws(
      () =>
        loadAuditKeys(
          { ...DEFAULTS, signing: { privateKeyFile: file, publicKeys: [] } },
          database,
          { generate: false },
        ),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.details[0]?.path === 'audit.signing.privateKeyFile' &&
        /is a rsa key, not Ed25519/.test(error.details[0].message),
    );
  });

  test('invalid PEM text is rejected without echoing it', () => {
    const value = 'not-a-key-but-maybe-a-secret';

    assert.throws(
      () =>
        loadAuditKeys({ ...DEFAULTS, signing: { privateKey: value, publicKeys: [] } }, database, {
          generate: false,
        }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /the value is not a PEM private key/.test(error.details[0]?.message ?? '') &&
        !JSON.stringify(error.details).includes(value),
    );
  });

  test('invalid public key names its entry', () => {
    assert.throws(
      () =>
        loadAuditKeys({ ...DEFAULTS, signing: { publicKeys: [{ pem: 'garbage' }] } }, database, {
          generate: false,
        }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.details[0]?.path === 'audit.signing.publicKeys[0].pem',
    );
  });
});

describe('audit config', () => {
  let folder: string;

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'audit-config-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  function load(audit: string, env: Record<string, string> = {}) {
    const file = path.join(folder, 'app-config.yaml');
    writeFileSync(
      file,
      `database:\n  client: better-sqlite3\n  connection: ':memory:'\npermission:\n  rolesFile: ./roles.yaml\n${audit}`,
    );
    return loadConfig([file], { env });
  }

  test('defaults need nothing', () => {
    const { config } = load('');

    assert.deepEqual(config.audit, DEFAULTS);
  });

  test('key file path is resolved against the config file', () => {
    const { config } = load('audit:\n  signing:\n    privateKeyFile: ./keys/audit.pem\n');

    assert.equal(config.audit.signing.privateKeyFile, path.join(folder, 'keys', 'audit.pem'));
  });

  test('key from the environment is read', () => {
    const { privatePem } = pemOf('ed25519');

    const reference = '$' + '{AUDIT_SIGNING_KEY}';
    const { config } = load(`audit:\n  signing:\n    privateKey: ${reference}\n`, {
      AUDIT_SIGNING_KEY: privatePem,
    });

    assert.equal(config.audit.signing.privateKey, privatePem.trim());
  });

  test('retention without unit is rejected', () => {
    assert.throws(
      () => load('audit:\n  retention: "400"\n'),
      (error: unknown) =>
        error instanceof ConfigError &&
        /must be a whole number and a unit/.test(error.details[0]?.message ?? ''),
    );
  });

  test('both key forms are rejected', () => {
    assert.throws(
      () => load('audit:\n  signing:\n    privateKey: x\n    privateKeyFile: ./key.pem\n'),
      (error: unknown) =>
        error instanceof ConfigError &&
        /set either privateKey or privateKeyFile, not both/.test(error.details[0]?.message ?? ''),
    );
  });
});
