import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import type { Kysely, Selectable } from 'kysely';
import { describeEachDialect } from '../../../test/support/databases.js';
import { CORPUS_ROOT } from '../../../test/support/portal.js';
import { migrateToLatest } from '../../database/index.js';
import { createLogger } from '../../logging.js';
import { catalogMigrations } from '../migrations.js';
import type { CatalogErrorRow, CatalogTables } from '../tables.js';
import { createCatalogIngestion } from './index.js';

const CATALOG = path.join(CORPUS_ROOT, 'catalog');
/** Every corpus file, in code-point order of names, as Backstage's verdicts were made. */
const FILES = readdirSync(CATALOG)
  .filter((name) => name !== 'SOURCES.tsv')
  .sort();

interface FileExpectation {
  /** Entities stored from the file. */
  stored: number;
  /** Faults found in the file, as `severity code entity_ref field`, in any order. */
  faults: string[];
}

/**
 * What this product stores from each corpus file and the faults it reports,
 * without the warnings derived from the whole catalog (dangling references,
 * group cycles), which are checked on their own.
 */
const EXPECTED: Record<string, FileExpectation> = {
  '1-Platform__one-platform__catalog-info.yaml': { stored: 1, faults: [] },
  '1-Platform__one-platform__catalog__resources__NativeMongoDB.yaml': { stored: 1, faults: [] },
  'Kuadrant__kuadrant-backstage-plugin__catalog-entities__kuadrant-users.yaml': {
    stored: 9,
    faults: [],
  },
  'Kuadrant__kuadrant-backstage-plugin__catalog-entities__marketplace__plugins__lightspeed.yaml': {
    stored: 1,
    faults: [],
  },
  'Kuadrant__kuadrant-backstage-plugin__catalog-entities__marketplace__plugins__rbac.yaml': {
    stored: 1,
    faults: [],
  },
  'PatAKnight__catalog-rbac-tests__catalog-entities__all.local.yaml': { stored: 1, faults: [] },
  'PatAKnight__catalog-rbac-tests__catalog-entities__large-org__all.local.yaml': {
    stored: 1,
    faults: [],
  },
  'PatAKnight__catalog-rbac-tests__catalog-entities__test-org__groups__subGroups__1group.local.yaml':
    {
      stored: 13,
      faults: ['warning reference-name-invalid group:default/group-1m spec.members[2]'],
    },
  'RoadieHQ__backstage-entity-validator__sample__catalog-info-with-replacement.yml': {
    stored: 0,
    faults: ['error placeholder-failed api:default/test-service-api spec.definition'],
  },
  'RoadieHQ__backstage-entity-validator__sample__invalid-catalog-info.yml': {
    stored: 1,
    faults: [],
  },
  'RoadieHQ__sample-service__another-service__catalog-info.yaml': { stored: 0, faults: [] },
  'RoadieHQ__sample-service__discovery-location.yaml': {
    stored: 1,
    faults: ['error location-unsupported location:default/roadiehq-discovery spec.target'],
  },
  'RoadieHQ__software-templates__scaffolder-templates__delete-entities__template.yaml': {
    stored: 1,
    faults: [],
  },
  'RoadieHQ__software-templates__scaffolder-templates__oneof-example__oneof-example.yaml': {
    stored: 1,
    faults: [],
  },
  'RoadieHQ__software-templates__scaffolder-templates__pr-with-catalog-entry__skeleton__catalog-info.yaml.njk':
    {
      stored: 0,
      faults: ['error yaml-invalid - -'],
    },
  'RoadieHQ__software-templates__scaffolder-templates__pr-with-catalog-entry__template.yaml': {
    stored: 1,
    faults: [],
  },
  'backstage__backstage__packages__catalog-model__examples__acme__team-e-big-name-group.yaml': {
    stored: 1,
    faults: [],
  },
  'backstage__backstage__packages__catalog-model__examples__all.yaml': { stored: 1, faults: [] },
  'backstage__backstage__packages__catalog-model__examples__components__different-namespace.yaml': {
    stored: 1,
    faults: [],
  },
  'backstage__backstage__packages__catalog-model__examples__components__invalid-component.yaml': {
    stored: 0,
    faults: [
      'error entity-invalid component:default/invalid component metadata.name',
      'error entity-invalid component:default/invalid component metadata.tags[1]',
    ],
  },
  'backstage__backstage__plugins__scaffolder-backend__sample-templates__all-templates.yaml': {
    stored: 1,
    faults: [],
  },
  'backstage__backstage__plugins__scaffolder-backend__sample-templates__v1beta2-demo__template.yaml':
    {
      stored: 0,
      faults: ['error kind-unsupported template:default/v1beta2-demo apiVersion'],
    },
  'backstage__community-plugins__workspaces__rbac__examples__manual-tests__rbac__users.yaml': {
    stored: 41,
    faults: ['error entity-conflict user:default/admin -'],
  },
  'backstage__community-plugins__workspaces__rbac__plugins__rbac-backend__manual-tests__rbac__groups.yaml':
    {
      stored: 88,
      faults: [],
    },
  'backstage__demo__catalog-info.yaml': {
    stored: 1,
    faults: ['error placeholder-failed api:default/demo-graphql spec.definition'],
  },
  'backstage__demo__demo-template__template__template.yaml': { stored: 1, faults: [] },
  // Its Location has the same reference as the PatAKnight large-org Location, registered earlier.
  'janus-idp__backstage-showcase__catalog-entities__all.yaml': {
    stored: 0,
    faults: ['error entity-conflict location:default/entities -'],
  },
  'janus-idp__backstage-showcase__catalog-entities__components__showcase.yaml': {
    stored: 1,
    faults: [],
  },
  'janus-idp__backstage-showcase__catalog-entities__groups__rhdh-team.yaml': {
    stored: 1,
    faults: [],
  },
  'janus-idp__backstage-showcase__catalog-entities__resources__keycloak.yaml': {
    stored: 1,
    faults: [],
  },
  'janus-idp__backstage-showcase__catalog-info.yaml': { stored: 2, faults: [] },
  'redhat-developer__red-hat-developer-hub-software-templates__templates.yaml': {
    stored: 1,
    faults: [],
  },
  'redhat-developer__red-hat-developer-hub-software-templates__templates__github__quarkus-backend__template.yaml':
    {
      stored: 1,
      faults: [],
    },
  'spotify__luigi__catalog-info.yaml': {
    stored: 0,
    faults: ['error entity-invalid component:default/luigi spec.lifecycle'],
  },
  'spotify__web-scripts__catalog-info.yaml': {
    stored: 0,
    faults: ['error entity-invalid component:default/web-scripts spec.lifecycle'],
  },
};

/**
 * Entities this product stores although Backstage did not, in the setup of the
 * verdicts (catalog plugin only, rules allowing the built-in kinds and
 * Template), with the reason for each difference.
 */
const STORED_ALTHOUGH_BACKSTAGE_DID_NOT: Record<string, string> = {
  'location:devex/one-platform-root-config':
    'a Location whose targets are missing is stored; the missing targets are errors on their own',
  'location:default/testentities':
    'a Location whose targets are missing is stored, with errors on the targets',
  'location:default/entities':
    'a Location whose targets are missing is stored, with errors on the targets',
  'location:default/example-all':
    'a Location whose targets are missing is stored, with errors on the targets',
  'location:default/example-templates':
    'a Location whose targets are missing is stored, with errors on the targets',
  'location:default/rhdh-collection':
    'a Location whose targets are missing is stored, with errors on the targets',
  'location:default/roadiehq-discovery':
    'a Location with a target of an unsupported type is stored, with the error on that target',
  'plugin:rhdh/lightspeed':
    'kinds the catalog does not know are stored when no rule restricts them',
  'plugin:rhdh/rbac': 'kinds the catalog does not know are stored when no rule restricts them',
  'template:default/delete-entities':
    'scaffolder v1beta3 Templates are stored (the verdicts had no scaffolder)',
  'template:default/oneof-example':
    'scaffolder v1beta3 Templates are stored (the verdicts had no scaffolder)',
  'template:default/open-pr-with-catalog-entry':
    'scaffolder v1beta3 Templates are stored (the verdicts had no scaffolder)',
  'template:default/demo-template':
    'scaffolder v1beta3 Templates are stored (the verdicts had no scaffolder)',
  'template:default/quarkus-backend-template':
    'scaffolder v1beta3 Templates are stored (the verdicts had no scaffolder)',
};

/**
 * Relations that entities stored by both catalogs have here only, because an
 * entity from the list above emits them toward an entity Backstage stored.
 */
const EXTRA_INCOMING_RELATIONS: Record<string, string> = {
  'user:default/guest ownerOf template:default/oneof-example':
    'the stored Template oneof-example has owner user:guest',
};

interface Verdicts {
  files: Array<{
    file: string;
    entities?: Array<{ doc: number; ref: string | null; stored: boolean; relations?: string[] }>;
  }>;
}

describeEachDialect('catalog corpus ingestion', (context) => {
  const db = () => context.handle().db as Kysely<CatalogTables>;
  let entities: Array<{ entity_ref: string; file: string }> = [];
  let faults: Array<Selectable<CatalogErrorRow>> = [];

  before(async () => {
    await migrateToLatest(context.handle(), [catalogMigrations]);
    const ingestion = createCatalogIngestion({
      database: context.handle(),
      config: {
        // As in the setup of the verdicts, whose rules allowed User and Group.
        locations: FILES.map((name) => ({
          type: 'file' as const,
          target: path.join(CATALOG, name),
          rules: [{ allow: ['User', 'Group'] }],
        })),
        refresh: { intervalSeconds: 0, watch: false },
      },
      logger: createLogger({ level: 'silent' }),
    });
    await ingestion.refreshAll();
    await ingestion.stop();
    entities = await db().selectFrom('catalog_entities').select(['entity_ref', 'file']).execute();
    faults = await db().selectFrom('catalog_errors').selectAll().execute();
  });

  test('has an expectation for every corpus file', () => {
    assert.deepEqual(Object.keys(EXPECTED).sort(), FILES);
  });

  for (const name of FILES) {
    test(`ingests ${name}`, () => {
      const file = path.join(CATALOG, name);
      const expected = EXPECTED[name] as FileExpectation;
      const stored = entities.filter((entity) => entity.file === file).length;
      const found = faults
        .filter(
          (fault) =>
            fault.file === file &&
            fault.code !== 'dangling-reference' &&
            fault.code !== 'group-cycle',
        )
        .map(
          (fault) =>
            `${fault.severity} ${fault.code} ${fault.entity_ref ?? '-'} ${fault.field ?? '-'}`,
        )
        .sort();
      assert.equal(stored, expected.stored);
      assert.deepEqual(found, [...expected.faults].sort());
    });
  }

  test('names the missing lifecycle of the spotify components', () => {
    for (const name of ['luigi', 'web-scripts']) {
      const fault = faults.find((row) => row.entity_ref === `component:default/${name}`);
      assert.equal(fault?.field, 'spec.lifecycle');
      assert.equal(fault?.line, 5);
      assert.match(fault?.message ?? '', /spec\.lifecycle is required for kind Component/);
    }
  });

  test('names the invalid name and tag of invalid-component', () => {
    const rows = faults.filter((row) => row.entity_ref === 'component:default/invalid component');
    const name = rows.find((row) => row.field === 'metadata.name');
    const tag = rows.find((row) => row.field === 'metadata.tags[1]');
    assert.match(name?.message ?? '', /'invalid component' is invalid/);
    assert.equal(name?.line, 4);
    assert.match(tag?.message ?? '', /'go 1\.15\.3' is invalid/);
    assert.equal(tag?.line, 11);
  });

  test('reports the unrendered Nunjucks file with its line', () => {
    const fault = faults.find((row) => row.code === 'yaml-invalid');
    assert.ok(fault?.file?.endsWith('.yaml.njk'));
    assert.equal(fault?.line, 9);
    assert.match(fault?.message ?? '', /not valid YAML \(line 9, column 6\)/);
  });

  test('reports the invalid member of group-1m', () => {
    const fault = faults.find((row) => row.code === 'reference-name-invalid');
    assert.equal(fault?.entity_ref, 'group:default/group-1m');
    assert.equal(fault?.field, 'spec.members[2]');
    assert.match(fault?.message ?? '', /'<YOUR_USER_NAME>'/);
  });

  test('reports the admin conflict naming both files', () => {
    const fault = faults.find((row) => row.entity_ref === 'user:default/admin');
    assert.equal(fault?.code, 'entity-conflict');
    assert.ok(fault?.file?.endsWith('rbac__users.yaml'));
    assert.match(
      fault?.message ?? '',
      /Kuadrant__kuadrant-backstage-plugin__catalog-entities__kuadrant-users\.yaml/,
    );
    assert.match(fault?.message ?? '', /rbac__users\.yaml/);
  });

  test('reports every missing Location target on its Location', () => {
    const missing = faults.filter((row) => row.code === 'location-not-found');
    const perLocation = new Map<string, number>();
    for (const row of missing) {
      perLocation.set(row.entity_ref ?? '-', (perLocation.get(row.entity_ref ?? '-') ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries([...perLocation].sort()), {
      'location:default/entities': 3,
      'location:default/example-all': 6,
      'location:default/example-templates': 5,
      'location:default/rhdh-collection': 14,
      'location:default/testentities': 32,
      'location:devex/one-platform-root-config': 21,
    });
  });

  test('reports the parent cycles of the rbac groups', () => {
    const cycles = faults.filter((row) => row.code === 'group-cycle').map((row) => row.entity_ref);
    assert.equal(cycles.length, 34);
    assert.ok(cycles.includes('group:default/wonder_man_group_0'));
    assert.ok(cycles.includes('group:default/wonder_man_group_1'));
  });

  test('matches the relations Backstage derived', async () => {
    const verdicts = JSON.parse(
      readFileSync(path.join(CORPUS_ROOT, 'backstage-verdicts.json'), 'utf8'),
    ) as Verdicts;
    const rows = await db()
      .selectFrom('catalog_relations')
      .select(['source_ref', 'type', 'target_ref'])
      .execute();
    const bySource = new Map<string, Set<string>>();
    for (const row of rows) {
      const set = bySource.get(row.source_ref) ?? new Set<string>();
      set.add(`${row.type} ${row.target_ref}`);
      bySource.set(row.source_ref, set);
    }
    const storedFrom = new Map(
      entities.map((entity) => [entity.entity_ref, path.basename(entity.file)]),
    );

    let compared = 0;
    for (const file of verdicts.files) {
      for (const verdict of file.entities ?? []) {
        if (!verdict.ref) {
          continue;
        }
        const ours = storedFrom.get(verdict.ref) === file.file;
        if (!verdict.stored) {
          assert.ok(
            !ours || verdict.ref in STORED_ALTHOUGH_BACKSTAGE_DID_NOT,
            `${verdict.ref} from ${file.file} is stored here but not by Backstage, and is no listed difference`,
          );
          continue;
        }

        assert.ok(ours, `${verdict.ref} from ${file.file} is stored by Backstage but not here`);
        const got = [...(bySource.get(verdict.ref) ?? [])]
          .filter((relation) => !(`${verdict.ref} ${relation}` in EXTRA_INCOMING_RELATIONS))
          .sort();
        assert.deepEqual(got, [...(verdict.relations ?? [])].sort(), verdict.ref);
        compared += 1;
      }
    }
    assert.equal(compared, 175 - Object.keys(STORED_ALTHOUGH_BACKSTAGE_DID_NOT).length);
  });

  test('adds only the listed relations to entities Backstage stored', async () => {
    for (const relation of Object.keys(EXTRA_INCOMING_RELATIONS)) {
      const [source, type, target] = relation.split(' ') as [string, string, string];
      const row = await db()
        .selectFrom('catalog_relations as r')
        .innerJoin('catalog_entities as e', 'e.id', 'r.originating_id')
        .select('e.entity_ref')
        .where('r.source_ref', '=', source)
        .where('r.type', '=', type)
        .where('r.target_ref', '=', target)
        .executeTakeFirst();
      assert.equal(row?.entity_ref, target);
    }
  });
});
