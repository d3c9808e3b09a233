import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Entity } from '@backstage/catalog-model';
import { catalogPermissionRules, catalogPermissions } from '../src/catalog/api/index.js';
import {
  loadRolesFile,
  PermissionRegistry,
  Policy,
  type Principal,
  policyPermissions,
} from '../src/permissions/index.js';
import { buildOrganisation, principalOfUser } from '../src/permissions/organisation.js';
import { createRandom } from './generate-organisation.js';
import { createCasbinEnforcer, createCasbinPolicy } from './permission-casbin.js';
import { CedarAuthorizer, type CedarRequest } from './permission-cedar.js';
import {
  BENCH_PERMISSIONS,
  createBenchRoles,
  createPermissionOrganisation,
  writeRolesFile,
} from './permission-organisation.js';

export interface EngineFigures {
  engine: string;
  decisions: number;
  seconds: number;
  perSecond: number;
}

export interface Disagreement {
  engine: string;
  user: string;
  permission: string;
  resource?: string;
  expected: boolean;
  actual: boolean;
  reason: string;
}

export interface PermissionFigures {
  organisation: { users: number; groups: number; roles: number; entities: number };
  requests: number;
  engines: EngineFigures[];
  agreement: {
    sample: number;
    /** Requests where no grant with conditions applies, so all three engines must agree. */
    sameSemantics: number;
    cedarDisagreements: number;
    casbinDisagreements: number;
    /** casbin disagreements on requests where a grant with conditions applies. */
    casbinExplained: number;
    examples: Disagreement[];
  };
  setupSeconds: number;
}

interface BenchRequest {
  user: string;
  permission: string;
  resource?: Entity;
}

const REQUESTS = 20_000;
const AGREEMENT_SAMPLE = 2_000;

/**
 * Measures single permission decisions per second of this engine
 * (Policy.authorize), of casbin with the community RBAC plugin's model and of
 * Cedar's stateful API. All three decide the same requests on one generated
 * organisation, and a sample of decisions is compared first.
 */
export async function benchmarkPermissions(
  options: {
    /** Measured time per engine, after a quarter as long unmeasured. */
    secondsPerEngine?: number;
  } = {},
): Promise<PermissionFigures> {
  const secondsPerEngine = options.secondsPerEngine ?? 3;
  const started = performance.now();

  const generated = createPermissionOrganisation();
  const organisation = buildOrganisation(generated);
  const groupParents = new Map(generated.groups.map((group) => [group.ref, group.parentRefs]));

  const registry = new PermissionRegistry();
  registry.registerPermissions(...policyPermissions, ...catalogPermissions);
  registry.registerRules(...catalogPermissionRules);

  const work = mkdtempSync(path.join(tmpdir(), 'backstage-luigi-bench-permissions-'));
  const rolesFile = path.join(work, 'roles.yaml');
  let roles: ReturnType<typeof loadRolesFile>;
  try {
    writeRolesFile(rolesFile, createBenchRoles(generated));
    roles = loadRolesFile(rolesFile, registry);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const policy = new Policy(roles, registry);

  const permissions = new Map(registry.listPermissions().map((item) => [item.name, item]));
  const enforcer = await createCasbinEnforcer(createCasbinPolicy(roles, generated, permissions));
  const cedar = new CedarAuthorizer(roles, organisation, groupParents);

  const requests = createRequests(generated, organisation.groupsOfUser);
  // Sign-in builds the principal once per session, so it is not part of a decision.
  const principals = new Map<string, Principal>();
  for (const request of requests) {
    if (!principals.has(request.user)) {
      principals.set(request.user, principalOfUser(organisation, request.user, true));
    }
  }
  const actionOf = (permission: string) => permissions.get(permission)!.action;
  const decideLuigi = (request: BenchRequest) =>
    policy.authorize(principals.get(request.user)!, request.permission, request.resource).result ===
    'ALLOW';
  const decideCasbin = (request: BenchRequest) =>
    enforcer.enforceSync(request.user, request.permission, actionOf(request.permission));
  const cedarCalls = requests.map((request) =>
    cedar.prepare(request.user, request.permission, request.resource, false),
  );
  const cedarSchemaCalls = requests.map((request) =>
    cedar.prepare(request.user, request.permission, request.resource, true),
  );
  const setupSeconds = (performance.now() - started) / 1000;

  const agreement = checkAgreement(requests.slice(0, AGREEMENT_SAMPLE), {
    here: decideLuigi,
    casbin: decideCasbin,
    cedar: (index) => cedar.authorize(cedarCalls[index]!),
    cedarWithSchema: (index) => cedar.authorize(cedarSchemaCalls[index]!),
    hasConditions: (request) =>
      policy
        .applicableGrants(principals.get(request.user)!, request.permission)
        .some((grant) => grant.conditions !== undefined),
  });

  const engines = [
    measureThroughput('Backstage Luigi Policy.authorize', requests, decideLuigi, secondsPerEngine),
    measureThroughput('casbin (RBAC plugin model)', requests, decideCasbin, secondsPerEngine),
    measureThroughput(
      'Cedar stateful, preparsed policies',
      cedarCalls,
      (call: CedarRequest) => cedar.authorize(call),
      secondsPerEngine,
    ),
    measureThroughput(
      'Cedar stateful, preparsed policies and schema',
      cedarSchemaCalls,
      (call: CedarRequest) => cedar.authorize(call),
      secondsPerEngine,
    ),
  ];

  return {
    organisation: {
      users: generated.users.length,
      groups: generated.groups.length,
      roles: roles.roles.length,
      entities: generated.entities.length,
    },
    requests: requests.length,
    engines,
    agreement,
    setupSeconds,
  };
}

/**
 * Builds the requests with a fixed seed: 70% read one catalog entity, half of
 * them an entity that one of the user's groups owns so that ownership
 * conditions match; 15% each ask for the two basic permissions.
 */
function createRequests(
  organisation: ReturnType<typeof createPermissionOrganisation>,
  groupsOfUser: ReadonlyMap<string, readonly string[]>,
): BenchRequest[] {
  const random = createRandom(11);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const requests: BenchRequest[] = [];
  for (let index = 0; index < REQUESTS; index++) {
    const user = pick(organisation.users).ref;
    const draw = random();
    if (draw < 0.15) {
      requests.push({ user, permission: BENCH_PERMISSIONS.locationRead });
      continue;
    }
    if (draw < 0.3) {
      requests.push({ user, permission: BENCH_PERMISSIONS.policyRead });
      continue;
    }
    const owned = (groupsOfUser.get(user) ?? []).flatMap(
      (group) => organisation.entitiesByOwner.get(group) ?? [],
    );
    const resource = owned.length > 0 && random() < 0.5 ? pick(owned) : pick(organisation.entities);
    requests.push({ user, permission: BENCH_PERMISSIONS.entityRead, resource });
  }
  return requests;
}

function checkAgreement(
  sample: BenchRequest[],
  engines: {
    here(request: BenchRequest): boolean;
    casbin(request: BenchRequest): boolean;
    cedar(index: number): boolean;
    cedarWithSchema(index: number): boolean;
    hasConditions(request: BenchRequest): boolean;
  },
): PermissionFigures['agreement'] {
  const examples: Disagreement[] = [];
  let sameSemantics = 0;
  let cedarDisagreements = 0;
  let casbinDisagreements = 0;
  let casbinExplained = 0;
  const record = (
    request: BenchRequest,
    engine: string,
    expected: boolean,
    actual: boolean,
    reason: string,
  ) => {
    if (
      examples.filter((example) => example.engine === engine && example.reason === reason).length <
      3
    ) {
      examples.push({
        engine,
        user: request.user,
        permission: request.permission,
        ...(request.resource
          ? { resource: `${request.resource.kind}:default/${request.resource.metadata.name}` }
          : {}),
        expected,
        actual,
        reason,
      });
    }
  };

  sample.forEach((request, index) => {
    const expected = engines.here(request);
    const conditional = engines.hasConditions(request);
    if (!conditional) {
      sameSemantics++;
    }

    for (const [engine, actual] of [
      ['cedar', engines.cedar(index)],
      ['cedar with schema', engines.cedarWithSchema(index)],
    ] as const) {
      if (actual !== expected) {
        cedarDisagreements++;
        record(
          request,
          engine,
          expected,
          actual,
          'unexplained: the Cedar translation should decide the same',
        );
      }
    }

    const casbin = engines.casbin(request);
    if (casbin !== expected) {
      casbinDisagreements++;
      if (conditional) {
        casbinExplained++;
        record(
          request,
          'casbin',
          expected,
          casbin,
          "a grant with conditions applies, and the RBAC plugin's casbin model has no conditions",
        );
      } else {
        record(
          request,
          'casbin',
          expected,
          casbin,
          'unexplained: no grant with conditions applies',
        );
      }
    }
  });
  return {
    sample: sample.length,
    sameSemantics,
    cedarDisagreements,
    casbinDisagreements,
    casbinExplained,
    examples,
  };
}

/** Cycles through `inputs` for `seconds` after a quarter as long unmeasured, one decision at a time. */
function measureThroughput<T>(
  engine: string,
  inputs: readonly T[],
  decide: (input: T) => boolean,
  seconds: number,
): EngineFigures {
  const run = (budgetMs: number) => {
    const started = performance.now();
    let decisions = 0;
    let elapsed = 0;
    while (elapsed < budgetMs) {
      // Reading the clock every 200 decisions keeps its cost out of the figure.
      for (let step = 0; step < 200; step++) {
        decide(inputs[decisions % inputs.length]!);
        decisions++;
      }
      elapsed = performance.now() - started;
    }
    return { decisions, elapsed };
  };
  run((seconds * 1000) / 4);
  const { decisions, elapsed } = run(seconds * 1000);
  return { engine, decisions, seconds: elapsed / 1000, perSecond: (decisions * 1000) / elapsed };
}
