import type { Entity } from '@backstage/catalog-model';
import { Policy, type Principal } from '../src/permissions/index.js';
import { buildOrganisation, principalOfUser } from '../src/permissions/organisation.js';
import { createRandom } from './generate-organisation.js';
import { createCasbinEnforcer, createCasbinPolicy } from './permission-casbin.js';
import { CedarAuthorizer, type CedarRequest } from './permission-cedar.js';
import {
  BENCH_PERMISSIONS,
  createBenchRegistry,
  createPermissionOrganisation,
  loadBenchRoles,
} from './permission-organisation.js';

export interface EngineFigures {
  engine: string;
  decisions: number;
  seconds: number;
  perSecond: number;
  /**
   * Decisions per second of CPU time used by this process while measuring.
   * Other processes on the machine change it less than `perSecond`.
   */
  perCpuSecond: number;
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
  /** This engine first, then the engines it is compared with. */
  engines: EngineFigures[];
  /**
   * This engine under other settings, on the same requests: without its
   * per-principal cache, with a new principal object per decision, and on
   * the shared entity objects instead of a copy per call.
   */
  variants: EngineFigures[];
  /** Sentences to print with the figures: what this engine caches that the others do not. */
  notes: string[];
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

export interface BenchRequest {
  user: string;
  permission: string;
  resource?: Entity;
}

/** A request as Policy.authorize receives it. */
interface LuigiCall {
  principal: Principal;
  permission: string;
  resource: Entity | undefined;
}

const REQUESTS = 20_000;
const AGREEMENT_SAMPLE = 2_000;

/**
 * Measures single permission decisions per second of this engine
 * (Policy.authorize), of casbin with the community RBAC plugin's model and of
 * Cedar's stateful API. All three decide the same requests on one generated
 * organisation, and a sample of decisions is compared first. This engine is
 * also measured without its per-principal cache and with a new principal
 * object per decision.
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

  const registry = createBenchRegistry();
  const roles = loadBenchRoles(generated, registry);
  const policy = new Policy(roles, registry);
  const uncachedPolicy = new Policy(roles, registry, { maxCachedPrincipals: 0 });

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
  // Each call carries the user's principal, as an HTTP request carries the
  // one its session resolved, and its own copy of the entity, as the server
  // decides on the entity it has just read for that request and as Cedar's
  // calls carry their own Cedar entities. The calls with the shared entity
  // objects measure the same requests when entities are read from all over
  // the heap.
  const distinctEntities = new Set(requests.map((request) => request.resource).filter(Boolean))
    .size;
  const sharedEntityCalls: LuigiCall[] = requests.map((request) => ({
    principal: principals.get(request.user)!,
    permission: request.permission,
    resource: request.resource,
  }));
  const luigiCalls: LuigiCall[] = sharedEntityCalls.map((call) => ({
    ...call,
    resource: call.resource && structuredClone(call.resource),
  }));
  const decideLuigi = (call: LuigiCall) =>
    policy.authorize(call.principal, call.permission, call.resource).result === 'ALLOW';
  const decideLuigiUncached = (call: LuigiCall) =>
    uncachedPolicy.authorize(call.principal, call.permission, call.resource).result === 'ALLOW';
  const decideCasbin = (request: BenchRequest) =>
    enforcer.enforceSync(request.user, request.permission, actionOf(request.permission));
  const cedarCalls = requests.map((request) =>
    cedar.prepare(request.user, request.permission, request.resource, false),
  );
  const cedarSchemaCalls = requests.map((request) =>
    cedar.prepare(request.user, request.permission, request.resource, true),
  );
  const setupSeconds = (performance.now() - started) / 1000;

  const sample = requests.slice(0, AGREEMENT_SAMPLE);
  const uncachedDiffers = luigiCalls
    .slice(0, AGREEMENT_SAMPLE)
    .filter((call) => decideLuigi(call) !== decideLuigiUncached(call));
  if (uncachedDiffers.length > 0) {
    throw new Error(
      `Policy.authorize decides ${uncachedDiffers.length} of ${sample.length} requests differently without its per-principal cache`,
    );
  }
  const agreement = checkAgreement(sample, {
    here: (index) => decideLuigi(luigiCalls[index]!),
    casbin: decideCasbin,
    cedar: (index) => cedar.authorize(cedarCalls[index]!),
    cedarWithSchema: (index) => cedar.authorize(cedarSchemaCalls[index]!),
    hasConditions: (request) =>
      policy
        .applicableGrants(principals.get(request.user)!, request.permission)
        .some((grant) => grant.conditions !== undefined),
  });

  const measured = measureEach(
    [
      cyclingRunner(
        'Backstage Luigi Policy.authorize, per-principal cache',
        luigiCalls,
        decideLuigi,
      ),
      cyclingRunner('casbin (RBAC plugin model)', requests, decideCasbin),
      cyclingRunner('Cedar stateful, preparsed policies', cedarCalls, (call: CedarRequest) =>
        cedar.authorize(call),
      ),
      cyclingRunner(
        'Cedar stateful, preparsed policies and schema',
        cedarSchemaCalls,
        (call: CedarRequest) => cedar.authorize(call),
      ),
      cyclingRunner(
        'Policy.authorize without the per-principal cache',
        luigiCalls,
        decideLuigiUncached,
      ),
      newPrincipalRunner(
        'Policy.authorize with a new principal object per decision',
        luigiCalls,
        policy,
      ),
      cyclingRunner(
        'Policy.authorize on the shared entity objects',
        sharedEntityCalls,
        decideLuigi,
      ),
    ],
    secondsPerEngine,
  );
  const engines = measured.slice(0, 4);
  const variants = measured.slice(4);
  const [thisEngine, ...others] = engines;
  const fastestOther = Math.max(...others.map((engine) => engine.perSecond));
  const fastestOtherCpu = Math.max(...others.map((engine) => engine.perCpuSecond));
  const ratio = (figures: EngineFigures) => (figures.perSecond / fastestOther).toFixed(1);
  const perCpu = (figures: EngineFigures) =>
    `${figures.engine} ${Math.round(figures.perCpuSecond).toLocaleString('en-US')}`;
  const notes = [
    "Policy.authorize keeps decision plans (the grants that apply and their compiled conditions) between decisions, shared by the principals with the same roles, and each principal's claims. casbin decides each request from its role graph (a plain Enforcer, not its cached one). Cedar's calls, with each user's entities, and this engine's calls, with a copy of the entity, are built before the measurement.",
    `Without that cache: ${Math.round(variants[0]!.perSecond).toLocaleString('en-US')} decisions/s (${ratio(variants[0]!)}× the faster other engine).`,
    `With a new principal object for each decision, as the server builds one per HTTP request, so plans are found by user and group references: ${Math.round(variants[1]!.perSecond).toLocaleString('en-US')} decisions/s (${ratio(variants[1]!)}×).`,
    `With the entity objects of the generated organisation, shared by the calls that name the same entity, instead of a copy per call: ${Math.round(variants[2]!.perSecond).toLocaleString('en-US')} decisions/s (${ratio(variants[2]!)}×). The ${distinctEntities.toLocaleString('en-US')} entities that the requests read lie among the ${generated.entities.length.toLocaleString('en-US')}, so most reads wait for memory.`,
    `Per second of CPU time of this process, which other processes on the machine change less: ${[...engines, ...variants].map(perCpu).join('; ')}. Ratio of this engine to the faster other engine: ${(thisEngine!.perCpuSecond / fastestOtherCpu).toFixed(1)}×.`,
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
    variants,
    notes,
    agreement,
    setupSeconds,
  };
}

/**
 * Builds the requests with a fixed seed: 70% read one catalog entity, half of
 * them an entity that one of the user's groups owns so that ownership
 * conditions match; 15% each ask for the two basic permissions.
 */
export function createRequests(
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
    here(index: number): boolean;
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
    const expected = engines.here(index);
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

/** Time and CPU time spent on a number of decisions. */
interface Slice {
  decisions: number;
  /** Milliseconds. */
  elapsed: number;
  cpuMicroseconds: number;
}

/** An engine to measure: each call decides for about `budgetMs` and reports what it did. */
interface Runner {
  engine: string;
  run(budgetMs: number): Slice;
}

/**
 * Measures each runner in turn for `seconds`, after a quarter as long
 * unmeasured. NOTE: measuring in alternating slices, which would spread
 * changes of load on a shared machine evenly, crashed Node.js 20.20.2 (V8
 * "unreachable code" while deoptimizing CedarAuthorizer.authorize around its
 * WebAssembly call). So did letting Cedar continue past its first requests.
 */
function measureEach(runners: readonly Runner[], seconds: number): EngineFigures[] {
  return runners.map((runner) => {
    runner.run((seconds * 1000) / 4);
    return toFigures(runner.engine, runner.run(seconds * 1000));
  });
}

/**
 * Cycles through `inputs` from the first, one decision at a time, on each
 * call. NOTE: a slow engine meets only the first inputs: Cedar, at 1,000
 * to 2,500 decisions/s, decides the first 3,000 to 7,500 of the 20,000
 * requests in 3 seconds.
 */
function cyclingRunner<T>(
  engine: string,
  inputs: readonly T[],
  decide: (input: T) => boolean,
): Runner {
  return {
    engine,
    run(budgetMs) {
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
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
      return { decisions, elapsed, cpuMicroseconds: cpuTotal(process.cpuUsage(cpuStarted)) };
    },
  };
}

/**
 * Runs Policy.authorize with a new principal object for every decision,
 * copied through JSON as the server's sessions parse one per request. Each
 * call makes whole passes over the calls. The copies are made before each
 * timed pass, so their cost is left out.
 */
function newPrincipalRunner(engine: string, calls: readonly LuigiCall[], policy: Policy): Runner {
  return {
    engine,
    run(budgetMs) {
      const slice: Slice = { decisions: 0, elapsed: 0, cpuMicroseconds: 0 };
      while (slice.elapsed < budgetMs) {
        const copies = calls.map((call) => JSON.parse(JSON.stringify(call.principal)) as Principal);
        const started = performance.now();
        const cpuStarted = process.cpuUsage();
        for (let index = 0; index < calls.length; index++) {
          const call = calls[index]!;
          policy.authorize(copies[index]!, call.permission, call.resource);
        }
        slice.cpuMicroseconds += cpuTotal(process.cpuUsage(cpuStarted));
        slice.elapsed += performance.now() - started;
        slice.decisions += calls.length;
      }
      return slice;
    },
  };
}

function cpuTotal(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}

function toFigures(engine: string, run: Slice): EngineFigures {
  return {
    engine,
    decisions: run.decisions,
    seconds: run.elapsed / 1000,
    perSecond: (run.decisions * 1000) / run.elapsed,
    perCpuSecond: (run.decisions * 1_000_000) / run.cpuMicroseconds,
  };
}
