import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { describeEachDialect } from '../../test/support/databases.js';
import { OIDC_FIXTURE_FOLDER } from '../../test/support/oidc-portal.js';
import { createCatalogDirectory } from '../catalog/directory.js';
import { findGroupRefsByAnnotation } from '../catalog/index.js';
import { createCatalogIngestion } from '../catalog/ingestion/index.js';
import { catalogMigrations } from '../catalog/migrations.js';
import { loadConfig } from '../config/index.js';
import { migrateToLatest } from '../database/index.js';
import { ConfigError } from '../errors/index.js';
import { createLogger } from '../logging.js';
import { applyTemplate, createGroupMapper, type GroupMapper } from './group-mapping.js';
import { ENTRA_GROUP_ID_ANNOTATION, PROVIDER_PROFILES } from './provider-profiles.js';

const CONFIG_FILE = path.join(OIDC_FIXTURE_FOLDER, 'app-config.yaml');
const SRE_ENTRA_ID = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b';

describe('applyTemplate', () => {
  const cases: Array<{
    value: string;
    pattern: string;
    template: string;
    expected: string | undefined;
  }> = [
    {
      value: '/platform/sre',
      pattern: '/(?<path>.+)',
      template: 'group:default/{path}',
      expected: 'group:default/platform-sre',
    },
    {
      value: '/a/b/c',
      pattern: '/(?<path>.+)',
      template: '{path}',
      expected: 'group:default/a-b-c',
    },
    {
      value: 'team:payments',
      pattern: 'team:(\\w+)',
      template: 'group:teams/{1}',
      expected: 'group:teams/payments',
    },
    {
      value: 'Platform Team',
      pattern: '(.+)',
      template: '{1}',
      expected: 'group:default/platform-team',
    },
    { value: 'platform', pattern: '/(?<path>.+)', template: '{path}', expected: undefined },
    { value: 'x/platform', pattern: '/(?<path>.+)', template: '{path}', expected: undefined },
  ];

  for (const { value, pattern, template, expected } of cases) {
    test(`${value} with ${template}`, () => {
      const expression = new RegExp(`^(?:${pattern})$`, 'u');

      assert.equal(applyTemplate(value, expression, template), expected);
    });
  }
});

describe('groupMapping config validation', () => {
  const cases: Array<{ rules: unknown[]; path: string; message: RegExp }> = [
    {
      rules: [{ match: 'pattern', pattern: '/(?<path>.+', template: '{path}' }],
      path: 'auth.oidc.groupMapping[0].pattern',
      message: /not a valid regular expression \(Unterminated group\)/,
    },
    {
      rules: [{ match: 'name' }, { match: 'pattern', pattern: '/(?<path>.+)', template: '{team}' }],
      path: 'auth.oidc.groupMapping[1].template',
      message: /placeholder \{team\} names no group of the pattern: use \{path\}, \{0\}, \{1\}/,
    },
    {
      rules: [{ match: 'pattern', pattern: '(.+)', template: 'user:default/{1}' }],
      path: 'auth.oidc.groupMapping[0].template',
      message: /must produce a Group reference, not a user one/,
    },
    {
      rules: [{ match: 'annotation', annotation: 'not a key' }],
      path: 'auth.oidc.groupMapping[0].annotation',
      message: /must be an annotation key such as graph\.microsoft\.com\/group-id/,
    },
    {
      rules: [{ match: 'regex', pattern: 'x' }],
      path: 'auth.oidc.groupMapping[0].match',
      message: /name|annotation|pattern/,
    },
  ];

  for (const { rules, path: fieldPath, message } of cases) {
    test(`names ${fieldPath}`, () => {
      assert.throws(
        () =>
          loadConfig([CONFIG_FILE], {
            overrides: {
              auth: {
                oidc: {
                  issuer: 'https://idp.example.com',
                  clientId: 'portal',
                  groupMapping: rules,
                },
              },
            },
          }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          const detail = error.details.find((item) => item.path?.endsWith(fieldPath));
          assert.ok(detail, `no detail for ${fieldPath}: ${JSON.stringify(error.details)}`);
          assert.match(detail.message, message);
          return true;
        },
      );
    });
  }

  test('requires groupsClaim for auth0', () => {
    assert.throws(
      () =>
        loadConfig([CONFIG_FILE], {
          overrides: {
            auth: { oidc: { issuer: 'https://x.eu.auth0.com/', clientId: 'p', profile: 'auth0' } },
          },
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const detail = error.details.find((item) => item.path?.endsWith('auth.oidc.groupsClaim'));
        assert.match(detail?.message ?? '', /required with profile auth0/);
        return true;
      },
    );
  });

  test('accepts every profile default', () => {
    for (const [profile, defaults] of Object.entries(PROVIDER_PROFILES)) {
      const { config } = loadConfig([CONFIG_FILE], {
        overrides: {
          auth: {
            oidc: {
              issuer: 'https://idp.example.com',
              clientId: 'portal',
              profile,
              groupsClaim: defaults.groupsClaim ?? 'https://example.com/groups',
              groupMapping: defaults.groupMapping,
            },
          },
        },
      });

      assert.equal(config.auth.oidc?.profile, profile);
    }
  });
});

describeEachDialect('group mapper', (context) => {
  let mapper: GroupMapper;

  before(async () => {
    const database = context.handle();
    await migrateToLatest(database, [catalogMigrations]);
    const ingestion = createCatalogIngestion({
      database,
      config: {
        locations: [
          {
            type: 'file',
            target: path.join(OIDC_FIXTURE_FOLDER, 'catalog.yaml'),
            rules: [{ allow: ['User', 'Group', 'Component'] }],
          },
        ],
        refresh: { intervalSeconds: 0, watch: false },
      },
      logger: createLogger({ level: 'silent' }),
    });
    const summary = await ingestion.refreshAll();
    await ingestion.stop();
    assert.equal(summary.errors, 0);

    const directory = createCatalogDirectory(database);
    mapper = createGroupMapper(
      [
        { match: 'annotation', annotation: ENTRA_GROUP_ID_ANNOTATION },
        { match: 'pattern', pattern: '/(?<path>.+)', template: 'group:default/{path}' },
        { match: 'name', namespace: 'default' },
      ],
      {
        findGroupRef: (ref) => directory.findGroupRef(ref),
        findGroupRefsByAnnotation: (annotation, values) =>
          findGroupRefsByAnnotation(database, annotation, values),
      },
    );
  });

  test('applies each kind of rule', async () => {
    const result = await mapper([SRE_ENTRA_ID.toUpperCase(), '/platform', 'admins']);

    assert.deepEqual(result.groupRefs, [
      'group:default/admins',
      'group:default/platform',
      'group:default/platform-sre',
    ]);
    assert.deepEqual(result.unmatched, []);
  });

  test('returns values no rule matches', async () => {
    const result = await mapper(['/nowhere', 'ghosts', '00000000-0000-4000-8000-000000000000']);

    assert.deepEqual(result.groupRefs, []);
    assert.deepEqual(result.unmatched, [
      '/nowhere',
      'ghosts',
      '00000000-0000-4000-8000-000000000000',
    ]);
  });

  test('ignores blanks and duplicates', async () => {
    const result = await mapper(['admins', ' admins ', '']);

    assert.deepEqual(result.groupRefs, ['group:default/admins']);
    assert.deepEqual(result.unmatched, []);
  });
});
