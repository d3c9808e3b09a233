import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { listEntityRefs } from '../src/catalog/api/entity-queries.js';
import { CATALOG_ENTITY_READ, CATALOG_ENTITY_RESOURCE_TYPE } from '../src/catalog/api/index.js';
import { detectBytewiseText, type QueryContext } from '../src/catalog/api/query-plan.js';
import { criteriaToEntityFilter } from '../src/catalog/api/read-access.js';
import {
  type Catalog,
  catalogMigrations,
  createCatalog,
  readOrganisation,
} from '../src/catalog/index.js';
import { migrateToLatest } from '../src/database/index.js';
import { createHttpServer } from '../src/http/index.js';
import { resolveUserPrincipal } from '../src/identity/index.js';
import { createLogger } from '../src/logging.js';
import {
  type ConditionCriteria,
  type Decision,
  evaluateCriteria,
  PermissionRegistry,
  PermissionService,
  type Principal,
  policyPermissions,
  registerPermissionRoutes,
} from '../src/permissions/index.js';
import { buildOrganisation, principalOfUser } from '../src/permissions/organisation.js';
import { formatConditions } from '../src/permissions/plan.js';
import { type DialectContext, describeEachDialect } from './support/databases.js';
import {
  createSeededRandom,
  type SeededRandom,
  seedFromEnvironment,
} from './support/seeded-random.js';

/**
 * Property test of the two ways catalog.entity.read is enforced. A list
 * turns the CONDITIONAL decision into SQL over the catalog tables, and one
 * entity is decided in memory by the rules' checks. For generated
 * organisations, roles files and entities, ingested by the real catalog and
 * served by the real routes, an entity must appear in a principal's list
 * exactly when the authorize route allows that principal to read it.
 *
 * Replay a failure with the seed that its message prints:
 *   PERMISSION_PROPERTY_SEED=<seed> npx tsx --test test/permission-paths.test.ts
 */

const SEED_VARIABLE = 'PERMISSION_PROPERTY_SEED';
const BASE_SEED = seedFromEnvironment(SEED_VARIABLE, 20_250_301);
/** Roles files generated per dialect. Each is checked for every principal. */
const ROLES_FILES = 30;
/** Header that names the generated principal of a request. */
const PRINCIPAL_HEADER = 'x-test-principal';

interface Name {
  kind: string;
  namespace: string;
  /** The name as the entity writes it, in mixed case. */
  name: string;
}

function refOf(name: Name): string {
  return `${name.kind}:${name.namespace}/${name.name}`.toLocaleLowerCase('en-US');
}

function randomCase(random: SeededRandom, text: string): string {
  switch (random.int(4)) {
    case 0:
      return text.toLowerCase();
    case 1:
      return text.toUpperCase();
    case 2:
      return [...text]
        .map((letter) => (random.chance(0.5) ? letter.toUpperCase() : letter))
        .join('');
    default:
      return text;
  }
}

/**
 * Writes a reference to `target` as people do: in mixed case, and without
 * the kind or the namespace where the context supplies them.
 */
function writeRef(
  random: SeededRandom,
  target: Name,
  context: { defaultKind?: string; defaultNamespace: string },
): string {
  const kind = randomCase(random, target.kind);
  const namespace = randomCase(random, target.namespace);
  const name = randomCase(random, target.name);
  const omitKind =
    context.defaultKind !== undefined &&
    target.kind.toLowerCase() === context.defaultKind.toLowerCase() &&
    random.chance(0.5);
  const omitNamespace = target.namespace === context.defaultNamespace && random.chance(0.5);
  return `${omitKind ? '' : `${kind}:`}${omitNamespace ? '' : `${namespace}/`}${name}`;
}

const GROUP_NAMES = [
  'Platform',
  'team-alpha',
  'Team-Beta',
  'SRE',
  'data.Eng',
  'team_gamma',
  'Ops-Crew',
  'Guild',
  'Security',
];
const USER_NAMES = [
  'ada',
  'Bob.Smith',
  'carol_x',
  'Dave',
  'erin-o',
  'Frank',
  'gus',
  'Hana',
  'Ines',
  'jo',
  'Kai',
  'Lena',
];
const ENTITY_NAMES = [
  'Orders',
  'billing',
  'Search',
  'ledger-x',
  'Maps',
  'payments_v2',
  'Gateway',
  'docs.site',
];
const NAMESPACES = ['default', 'default', 'default', 'ops'];
const ENTITY_KINDS = ['Component', 'Component', 'API', 'Resource', 'System', 'Domain'];
const ANNOTATION_KEYS = [
  'example.com/Tier',
  'backstage.io/techdocs-ref',
  'example.com/Cost-Center',
  'pagerduty.com/service-id',
];
const ANNOTATION_VALUES = ['Gold', 'gold', 'dir:.', 'Ärger', '', 'PCI', 'user:default/ada'];
const LABEL_KEYS = ['tier', 'example.com/Data-Class', 'Region'];
const LABEL_VALUES = ['gold', 'Gold', 'pii', 'eu-west', 'x'];
const TAGS = ['java', 'go', 'pci', 'frontend'];
const TYPES = ['service', 'Website', 'library', 'openapi', 'database'];
const LIFECYCLES = ['production', 'Experimental', 'deprecated'];
const TIERS = ['Gold', 'silver', 'GOLD'];

interface GeneratedCatalog {
  entities: Entity[];
  groups: Name[];
  users: Name[];
  /** Every kind of entity written, for kind conditions. */
  entityNames: Name[];
}

/** Generates users, nested groups with memberships, and entities owned by them. */
function generateCatalog(random: SeededRandom): GeneratedCatalog {
  const groups: Name[] = random
    .shuffle(GROUP_NAMES)
    .slice(0, 5 + random.int(4))
    .map((name) => ({ kind: 'Group', namespace: random.pick(NAMESPACES), name }));
  const users: Name[] = random
    .shuffle(USER_NAMES)
    .slice(0, 6 + random.int(5))
    .map((name) => ({ kind: 'User', namespace: random.pick(NAMESPACES), name }));
  const dangling: Name = { kind: 'Group', namespace: 'default', name: 'ghosts' };

  const entities: Entity[] = [];
  const groupChildren = new Map<number, string[]>();
  const groupMembers = new Map<number, string[]>();

  // Parents point mostly to earlier groups, so the hierarchy nests several
  // levels deep. A rare later parent can close a cycle.
  const parents = groups.map((_, index) => {
    if (index > 0 && random.chance(0.7)) return random.int(index);
    if (random.chance(0.08)) return random.int(groups.length);
    return undefined;
  });
  groups.forEach((group, index) => {
    // A second parent, declared from the parent's side as spec.children.
    if (random.chance(0.2)) {
      const other = random.int(groups.length);
      if (other !== index) {
        const list = groupChildren.get(other) ?? [];
        list.push(
          writeRef(random, group, {
            defaultKind: 'group',
            defaultNamespace: groups[other]!.namespace,
          }),
        );
        groupChildren.set(other, list);
      }
    }
  });

  const userEntities = users.map((user): Entity => {
    const memberOf = random
      .sample(groups, 3)
      .map((group) =>
        writeRef(random, group, { defaultKind: 'group', defaultNamespace: user.namespace }),
      );
    if (random.chance(0.05)) {
      memberOf.push(
        writeRef(random, dangling, { defaultKind: 'group', defaultNamespace: 'default' }),
      );
    }
    // Some memberships are declared only on the group, as spec.members.
    if (random.chance(0.3)) {
      const groupIndex = random.int(groups.length);
      const list = groupMembers.get(groupIndex) ?? [];
      list.push(
        writeRef(random, user, {
          defaultKind: 'user',
          defaultNamespace: groups[groupIndex]!.namespace,
        }),
      );
      groupMembers.set(groupIndex, list);
    }
    return {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name: user.name, namespace: user.namespace },
      spec: {
        memberOf,
        ...(random.chance(0.6) ? { profile: { email: `${user.name}@Example.com` } } : {}),
      },
    };
  });

  const groupEntities = groups.map((group, index): Entity => {
    const parent = parents[index];
    return {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: {
        name: group.name,
        namespace: group.namespace,
        ...(random.chance(0.3) ? { labels: { tier: random.pick(LABEL_VALUES) } } : {}),
      },
      spec: {
        type: random.pick(['team', 'Department']),
        children: groupChildren.get(index) ?? [],
        ...(groupMembers.has(index) ? { members: groupMembers.get(index) } : {}),
        ...(parent !== undefined && parent !== index
          ? {
              parent: writeRef(random, groups[parent]!, {
                defaultKind: 'group',
                defaultNamespace: group.namespace,
              }),
            }
          : {}),
      },
    };
  });

  const owners = [...groups, ...users];
  const count = 50 + random.int(30);
  const entityNames: Name[] = [];
  for (let index = 0; index < count; index += 1) {
    const name: Name = {
      kind: random.pick(ENTITY_KINDS),
      namespace: random.pick(NAMESPACES),
      name: `${random.pick(ENTITY_NAMES)}-${index}`,
    };
    entityNames.push(name);
    const ownerTarget = random.chance(0.05) ? dangling : random.pick(owners);
    const owner = writeRef(random, ownerTarget, {
      defaultKind: 'group',
      defaultNamespace: name.namespace,
    });
    entities.push(generateEntity(random, name, owner, entityNames));
  }

  return {
    entities: [...userEntities, ...groupEntities, ...entities],
    groups,
    users,
    entityNames,
  };
}

function generateEntity(
  random: SeededRandom,
  name: Name,
  owner: string,
  earlier: readonly Name[],
): Entity {
  const annotations = Object.fromEntries(
    random.sample(ANNOTATION_KEYS, 3).map((key) => [key, random.pick(ANNOTATION_VALUES)]),
  );
  const labels = Object.fromEntries(
    random.sample(LABEL_KEYS, 2).map((key) => [key, random.pick(LABEL_VALUES)]),
  );
  const metadata: Entity['metadata'] = {
    name: name.name,
    // The default namespace is often left out, as most catalog files do.
    ...(name.namespace !== 'default' || random.chance(0.5) ? { namespace: name.namespace } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(random.chance(0.4) ? { title: random.pick(['Orders Service', 'ÄPFEL', 'gold']) } : {}),
    ...(random.chance(0.4) ? { tags: random.sample(TAGS, 2) } : {}),
  };

  if (random.chance(0.2)) {
    metadata.links = [
      {
        url: 'https://example.com/runbook',
        title: random.pick(['Runbook', 'RUNBOOK', 'Dashboard']),
      },
    ];
  }

  const extra: Record<string, unknown> = {};
  if (random.chance(0.5)) extra.tier = random.pick(TIERS);
  // Scalars other than text, and null, which the search table stores as a row without a value.
  if (random.chance(0.3)) extra.public = random.chance(0.5);
  if (random.chance(0.3)) extra.replicas = random.pick([0, 3, 12]);
  if (random.chance(0.2)) extra.notes = null;
  const systems = earlier.filter((item) => item.kind === 'System');
  if (
    systems.length > 0 &&
    random.chance(0.3) &&
    name.kind !== 'System' &&
    name.kind !== 'Domain'
  ) {
    extra.system = writeRef(random, random.pick(systems), {
      defaultKind: 'system',
      defaultNamespace: name.namespace,
    });
  }
  if (
    earlier.length > 1 &&
    random.chance(0.3) &&
    name.kind !== 'System' &&
    name.kind !== 'Domain'
  ) {
    // Dependencies as full references, sometimes one written twice in different case.
    const targets = random.sample(earlier.slice(0, -1), 2);
    extra.dependsOn = targets.flatMap((target) =>
      Array.from({ length: random.chance(0.3) ? 2 : 1 }, () =>
        writeRef(random, target, { defaultNamespace: '' }),
      ),
    );
  }

  const specs: Record<string, Record<string, unknown>> = {
    Component: { type: random.pick(TYPES), lifecycle: random.pick(LIFECYCLES), owner, ...extra },
    API: {
      type: random.pick(TYPES),
      lifecycle: random.pick(LIFECYCLES),
      owner,
      definition: 'openapi: 3.0.0',
      ...extra,
    },
    Resource: { type: random.pick(TYPES), owner, ...extra },
    System: { owner, ...(extra.tier ? { tier: extra.tier } : {}) },
    Domain: { owner },
  };
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: name.kind,
    metadata,
    spec: specs[name.kind] as Entity['spec'],
  };
}

/** Generates the claims of IS_ENTITY_OWNER: aliases, and users or groups written with their kind. */
function generateClaims(random: SeededRandom, catalog: GeneratedCatalog): unknown {
  const claim = () => {
    if (random.chance(0.25)) return random.pick(['$currentUser', '$ownerRefs']);
    const target = random.chance(0.1)
      ? { kind: 'Group', namespace: 'default', name: 'nobody' }
      : random.pick([...catalog.groups, ...catalog.users]);
    return writeRef(random, target, { defaultNamespace: 'default' });
  };
  switch (random.int(6)) {
    case 0:
      return '$ownerRefs';
    case 1:
      return ['$currentUser'];
    case 2:
      return random.chance(0.1) ? [] : Array.from({ length: 1 + random.int(3) }, claim);
    default:
      return Array.from({ length: 1 + random.int(3) }, claim);
  }
}

function generateLeaf(random: SeededRandom, catalog: GeneratedCatalog): ConditionCriteria {
  const withValue = (values: readonly string[]) =>
    random.chance(0.6) ? { value: randomCase(random, random.pick(values)) } : {};
  switch (random.pick(['owner', 'owner', 'kind', 'annotation', 'label', 'metadata', 'spec'])) {
    case 'owner':
      return { rule: 'IS_ENTITY_OWNER', params: { claims: generateClaims(random, catalog) } };
    case 'kind':
      return {
        rule: 'IS_ENTITY_KIND',
        params: {
          kinds: Array.from({ length: 1 + random.int(3) }, () =>
            randomCase(random, random.pick([...ENTITY_KINDS, 'Group', 'User', 'Template'])),
          ),
        },
      };
    case 'annotation':
      return {
        rule: 'HAS_ANNOTATION',
        params: {
          annotation: randomCase(random, random.pick([...ANNOTATION_KEYS, 'example.com/missing'])),
          ...withValue(ANNOTATION_VALUES.filter((value) => value !== '')),
        },
      };
    case 'label':
      return {
        rule: 'HAS_LABEL',
        params: { label: randomCase(random, random.pick([...LABEL_KEYS, 'missing'])) },
      };
    case 'metadata': {
      const names = catalog.entityNames.slice(0, 5).map((item) => item.name);
      return {
        rule: 'HAS_METADATA',
        params: {
          key: randomCase(
            random,
            random.pick([
              'name',
              'namespace',
              'title',
              'description',
              'uid',
              'etag',
              'tags',
              'tags.java',
              'links.title',
              'labels.tier',
              'annotations.example.com/tier',
            ]),
          ),
          ...withValue([
            ...names,
            'ops',
            'default',
            'java',
            'Orders Service',
            'äpfel',
            'gold',
            'true',
            '$currentUser',
          ]),
        },
      };
    }
    default:
      return {
        rule: 'HAS_SPEC',
        params: {
          key: randomCase(
            random,
            random.pick([
              'lifecycle',
              'type',
              'owner',
              'tier',
              'profile.email',
              'memberOf',
              'system',
              'public',
              'replicas',
              'notes',
              'dependsOn',
              `dependsOn.${refOf(random.pick(catalog.entityNames))}`,
              `memberOf.${random.pick(catalog.groups).name}`,
            ]),
          ),
          ...withValue([
            'production',
            'experimental',
            'service',
            'gold',
            'team-alpha',
            'true',
            'false',
            '3',
            'runbook',
            '$currentUser',
            'ada@example.com',
            refOf(random.pick(catalog.entityNames)),
          ]),
        },
      };
  }
}

function generateCriteria(
  random: SeededRandom,
  catalog: GeneratedCatalog,
  depth: number,
): ConditionCriteria {
  if (depth === 0 || random.chance(0.3)) {
    return generateLeaf(random, catalog);
  }
  const children = () =>
    Array.from({ length: 1 + random.int(3) }, () => generateCriteria(random, catalog, depth - 1));
  switch (random.int(3)) {
    case 0:
      return { allOf: children() };
    case 1:
      return { anyOf: children() };
    default:
      return { not: generateCriteria(random, catalog, depth - 1) };
  }
}

/** Generates a roles file: members in mixed case, allow and deny grants, conditions up to four levels deep. */
function generateRolesFile(random: SeededRandom, catalog: GeneratedCatalog): unknown {
  const member = () => {
    if (random.chance(0.08)) return 'group:default/ghosts';
    const target = random.pick([...catalog.groups, ...catalog.users]);
    return writeRef(random, target, { defaultNamespace: 'default' });
  };
  const roles = Array.from({ length: 1 + random.int(4) }, (_, index) => {
    const everyone = random.chance(0.2);
    const grants = Array.from({ length: 1 + random.int(3) }, () => {
      const effect = random.chance(0.7) ? 'allow' : 'deny';
      if (random.chance(0.05)) {
        return { permission: 'catalog.*', acknowledgeWildcard: true, effect };
      }
      return {
        permission: CATALOG_ENTITY_READ,
        effect,
        ...(random.chance(0.85) ? { conditions: generateCriteria(random, catalog, 3) } : {}),
      };
    });
    return {
      name: `role-${index}`,
      members: Array.from({ length: random.int(4) }, member),
      ...(everyone ? { allSignedInUsers: true } : {}),
      grants,
    };
  });
  return { roles };
}

interface Subject {
  id: string;
  description: string;
  principal: Principal;
}

interface Fixture {
  app: FastifyInstance;
  catalog: Catalog;
  permissions: PermissionService;
  registry: PermissionRegistry;
  query: QueryContext;
  rolesFile: string;
  subjects: Subject[];
  /** Every stored entity by lowercase reference, as the catalog-entity resource type loads it. */
  entities: Map<string, Entity>;
  generated: GeneratedCatalog;
}

async function setUp(context: DialectContext, folder: string): Promise<Fixture> {
  const generated = generateCatalog(createSeededRandom(BASE_SEED));
  const catalogFile = path.join(folder, 'catalog.yaml');
  writeFileSync(catalogFile, generated.entities.map((entity) => stringify(entity)).join('---\n'));
  const rolesFile = path.join(folder, 'roles.yaml');
  writeFileSync(rolesFile, 'roles: []\n');

  const handle = context.handle();
  await migrateToLatest(handle, [catalogMigrations]);
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const registry = new PermissionRegistry();
  registry.registerPermissions(...policyPermissions);
  const catalog = createCatalog({
    database: handle,
    config: {
      locations: [{ type: 'file', target: catalogFile, rules: [{ allow: ['User', 'Group'] }] }],
      refresh: { intervalSeconds: 0, watch: false },
    },
    logger,
    registry,
  });
  const summary = await catalog.refreshAll();
  const errors = await handle.db
    .selectFrom('catalog_errors')
    .select(['entity_ref', 'field', 'message'])
    .where('severity', '=', 'error')
    .execute();
  assert.deepEqual(errors, [], `seed ${BASE_SEED}: the generated catalog has ingestion errors`);
  assert.equal(summary.errors, 0);
  assert.equal(summary.entities, generated.entities.length, `seed ${BASE_SEED}: entities stored`);

  const permissions = new PermissionService(registry, rolesFile);
  const subjects: Subject[] = [];
  const byId = new Map<string, Principal>();
  const { app } = await createHttpServer({
    logger,
    permissions,
    authenticate: async (request) => byId.get(String(request.headers[PRINCIPAL_HEADER])),
  });
  await catalog.registerRoutes(app, permissions);
  await registerPermissionRoutes(app, permissions, {
    resolvePrincipal: (userRef) =>
      resolveUserPrincipal(userRef, {
        directory: catalog.directory,
        transitiveGroupOwnership: true,
      }),
  });
  await app.ready();

  // Principals as sign-in builds them from the catalog, with ownership
  // through every ancestor group and through direct groups only.
  for (const user of generated.users) {
    for (const transitive of [true, false]) {
      const principal = await resolveUserPrincipal(refOf(user), {
        directory: catalog.directory,
        transitiveGroupOwnership: transitive,
      });
      assert.ok(principal, `seed ${BASE_SEED}: user ${refOf(user)} is not in the catalog`);
      const id = `${refOf(user)}${transitive ? '' : ' (direct ownership)'}`;
      subjects.push({ id, description: id, principal });
      byId.set(id, principal);
    }
  }

  const query: QueryContext = {
    db: handle.db,
    dialect: handle.dialect,
    bytewiseText: await detectBytewiseText(handle.db, handle.dialect),
  };
  const refs = (await handle.db.selectFrom('catalog_entities').select('entity_ref').execute()).map(
    (row: { entity_ref: string }) => row.entity_ref,
  );
  const owner = registry.getResourceType(CATALOG_ENTITY_RESOURCE_TYPE)!;
  const loaded = await owner.getResources(refs);
  const entities = new Map(refs.map((ref, index) => [ref, loaded[index] as Entity]));

  return { app, catalog, permissions, registry, query, rolesFile, subjects, entities, generated };
}

/** References of the entities that the principal's list returns: none when the route returns 403. */
async function listReadable(
  fixture: Fixture,
  subject: Subject,
): Promise<{ status: number; refs: string[] }> {
  const response = await fixture.app.inject({
    method: 'GET',
    url: '/api/catalog/entities?fields=kind,metadata.namespace,metadata.name',
    headers: { [PRINCIPAL_HEADER]: subject.id },
  });
  if (response.statusCode === 403) {
    return { status: 403, refs: [] };
  }
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json() as Entity[];
  return {
    status: 200,
    refs: body.map((entity) => stringifyEntityRef(entity).toLocaleLowerCase('en-US')).sort(),
  };
}

/** Asks the authorize route, as a Backstage plugin does, to decide each entity by reference. */
async function authorizeEach(
  fixture: Fixture,
  subject: Subject,
  refs: readonly string[],
): Promise<string[]> {
  const response = await fixture.app.inject({
    method: 'POST',
    url: '/api/permission/authorize',
    headers: { [PRINCIPAL_HEADER]: subject.id },
    payload: {
      items: [
        {
          id: 'read',
          permission: {
            type: 'resource',
            name: CATALOG_ENTITY_READ,
            attributes: { action: 'read' },
            resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
          },
          resourceRef: refs,
        },
      ],
    },
  });
  assert.equal(response.statusCode, 200, response.body);
  const item = (response.json() as { items: Array<{ result: string[] }> }).items[0]!;
  return refs.filter((_, index) => item.result[index] === 'ALLOW');
}

/**
 * Finds the smallest part of the criteria on which the two paths disagree
 * for one entity: a node whose children all agree, or a leaf.
 */
async function smallestDisagreement(
  fixture: Fixture,
  criteria: ConditionCriteria,
  ref: string,
): Promise<{ criteria: ConditionCriteria; inMemory: boolean; inSql: boolean } | undefined> {
  const entity = fixture.entities.get(ref)!;
  const inMemory = evaluateCriteria(
    criteria,
    entity,
    CATALOG_ENTITY_RESOURCE_TYPE,
    fixture.registry,
  );
  const listed = await listEntityRefs(
    fixture.query,
    { filter: criteriaToEntityFilter(criteria, fixture.registry) },
    { order: [] },
  );
  const inSql = listed.includes(ref);
  if (inMemory === inSql) {
    return undefined;
  }
  const children =
    'allOf' in criteria
      ? criteria.allOf
      : 'anyOf' in criteria
        ? criteria.anyOf
        : 'not' in criteria
          ? [criteria.not]
          : [];
  for (const child of children) {
    const found = await smallestDisagreement(fixture, child, ref);
    if (found) return found;
  }
  return { criteria, inMemory, inSql };
}

/** Describes a disagreement in a few lines: enough to rebuild the case by hand. */
async function describeMismatch(
  fixture: Fixture,
  round: number,
  subject: Subject,
  decision: Decision,
  ref: string,
  listed: boolean,
): Promise<string> {
  const lines = [
    `seed ${BASE_SEED}, roles file #${round} (replay with ${SEED_VARIABLE}=${BASE_SEED})`,
    `principal ${subject.description}: ${JSON.stringify(subject.principal)}`,
    `entity ${ref} is ${listed ? '' : 'not '}in the SQL-filtered list but the authorize route ${listed ? 'denies' : 'allows'} it`,
    `decision ${decision.result}${decision.result === 'CONDITIONAL' ? ` where ${formatConditions(decision.conditions)}` : ''}`,
  ];
  if (decision.result === 'CONDITIONAL') {
    const smallest = await smallestDisagreement(fixture, decision.conditions, ref);
    lines.push(
      smallest
        ? `smallest disagreeing part: ${formatConditions(smallest.criteria)} is ${smallest.inMemory} in memory and ${smallest.inSql} in SQL`
        : 'the conditions agree on their own, so the fault is in the routes around them',
    );
  }
  const entity = fixture.entities.get(ref);
  if (entity) {
    const { apiVersion: _apiVersion, ...rest } = entity;
    lines.push(`entity as loaded: ${JSON.stringify(rest)}`);
  }
  return lines.join('\n');
}

describeEachDialect('list filter and single-entity decision agree', (context) => {
  let folder: string;
  let fixture: Fixture;

  before(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'permission-paths-'));
    fixture = await setUp(context, folder);
  });
  after(async () => {
    await fixture?.app.close();
    await fixture?.catalog.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  test('sign-in and organisation build the same principals', async () => {
    const organisation = buildOrganisation(await readOrganisation(context.handle()));
    for (const subject of fixture.subjects) {
      const transitive = !subject.id.endsWith('(direct ownership)');
      const planned = principalOfUser(organisation, subject.principal.userEntityRef, transitive);
      const where = `seed ${BASE_SEED}: ${subject.description}`;
      assert.deepEqual(
        [...planned.groupEntityRefs].sort(),
        [...subject.principal.groupEntityRefs].sort(),
        `${where} groups`,
      );
      assert.deepEqual(
        [...planned.ownershipEntityRefs].sort(),
        [...subject.principal.ownershipEntityRefs].sort(),
        `${where} ownership references`,
      );
    }
  });

  test('generated roles decide lists and entities alike', async () => {
    const allRefs = [...fixture.entities.keys()].sort();
    const tally = { allow: 0, deny: 0, conditional: 0, split: 0, pairs: 0 };

    for (let round = 0; round < ROLES_FILES; round += 1) {
      const random = createSeededRandom(BASE_SEED * 31 + round + 1);
      const roles = generateRolesFile(random, fixture.generated);
      writeFileSync(fixture.rolesFile, stringify(roles));
      fixture.permissions.reload();
      const policy = fixture.permissions.currentPolicy();

      for (const subject of fixture.subjects) {
        const decision = policy.authorize(subject.principal, CATALOG_ENTITY_READ);
        const list = await listReadable(fixture, subject);
        const allowed = await authorizeEach(fixture, subject, allRefs);
        const where = `seed ${BASE_SEED}, roles file #${round}, ${subject.description}`;

        assert.equal(
          list.status === 403,
          decision.result === 'DENY',
          `${where}: 403 exactly on DENY`,
        );
        tally.pairs += allRefs.length;
        if (decision.result === 'ALLOW') tally.allow += 1;
        if (decision.result === 'DENY') tally.deny += 1;
        if (decision.result === 'CONDITIONAL') {
          tally.conditional += 1;
          if (allowed.length > 0 && allowed.length < allRefs.length) tally.split += 1;
        }

        const listedSet = new Set(list.refs);
        const allowedSet = new Set(allowed);
        const mismatch = allRefs.find((ref) => listedSet.has(ref) !== allowedSet.has(ref));
        if (mismatch !== undefined) {
          assert.fail(
            await describeMismatch(
              fixture,
              round,
              subject,
              decision,
              mismatch,
              listedSet.has(mismatch),
            ),
          );
        }

        // Each entity alone, for a sample: the entity route returns 404 for one the list hides.
        for (const ref of random.sample(allRefs, 2)) {
          const entity = fixture.entities.get(ref)!;
          const response = await fixture.app.inject({
            method: 'GET',
            url: `/api/catalog/entities/by-name/${encodeURIComponent(entity.kind)}/${encodeURIComponent(entity.metadata.namespace ?? 'default')}/${encodeURIComponent(entity.metadata.name)}`,
            headers: { [PRINCIPAL_HEADER]: subject.id },
          });
          const expected = decision.result === 'DENY' ? 403 : allowedSet.has(ref) ? 200 : 404;
          assert.equal(response.statusCode, expected, `${where}: GET by-name of ${ref}`);
        }
      }
    }

    // The generator must reach every kind of decision, or the test proves little.
    const summary = `seed ${BASE_SEED}: ${JSON.stringify(tally)}`;
    assert.ok(tally.allow > 0, `${summary}: no principal was allowed everything`);
    assert.ok(tally.deny > 0, `${summary}: no principal was denied`);
    assert.ok(
      tally.split >= fixture.subjects.length,
      `${summary}: too few conditional decisions split the catalog`,
    );
  });

  test('mismatch report names the disagreeing rule', async () => {
    // A registry whose HAS_LABEL check is inverted in memory only, so both
    // paths disagree exactly on the label condition.
    const broken = new PermissionRegistry();
    for (const rule of fixture.registry.listRules(CATALOG_ENTITY_RESOURCE_TYPE)) {
      broken.registerRules(
        rule.name === 'HAS_LABEL'
          ? { ...rule, apply: (entity: Entity, params: unknown) => !rule.apply(entity, params) }
          : rule,
      );
    }
    const subject = fixture.subjects[0]!;
    const conditions: ConditionCriteria = {
      allOf: [
        {
          rule: 'IS_ENTITY_KIND',
          params: { kinds: ['Component', 'API', 'Resource', 'System', 'Domain', 'User', 'Group'] },
        },
        { not: { rule: 'HAS_LABEL', params: { label: 'tier' } } },
      ],
    };
    const decision: Decision = {
      result: 'CONDITIONAL',
      resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
      conditions,
      decidedBy: [],
    };
    const ref = [...fixture.entities.keys()][0]!;

    const report = await describeMismatch(
      { ...fixture, registry: broken },
      0,
      subject,
      decision,
      ref,
      true,
    );

    assert.match(report, new RegExp(`seed ${BASE_SEED}, roles file #0`));
    assert.match(
      report,
      /smallest disagreeing part: HAS_LABEL\(label="tier"\) is (true|false) in memory and (true|false) in SQL/,
    );
    assert.match(
      report,
      new RegExp(
        `entity ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in the SQL-filtered list`,
      ),
    );
  });
});
