import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../errors/index.js';
import { loadConfig, mergeConfig } from './index.js';

function writeFiles(files: Record<string, string>): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'portal-config-'));
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(path.join(folder, name), text);
  }
  return folder;
}

function configFault(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the config to be rejected');
}

const MINIMAL = `
database:
  client: better-sqlite3
  connection: ':memory:'
permission:
  rolesFile: ./roles.yaml
`;

test('config defaults fill a minimal file', () => {
  const folder = writeFiles({ 'app-config.yaml': MINIMAL });

  const { config } = loadConfig([path.join(folder, 'app-config.yaml')], { env: {} });

  assert.equal(config.app.baseUrl, 'http://localhost:7007');
  assert.equal(config.backend.listen.port, 7007);
  assert.equal(config.catalog.refresh.intervalSeconds, 300);
  assert.equal(config.permission.transitiveGroupOwnership, true);
});

test('config resolves relative paths against the declaring file', () => {
  const folder = writeFiles({
    'app-config.yaml': `${MINIMAL}\ncatalog:\n  locations:\n    - { type: file, target: ./catalog/*.yaml }\n`,
  });

  const { config } = loadConfig([path.join(folder, 'app-config.yaml')], { env: {} });

  assert.equal(config.permission.rolesFile, path.join(folder, 'roles.yaml'));
  assert.equal(config.catalog.locations[0]?.target, path.join(folder, 'catalog', '*.yaml'));
});

test('config merges files in order', () => {
  const folder = writeFiles({
    'app-config.yaml': `${MINIMAL}\napp:\n  title: Base\nbackend:\n  listen:\n    port: 7000\n`,
    'app-config.local.yaml': 'backend:\n  listen:\n    host: 0.0.0.0\napp:\n  title: Local\n',
  });

  const { config } = loadConfig(
    [path.join(folder, 'app-config.yaml'), path.join(folder, 'app-config.local.yaml')],
    { env: {} },
  );

  assert.equal(config.app.title, 'Local');
  assert.equal(config.backend.listen.host, '0.0.0.0');
  assert.equal(config.backend.listen.port, 7000);
});

test('config merge replaces arrays and merges objects', () => {
  const merged = mergeConfig({ a: { b: 1, list: [1, 2] } }, { a: { c: 2, list: [3] } });

  assert.deepEqual(merged, { a: { b: 1, c: 2, list: [3] } });
});

test('config substitutes environment variables', () => {
  const folder = writeFiles({
    'app-config.yaml': `${MINIMAL}\napp:\n  title: \${PORTAL_TITLE} portal\n  baseUrl: https://\${PORTAL_HOST}\n`,
  });

  const { config } = loadConfig([path.join(folder, 'app-config.yaml')], {
    env: { PORTAL_TITLE: 'Acme', PORTAL_HOST: 'portal.example.com' },
  });

  assert.equal(config.app.title, 'Acme portal');
  assert.equal(config.app.baseUrl, 'https://portal.example.com');
});

test('config keeps an escaped reference literal', () => {
  const folder = writeFiles({
    'app-config.yaml': `${MINIMAL}\napp:\n  title: $\${NOT_A_VARIABLE}\n`,
  });

  const { config } = loadConfig([path.join(folder, 'app-config.yaml')], { env: {} });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal reference is the expected value.
  assert.equal(config.app.title, '${NOT_A_VARIABLE}');
});

test('config names a missing environment variable', () => {
  const folder = writeFiles({
    'app-config.yaml': `${MINIMAL}\napp:\n  title: \${MISSING_TITLE}\n`,
  });

  const error = configFault(() => loadConfig([path.join(folder, 'app-config.yaml')], { env: {} }));

  assert.equal(error.details.length, 1);
  assert.match(error.details[0]?.path ?? '', /app-config\.yaml:9: app\.title$/);
  assert.match(error.details[0]?.message ?? '', /environment variable MISSING_TITLE is not set/);
});

test('config reports unset variables with schema faults', () => {
  const folder = writeFiles({
    'app-config.yaml': `${MINIMAL}\napp:\n  title: \${MISSING_TITLE}\nbackend:\n  listen:\n    port: \${MISSING_PORT}\ncatalog:\n  refesh: {}\n`,
  });

  const error = configFault(() => loadConfig([path.join(folder, 'app-config.yaml')], { env: {} }));
  const messages = error.details.map((detail) => `${detail.path}: ${detail.message}`);

  assert.equal(error.details.length, 3, messages.join('\n'));
  assert.match(messages[0] ?? '', /app\.title: environment variable MISSING_TITLE is not set/);
  assert.match(
    messages[1] ?? '',
    /backend\.listen\.port: environment variable MISSING_PORT is not set/,
  );
  assert.match(messages[2] ?? '', /catalog\.refesh: unknown key 'refesh'/);
});

test('invalid config lists every fault with file, line and value', () => {
  const folder = writeFiles({
    'app-config.yaml': [
      'app:',
      '  baseUrl: localhost:7007',
      'backend:',
      '  listen:',
      '    port: seventy',
      'database:',
      '  client: mysql',
      'catalog:',
      '  locations:',
      '    - type: url',
      '      target: https://example.com/catalog-info.yaml',
      '  refesh: {}',
      'permission: {}',
      '',
    ].join('\n'),
  });
  const file = path.join(folder, 'app-config.yaml');

  const error = configFault(() => loadConfig([file], { env: {} }));
  const byPath = new Map(error.details.map((detail) => [detail.path, detail]));

  assert.equal(error.details.length, 6, error.details.map((detail) => detail.path).join('\n'));
  assert.match(byPath.get(`${file}:2: app.baseUrl`)?.message ?? '', /'localhost:7007' is invalid/);
  assert.match(
    byPath.get(`${file}:5: backend.listen.port`)?.message ?? '',
    /'seventy' is invalid: expected number/,
  );
  assert.match(
    byPath.get(`${file}:7: database.client`)?.message ?? '',
    /'mysql' is invalid: expected one of "better-sqlite3", "pg"/,
  );
  assert.match(
    byPath.get(`${file}:10: catalog.locations[0].type`)?.message ?? '',
    /expected one of "file"/,
  );
  assert.match(byPath.get(`${file}:12: catalog.refesh`)?.message ?? '', /unknown key 'refesh'/);
  assert.match(byPath.get(`${file}:13: permission.rolesFile`)?.message ?? '', /is required/);
});

test('config names the file that set a faulty value', () => {
  const folder = writeFiles({
    'app-config.yaml': MINIMAL,
    'app-config.local.yaml': 'backend:\n  listen:\n    port: -1\n',
  });
  const local = path.join(folder, 'app-config.local.yaml');

  const error = configFault(() =>
    loadConfig([path.join(folder, 'app-config.yaml'), local], { env: {} }),
  );

  assert.equal(error.details[0]?.path, `${local}:3: backend.listen.port`);
});

test('config rejects unparseable YAML with its line', () => {
  const folder = writeFiles({ 'app-config.yaml': 'app:\n  title: [unclosed\n' });

  const error = configFault(() => loadConfig([path.join(folder, 'app-config.yaml')], { env: {} }));

  assert.match(error.details[0]?.path ?? '', /app-config\.yaml:\d+$/);
  assert.match(error.details[0]?.message ?? '', /is not valid YAML/);
});

test('config rejects a missing file', () => {
  const error = configFault(() => loadConfig(['/nonexistent/app-config.yaml'], { env: {} }));

  assert.match(error.details[0]?.message ?? '', /cannot be read/);
});

test('config never repeats a secret value', () => {
  const folder = writeFiles({
    'app-config.yaml': `${MINIMAL}\nauth:\n  session:\n    secret: \${PORTAL_SECRET}\n  oidc:\n    issuer: http://127.0.0.1:9/\n    clientId: portal\n    clientSecret: 12345\n`,
  });

  const error = configFault(() =>
    loadConfig([path.join(folder, 'app-config.yaml')], { env: { PORTAL_SECRET: 'hunter2-short' } }),
  );
  const text = JSON.stringify(error.details);

  assert.equal(error.details.length, 2, text);
  assert.doesNotMatch(text, /hunter2/);
  assert.doesNotMatch(text, /12345/);
  assert.match(
    error.details[0]?.message ?? '',
    /^the value is invalid: must be at least 32 characters$/,
  );
});

test('config names fields inside a union branch', () => {
  const folder = writeFiles({
    'app-config.yaml': [
      'database:',
      '  client: pg',
      '  connection:',
      '    host: db.internal',
      '    password: 5',
      'permission:',
      '  rolesFile: ./roles.yaml',
      '',
    ].join('\n'),
  });
  const file = path.join(folder, 'app-config.yaml');

  const error = configFault(() => loadConfig([file], { env: {} }));
  const paths = error.details.map((detail) => detail.path);

  assert.deepEqual(paths, [
    `${file}:4: database.connection.user`,
    `${file}:5: database.connection.password`,
    `${file}:4: database.connection.database`,
  ]);
  assert.match(error.details[1]?.message ?? '', /^the value is invalid: expected string$/);
});

test('config rejects an interval beyond a week', () => {
  const folder = writeFiles({
    'app-config.yaml': `${MINIMAL}\ncatalog:\n  refresh:\n    intervalSeconds: 3000000\n`,
  });

  const error = configFault(() => loadConfig([path.join(folder, 'app-config.yaml')], { env: {} }));

  assert.match(error.details[0]?.message ?? '', /3000000 is invalid: must be at most 604800/);
});

test('config fills the catalog size limit left out', () => {
  const folder = writeFiles({
    'app-config.yaml': `${MINIMAL}\ncatalog:\n  limits:\n    maxFileBytes: 1024\n`,
  });

  const { config } = loadConfig([path.join(folder, 'app-config.yaml')], { env: {} });

  assert.deepEqual(config.catalog.limits, {
    maxFileBytes: 1024,
    maxPlaceholderFileBytes: 5 * 1024 * 1024,
  });
});

test('config rejects a catalog size limit of zero bytes', () => {
  const folder = writeFiles({
    'app-config.yaml': `${MINIMAL}\ncatalog:\n  limits:\n    maxPlaceholderFileBytes: 0\n`,
  });

  const error = configFault(() => loadConfig([path.join(folder, 'app-config.yaml')], { env: {} }));

  assert.match(error.details[0]?.path ?? '', /catalog\.limits\.maxPlaceholderFileBytes/);
  assert.match(error.details[0]?.message ?? '', /0 is invalid: must be at least 1/);
});

test('config rejects a YAML alias bomb', () => {
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let level = 1; level < 10; level++) {
    const previous = String.fromCharCode(96 + level);
    const name = String.fromCharCode(97 + level);
    levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
  }
  const folder = writeFiles({ 'app-config.yaml': `${levels.join('\n')}\n` });

  const error = configFault(() => loadConfig([path.join(folder, 'app-config.yaml')], { env: {} }));

  assert.match(error.details[0]?.message ?? '', /use fewer YAML aliases/);
});

test('config counts one fault in the singular', () => {
  const folder = writeFiles({ 'app-config.yaml': `${MINIMAL}\napp:\n  title: 5\n` });

  const error = configFault(() => loadConfig([path.join(folder, 'app-config.yaml')], { env: {} }));

  assert.equal(error.message, 'Configuration is invalid (1 fault)');
});
