import { Policy, type Principal } from '../src/permissions/index.js';
import { buildOrganisation, principalOfUser } from '../src/permissions/organisation.js';
import {
  createBenchRegistry,
  createPermissionOrganisation,
  loadBenchRoles,
} from './permission-organisation.js';
import { type BenchRequest, createRequests } from './permissions.js';

/**
 * Times Policy.authorize alone on the requests of bench/permissions.ts, by
 * kind of request, and again with the requests narrowed to the first 400
 * users. The narrowed figure shows how much of a decision is waiting for
 * memory, because fewer principals and entities fit in the processor caches.
 * Each figure is the best of seven rounds of CPU time per decision, after
 * two unmeasured passes that build every plan.
 *
 * Run: node --import tsx bench/permission-profile.ts
 */

const ROUNDS = 7;
const PASSES_PER_ROUND = 5;
const NARROWED_USERS = 400;

interface Call {
  principal: Principal;
  permission: string;
  resource: BenchRequest['resource'];
}

function main(): void {
  const generated = createPermissionOrganisation();
  const organisation = buildOrganisation(generated);
  const registry = createBenchRegistry();
  const policy = new Policy(loadBenchRoles(generated, registry), registry);

  const requests = createRequests(generated, organisation.groupsOfUser);
  const principals = new Map<string, Principal>();
  const calls: Call[] = requests.map((request) => {
    let principal = principals.get(request.user);
    if (!principal) {
      principal = principalOfUser(organisation, request.user, true);
      principals.set(request.user, principal);
    }
    return { principal, permission: request.permission, resource: request.resource };
  });

  const decide = (call: Call) => policy.authorize(call.principal, call.permission, call.resource);
  for (let pass = 0; pass < 2; pass++) {
    calls.forEach(decide);
  }

  const userNumber = (call: Call) => Number(call.principal.userEntityRef.split('-').at(-1));
  // As in bench/permissions.ts, each call gets its own copy of the entity.
  const ownCopies = calls.map((call) => ({ ...call, resource: structuredClone(call.resource) }));
  const sets: Array<[string, Call[]]> = [
    ['every request, each with its own copy of the entity', ownCopies],
    [
      'entity reads, each with its own copy',
      ownCopies.filter((call) => call.resource !== undefined),
    ],
    ['every request, the entities shared', calls],
    ['entity reads, the entities shared', calls.filter((call) => call.resource !== undefined)],
    ['basic permissions', calls.filter((call) => call.resource === undefined)],
    [
      `entity reads of the first ${NARROWED_USERS} users, the entities shared`,
      calls.filter((call) => call.resource !== undefined && userNumber(call) < NARROWED_USERS),
    ],
  ];

  console.log(
    `Policy.authorize alone: ${calls.length.toLocaleString('en-US')} requests, ${principals.size.toLocaleString('en-US')} principals`,
  );
  for (const [name, set] of sets) {
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < ROUNDS; round++) {
      const started = process.cpuUsage();
      for (let pass = 0; pass < PASSES_PER_ROUND; pass++) {
        for (const call of set) {
          decide(call);
        }
      }
      const used = process.cpuUsage(started);
      best = Math.min(best, ((used.user + used.system) * 1000) / (PASSES_PER_ROUND * set.length));
    }
    console.log(
      `  ${name} (${set.length.toLocaleString('en-US')}): ${Math.round(best)} ns of CPU per decision`,
    );
  }
}

main();
