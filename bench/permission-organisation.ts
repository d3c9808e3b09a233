import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Entity } from '@backstage/catalog-model';
import { stringify } from 'yaml';
import { catalogPermissionRules, catalogPermissions } from '../src/catalog/api/index.js';
import {
  loadRolesFile,
  PermissionRegistry,
  policyPermissions,
  type RoleGrant,
  type RolesFile,
} from '../src/permissions/index.js';
import {
  createOrganisationEntities,
  createRandom,
  DEFAULT_SIZE,
  type OrganisationSize,
} from './generate-organisation.js';

/**
 * The generated organisation as the permission engines see it: users and
 * groups with their direct links, and every catalog entity with the
 * `ownedBy` relation that ingestion derives from `spec.owner`.
 */
export interface PermissionOrganisation {
  users: Array<{ ref: string; groupRefs: string[] }>;
  groups: Array<{ ref: string; parentRefs: string[] }>;
  entities: Entity[];
  /** Entities by the lowercase reference of their owner group. */
  entitiesByOwner: Map<string, Entity[]>;
}

/**
 * Builds the organisation of generateOrganisation with the same size and seed,
 * so entity count and owners match the catalog files that the list-page
 * benchmark ingests.
 */
export function createPermissionOrganisation(
  size: OrganisationSize = DEFAULT_SIZE,
): PermissionOrganisation {
  const generated = createOrganisationEntities(size);
  const users: PermissionOrganisation['users'] = [];
  const groups: PermissionOrganisation['groups'] = [];
  const entities: Entity[] = [];
  const entitiesByOwner = new Map<string, Entity[]>();

  for (const source of generated.entities) {
    const kind = source.kind.toLowerCase();
    const ref = `${kind}:default/${source.metadata.name}`;
    const spec = source.spec;
    if (kind === 'user') {
      const memberOf = (spec.memberOf as string[] | undefined) ?? [];
      users.push({ ref, groupRefs: memberOf.map((name) => `group:default/${name}`) });
    }
    if (kind === 'group' && typeof spec.parent === 'string') {
      groups.push({ ref, parentRefs: [`group:default/${spec.parent}`] });
    } else if (kind === 'group') {
      groups.push({ ref, parentRefs: [] });
    }

    // Generated owners are bare group names, which Backstage reads as group:default/<name>.
    const ownerRef = typeof spec.owner === 'string' ? `group:default/${spec.owner}` : undefined;
    const entity = {
      ...source,
      metadata: { ...source.metadata, namespace: 'default' },
      relations: ownerRef ? [{ type: 'ownedBy', targetRef: ownerRef }] : [],
    } as Entity;
    entities.push(entity);
    if (ownerRef) {
      const owned = entitiesByOwner.get(ownerRef) ?? [];
      owned.push(entity);
      entitiesByOwner.set(ownerRef, owned);
    }
  }
  return { users, groups, entities, entitiesByOwner };
}

/** The permission registered by each grant template, for the engines that need its action. */
export const BENCH_PERMISSIONS = {
  entityRead: 'catalog.entity.read',
  locationRead: 'catalog.location.read',
  policyRead: 'permission.policy.read',
} as const;

const TAGS = ['java', 'go', 'typescript', 'python', 'payments', 'internal'];

/**
 * Builds `count` roles over the organisation with a fixed seed. Role 0 lets
 * every user read what their groups own and the organisational kinds, as the
 * list-page roles do. The others cycle through seven shapes of grant (owner
 * claims, production APIs, tags, deny grants, unconditional and basic
 * permissions), so all three engines meet allow, deny and conditions.
 */
export function createBenchRoles(
  organisation: PermissionOrganisation,
  count = 50,
  seed = 7,
): RolesFile {
  const random = createRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const nonRootGroups = organisation.groups.filter((group) => group.parentRefs.length > 0);
  const ownerGroups = [...organisation.entitiesByOwner.keys()];
  const members = (): string[] => {
    const chosen = new Set<string>();
    const total = 1 + Math.floor(random() * 3);
    while (chosen.size < total) {
      chosen.add(random() < 0.6 ? pick(nonRootGroups).ref : pick(organisation.users).ref);
    }
    return [...chosen].sort();
  };

  const roles: RolesFile['roles'] = [
    {
      name: 'everyone-reader',
      members: ['group:default/group-root'],
      grants: [
        {
          permission: BENCH_PERMISSIONS.entityRead,
          effect: 'allow',
          conditions: {
            anyOf: [
              { rule: 'IS_ENTITY_OWNER', params: { claims: ['$ownerRefs'] } },
              { rule: 'IS_ENTITY_KIND', params: { kinds: ['Domain', 'System', 'Group', 'User'] } },
            ],
          },
        },
      ],
    },
  ];

  for (let index = 1; index < count; index++) {
    const shape = index % 7;
    const grants: RoleGrant[] = [];
    let name: string;
    if (shape === 0) {
      name = `owner-claims-${index}`;
      grants.push({
        permission: BENCH_PERMISSIONS.entityRead,
        effect: 'allow',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          params: { claims: [pick(ownerGroups), pick(ownerGroups)] },
        },
      });
    } else if (shape === 1) {
      name = `production-apis-${index}`;
      grants.push({
        permission: BENCH_PERMISSIONS.entityRead,
        effect: 'allow',
        conditions: {
          allOf: [
            { rule: 'IS_ENTITY_KIND', params: { kinds: ['API'] } },
            { rule: 'HAS_SPEC', params: { key: 'lifecycle', value: 'production' } },
          ],
        },
      });
    } else if (shape === 2) {
      const tag = pick(TAGS);
      name = `tag-${tag}-${index}`;
      grants.push({
        permission: BENCH_PERMISSIONS.entityRead,
        effect: 'allow',
        conditions: {
          anyOf: [
            { rule: 'HAS_METADATA', params: { key: 'tags', value: tag } },
            {
              allOf: [
                { rule: 'HAS_SPEC', params: { key: 'type', value: 'service' } },
                { rule: 'HAS_LABEL', params: { label: 'tier' } },
              ],
            },
          ],
        },
      });
    } else if (shape === 3) {
      name = `no-deprecated-${index}`;
      grants.push({
        permission: BENCH_PERMISSIONS.entityRead,
        effect: 'deny',
        conditions: {
          allOf: [
            { rule: 'IS_ENTITY_KIND', params: { kinds: ['Component'] } },
            { rule: 'HAS_SPEC', params: { key: 'lifecycle', value: 'deprecated' } },
          ],
        },
      });
    } else if (shape === 4) {
      name = `locations-${index}`;
      grants.push(
        { permission: BENCH_PERMISSIONS.locationRead, effect: 'allow' },
        {
          permission: BENCH_PERMISSIONS.entityRead,
          effect: 'allow',
          conditions: { not: { rule: 'IS_ENTITY_KIND', params: { kinds: ['Resource'] } } },
        },
      );
    } else if (shape === 5) {
      name = `auditor-${index}`;
      grants.push(
        { permission: BENCH_PERMISSIONS.policyRead, effect: 'allow' },
        { permission: BENCH_PERMISSIONS.entityRead, effect: 'allow' },
      );
    } else {
      name = `restricted-${index}`;
      grants.push(
        { permission: BENCH_PERMISSIONS.locationRead, effect: 'deny' },
        {
          permission: BENCH_PERMISSIONS.entityRead,
          effect: 'deny',
          conditions: {
            anyOf: [
              { rule: 'HAS_METADATA', params: { key: 'tags', value: 'internal' } },
              { rule: 'IS_ENTITY_KIND', params: { kinds: ['Resource'] } },
            ],
          },
        },
      );
    }
    roles.push({ name, members: members(), grants });
  }
  return { roles };
}

/** Creates a registry with the permissions and rules that the benchmark roles use. */
export function createBenchRegistry(): PermissionRegistry {
  const registry = new PermissionRegistry();
  registry.registerPermissions(...policyPermissions, ...catalogPermissions);
  registry.registerRules(...catalogPermissionRules);
  return registry;
}

/** Writes the benchmark roles to a roles file and loads them through the product's own loader. */
export function loadBenchRoles(
  organisation: PermissionOrganisation,
  registry: PermissionRegistry,
): RolesFile {
  const work = mkdtempSync(path.join(tmpdir(), 'backstage-luigi-bench-permissions-'));
  try {
    const rolesFile = path.join(work, 'roles.yaml');
    writeRolesFile(rolesFile, createBenchRoles(organisation));
    return loadRolesFile(rolesFile, registry);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Writes roles in the roles file format, so the product's own loader checks them. */
export function writeRolesFile(file: string, roles: RolesFile): void {
  const header = '# Generated by bench/permission-organisation.ts for the permission benchmark.\n';
  writeFileSync(file, header + stringify(roles));
}
