import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

/** Shape of a generated organisation; the defaults add up to 100,000 entities. */
export interface OrganisationSize {
  domains: number;
  systems: number;
  /** Groups form a tree `depth` levels deep under one root. */
  groups: number;
  groupDepth: number;
  users: number;
  apis: number;
  resources: number;
  components: number;
  /** Entities per YAML file. */
  entitiesPerFile: number;
}

export const DEFAULT_SIZE: OrganisationSize = {
  domains: 20,
  systems: 480,
  groups: 500,
  groupDepth: 4,
  users: 10_000,
  apis: 14_000,
  resources: 15_000,
  components: 60_000,
  entitiesPerFile: 1_000,
};

export interface GeneratedOrganisation {
  folder: string;
  files: string[];
  total: number;
  /** Team groups at the deepest level, with one member of each. */
  teams: Array<{ group: string; member: string }>;
}

/** Deterministic pseudo-random numbers (mulberry32), so every run builds the same organisation. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LIFECYCLES = ['production', 'experimental', 'deprecated'];
const COMPONENT_TYPES = ['service', 'website', 'library'];
const API_TYPES = ['openapi', 'asyncapi', 'grpc'];
const RESOURCE_TYPES = ['database', 'queue', 'bucket', 'cache'];
const TAGS = [
  'java',
  'go',
  'typescript',
  'python',
  'kotlin',
  'rust',
  'payments',
  'search',
  'internal',
  'public',
];

/**
 * Writes a generated organisation as multi-document YAML files into `folder`:
 * domains, systems, a group tree, users in the leaf teams, APIs, resources and
 * components with owners, systems, dependencies and APIs between them.
 */
export function generateOrganisation(
  folder: string,
  size: OrganisationSize = DEFAULT_SIZE,
  seed = 42,
): GeneratedOrganisation {
  const { entities, teams } = createOrganisationEntities(size, seed);

  mkdirSync(folder, { recursive: true });
  const files: string[] = [];
  for (let start = 0; start < entities.length; start += size.entitiesPerFile) {
    const chunk = entities.slice(start, start + size.entitiesPerFile);
    const file = path.join(folder, `entities-${String(files.length).padStart(4, '0')}.yaml`);
    writeFileSync(file, chunk.map((entity) => stringify(entity)).join('---\n'));
    files.push(file);
  }
  return { folder, files, total: entities.length, teams };
}

/** A generated entity in the catalog file format. */
export interface GeneratedEntity {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    description?: string;
    tags?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
}

/**
 * Builds the entities that generateOrganisation writes, in file order, without
 * writing them: the same size and seed give the same entities.
 */
export function createOrganisationEntities(
  size: OrganisationSize = DEFAULT_SIZE,
  seed = 42,
): { entities: GeneratedEntity[]; teams: GeneratedOrganisation['teams'] } {
  const random = createRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const entities: GeneratedEntity[] = [];

  const groupNames = buildGroupTree(size.groups, size.groupDepth);
  const leafTeams = groupNames
    .filter((group) => group.level === size.groupDepth - 1)
    .map((group) => group.name);
  const owners = groupNames.map((group) => group.name);

  for (const group of groupNames) {
    entities.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: group.name, description: `Generated group at level ${group.level}` },
      spec: {
        type:
          group.level === 0
            ? 'organization'
            : group.level === size.groupDepth - 1
              ? 'team'
              : 'department',
        ...(group.parent ? { parent: group.parent } : {}),
        children: [],
      },
    });
  }

  const teams: GeneratedOrganisation['teams'] = [];
  for (let index = 0; index < size.users; index++) {
    const name = `user-${index}`;
    const team = leafTeams[index % leafTeams.length]!;
    if (index < leafTeams.length) {
      teams.push({ group: `group:default/${team}`, member: `user:default/${name}` });
    }
    entities.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name },
      spec: {
        profile: { displayName: `User ${index}`, email: `${name}@generated.example` },
        memberOf: [team],
      },
    });
  }

  const domains = Array.from({ length: size.domains }, (_, index) => `domain-${index}`);
  for (const name of domains) {
    entities.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Domain',
      metadata: { name, description: 'Generated domain' },
      spec: { owner: pick(owners) },
    });
  }

  const systems = Array.from({ length: size.systems }, (_, index) => `system-${index}`);
  for (const name of systems) {
    entities.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'System',
      metadata: { name, description: 'Generated system' },
      spec: { owner: pick(leafTeams), domain: pick(domains) },
    });
  }

  const apis = Array.from({ length: size.apis }, (_, index) => `api-${index}`);
  for (const name of apis) {
    entities.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'API',
      metadata: { name, description: 'Generated API', tags: [pick(TAGS)] },
      spec: {
        type: pick(API_TYPES),
        lifecycle: pick(LIFECYCLES),
        owner: pick(leafTeams),
        system: pick(systems),
        definition: 'openapi: 3.0.0\ninfo:\n  title: generated\n  version: 1.0.0\npaths: {}\n',
      },
    });
  }

  const resources = Array.from({ length: size.resources }, (_, index) => `resource-${index}`);
  for (const name of resources) {
    entities.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Resource',
      metadata: { name, description: 'Generated resource' },
      spec: { type: pick(RESOURCE_TYPES), owner: pick(leafTeams), system: pick(systems) },
    });
  }

  for (let index = 0; index < size.components; index++) {
    const name = `component-${index}`;
    entities.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name,
        description: `Generated component ${index}`,
        tags: [pick(TAGS), pick(TAGS)].filter(
          (tag, position, all) => all.indexOf(tag) === position,
        ),
        labels: { tier: pick(['1', '2', '3']) },
        annotations: { 'github.com/project-slug': `generated/${name}` },
      },
      spec: {
        type: pick(COMPONENT_TYPES),
        lifecycle: pick(LIFECYCLES),
        owner: pick(leafTeams),
        system: pick(systems),
        providesApis: [pick(apis)],
        consumesApis: [pick(apis), pick(apis)].filter(
          (api, position, all) => all.indexOf(api) === position,
        ),
        dependsOn: [`resource:${pick(resources)}`],
      },
    });
  }

  return { entities, teams };
}

interface GeneratedGroup {
  name: string;
  level: number;
  parent?: string;
}

/** A tree of `count` groups: one root, then each level fans out evenly from the one above. */
function buildGroupTree(count: number, depth: number): GeneratedGroup[] {
  const groups: GeneratedGroup[] = [{ name: 'group-root', level: 0 }];
  // Split the remaining groups across levels with a fan-out that doubles the width each time.
  const remaining = count - 1;
  const weights = Array.from({ length: depth - 1 }, (_, index) => 2 ** index);
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  let previousLevel = [groups[0]!];
  for (let level = 1; level < depth; level++) {
    const isLast = level === depth - 1;
    const width = isLast
      ? count - groups.length
      : Math.max(1, Math.round((remaining * weights[level - 1]!) / totalWeight));
    const current: GeneratedGroup[] = [];
    for (let index = 0; index < width; index++) {
      const parent = previousLevel[index % previousLevel.length]!;
      current.push({ name: `group-${level}-${index}`, level, parent: parent.name });
    }
    groups.push(...current);
    previousLevel = current;
  }
  return groups;
}
