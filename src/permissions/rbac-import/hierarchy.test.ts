import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { seedCatalogFiles } from '../../../test/support/catalog-seed.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import { CORPUS_ROOT } from '../../../test/support/portal.js';
import { catalogPermissionRules, catalogPermissions } from '../../catalog/api/index.js';
import { createCatalogDirectory } from '../../catalog/directory.js';
import type { CatalogDirectory } from '../../catalog/index.js';
import type { DatabaseHandle } from '../../database/index.js';
import { resolveSignIn, type SignInResolution } from '../../identity/index.js';
import { Policy } from '../policy.js';
import { PermissionRegistry } from '../registry.js';
import { loadRolesFile } from '../roles-file.js';
import { importRbacFiles } from './import-rbac.js';
import { formatImportedRoles } from './roles-yaml.js';

/**
 * The RBAC plugin's own hierarchy fixture: each scenario is a comment that
 * names a user and the decision the plugin makes for catalog.entity.read.
 * The users and groups come from the plugin's manual-test catalog files,
 * whose Group parents include cycles and a parent that does not exist.
 */
const POLICY_CSV = path.join(
  CORPUS_ROOT,
  'rbac',
  'backstage__community-plugins__workspaces__rbac__plugins__rbac-backend____fixtures____data__hierarchy__rbac-policy.csv',
);
const CATALOG_FILES = [
  'backstage__community-plugins__workspaces__rbac__examples__manual-tests__rbac__users.yaml',
  'backstage__community-plugins__workspaces__rbac__plugins__rbac-backend__manual-tests__rbac__groups.yaml',
].map((name) => path.join(CORPUS_ROOT, 'catalog', name));

interface Scenario {
  name: string;
  line: number;
  user: string;
  expected: 'ALLOW' | 'DENY';
}

/** Reads `# Test one: user:default/ant_man, expect allow` comments. */
function readScenarios(text: string): Scenario[] {
  const scenarios: Scenario[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const match = /^#\s*(Test [^:]+):\s*(user:[^\s,:]+)\s*[,:]\s*expect\s+(allow|deny)\s*$/i.exec(
      line.trim(),
    );
    if (match) {
      scenarios.push({
        name: match[1]!,
        line: index + 1,
        user: match[2]!.toLowerCase(),
        expected: match[3]!.toLowerCase() === 'allow' ? 'ALLOW' : 'DENY',
      });
    }
  });
  return scenarios;
}

const CYCLE =
  "A Group parent cycle is a fault in the catalog data. This portal stops the walk at the repeated group and reports the cycle at sign-in, so the user keeps what the groups grant and every deny still applies. The RBAC plugin denies every request of a user whose groups form a cycle, which a team's catalog edit could use to lock its members out.";
const ADMIN_CONFIG =
  'The RBAC plugin allows this user through permission.rbac.admin in its app-config, which is not part of the CSV. This portal has no super-user setting: the import converts only what the files say, so give such users a role.';

/**
 * Where this portal decides on purpose otherwise than the RBAC plugin: the
 * user, this portal's decision, and why.
 */
const DIFFERENCES: Record<string, { portal: 'ALLOW' | 'DENY'; reason: string }> = {
  'user:default/wonder_man': { portal: 'ALLOW', reason: CYCLE },
  'user:default/she_hulk': { portal: 'ALLOW', reason: CYCLE },
  'user:default/namor': { portal: 'ALLOW', reason: CYCLE },
  'user:default/valkyrie': { portal: 'ALLOW', reason: CYCLE },
  'user:default/super_user': { portal: 'DENY', reason: ADMIN_CONFIG },
  'user:default/admin': { portal: 'DENY', reason: ADMIN_CONFIG },
};

const scenarios = readScenarios(readFileSync(POLICY_CSV, 'utf8'));

/** Stores the users and groups through the real ingestion, from locations trusted with those kinds. */
async function seedDirectory(database: DatabaseHandle): Promise<void> {
  const summary = await seedCatalogFiles(database, CATALOG_FILES);
  // 42 users and 88 groups.
  assert.equal(summary.entities, 130);
}

test('hierarchy fixture has 42 scenarios', () => {
  assert.equal(scenarios.length, 42);
  assert.equal(new Set(scenarios.map((scenario) => scenario.user)).size, 42);
});

test('every listed difference is a scenario', () => {
  const users = new Set(scenarios.map((scenario) => scenario.user));
  for (const user of Object.keys(DIFFERENCES)) {
    assert.ok(users.has(user), user);
  }
});

describeEachDialect('RBAC hierarchy scenarios', (context) => {
  const folder = mkdtempSync(path.join(tmpdir(), 'rbac-hierarchy-'));
  after(() => rmSync(folder, { recursive: true, force: true }));
  let directory: CatalogDirectory;
  let policy: Policy;

  before(async () => {
    await seedDirectory(context.handle());
    directory = createCatalogDirectory(context.handle());

    const registry = new PermissionRegistry();
    registry.registerPermissions(...catalogPermissions);
    registry.registerRules(...catalogPermissionRules);
    const result = importRbacFiles({ csv: POLICY_CSV }, registry);
    assert.deepEqual(result.issues, []);
    const rolesFile = path.join(folder, 'roles.yaml');
    writeFileSync(rolesFile, formatImportedRoles(result, [POLICY_CSV]));
    policy = new Policy(loadRolesFile(rolesFile, registry), registry);
  });

  const signIn = (user: string): Promise<SignInResolution> =>
    resolveSignIn(
      { sub: user.replace(/^user:default\//, ''), groups: [] },
      { directory, transitiveGroupOwnership: true },
    );

  for (const scenario of scenarios) {
    const difference = DIFFERENCES[scenario.user];
    const expected = difference?.portal ?? scenario.expected;

    test(`${scenario.name} (line ${scenario.line}): ${scenario.user}`, async () => {
      const resolution = await signIn(scenario.user);
      const decision = policy.authorize(resolution.principal, 'catalog.entity.read');

      assert.equal(decision.result, expected, difference?.reason);
      if (difference) {
        assert.notEqual(difference.portal, scenario.expected, 'a listed difference must differ');
      }
      if (difference?.reason === CYCLE) {
        assert.ok(resolution.cycles.length > 0, 'the cycle is reported at sign-in');
      }
    });
  }
});
