import { InputError, NotAllowedError } from '../errors/index.js';
import {
  ConditionalPlan,
  planDecision,
  SharedConditionalPlan,
  SharedDecisions,
} from './decision-plan.js';
import {
  appendTo,
  grantsOfIdentities,
  type IndexedGrant,
  indexGrants,
  type PermissionGrants,
} from './grant-index.js';
import { PrincipalCache } from './principal-cache.js';
import { ClaimsBuilder } from './principal-claims.js';
import type { PermissionRegistry } from './registry.js';
import type { RolesFile } from './roles-file.js';
import type { TemporaryMembers } from './temporary-members.js';
import type {
  ConditionCriteria,
  Decision,
  DecisionSource,
  PermissionDefinition,
  Principal,
  PrincipalClaims,
} from './types.js';

/** A grant that applies to a principal, with the reason it applies. */
export interface ApplicableGrant {
  source: DecisionSource;
  conditions?: ConditionCriteria;
  /** The principal's user and group references that are members of the grant's role. */
  via: string[];
  /** The role sets `allSignedInUsers: true`, so the grant applies to every principal. */
  allSignedInUsers: boolean;
  /**
   * End of the latest temporary membership, such as a role elevation, when
   * the principal is a member of the grant's role only through one. `via`
   * then lists the references with that membership.
   */
  temporaryUntil?: Date;
}

export interface PolicyOptions {
  /**
   * Maximum principals whose decision plans are kept between calls, default
   * 10,000. With 0 every decision is planned anew. When the cache is full,
   * the oldest principal is dropped. In bench/permissions.ts a cached
   * principal took about 1.9 KB of heap (three permissions, one conditional).
   */
  maxCachedPrincipals?: number;
  /**
   * Temporary role memberships that decisions honour besides the roles
   * file's members. A change to them, or an expiry, empties the plan cache
   * at the next decision.
   */
  temporaryMembers?: TemporaryMembers;
}

/** Default of PolicyOptions.maxCachedPrincipals. */
export const DEFAULT_MAX_CACHED_PRINCIPALS = 10_000;

/**
 * Marks a permission whose conditions each principal of a role set expands
 * and compiles for itself, because a condition with an alias names a rule
 * that cannot share its check (see CompilablePermissionRule).
 */
const EXPANDED_PER_PRINCIPAL = Symbol('expanded per principal');

/** Most role sets whose plans are kept; the map is emptied when full. */
const MAX_ROLE_SETS = 10_000;

/** Plans that the principals with the same roles share, by the permission's slot. */
class RoleSetPlans {
  readonly plans: Array<
    Decision | SharedConditionalPlan | typeof EXPANDED_PER_PRINCIPAL | undefined
  >;

  constructor(
    /**
     * Positions of the roles in the roles file, including roles held
     * temporarily and those of every signed-in user.
     */
    readonly roles: ReadonlySet<number>,
    slots: number,
  ) {
    this.plans = new Array(slots);
  }
}

/** The plan cache's entry for one principal. */
interface PrincipalState {
  /** The frozen principal that the state was built for. */
  readonly principal: Principal;
  readonly roleSet: RoleSetPlans;
  /** Undefined when a reference of the principal is not canonical (see PrincipalClaims). */
  readonly claims: PrincipalClaims | undefined;
  /** Plans of this principal alone, by slot, where the shared plan cannot decide for it. */
  own: Array<Decision | ConditionalPlan | undefined> | undefined;
}

/** A registered permission that a decision requested, with its slot in the arrays of plans. */
interface RequestedPermission {
  definition: PermissionDefinition;
  slot: number;
}

/**
 * The roles in force, compiled for lookups by permission and member. Default
 * deny: a permission that no role grants to the principal is denied, and a
 * deny grant wins over any allow grant.
 *
 * The plan for a permission (the grants that apply, their decision or their
 * compiled conditions) is built on the first request and shared by the
 * principals with the same roles. Conditions with the aliases `$currentUser`
 * and `$ownerRefs` read each principal's claims (see PrincipalClaims), or are
 * expanded and compiled for the principal alone when a rule cannot share its
 * check or a reference of the principal is not canonical. What each
 * principal needs is kept in a per-principal cache, which a principal with
 * other groups or ownership references misses (see PrincipalCache). Loading
 * new roles builds a new Policy, so it starts with an empty cache. A change
 * of the temporary memberships, including the expiry of one, empties the
 * cache too.
 */
export class Policy {
  private readonly grants: Map<string, PermissionGrants>;
  private readonly shared = new SharedDecisions();
  private principals: PrincipalCache<PrincipalState> | undefined;
  private roleSets = new Map<string, RoleSetPlans>();
  private readonly claims = new ClaimsBuilder();
  /**
   * Positions of the roles that list each lowercase member reference. Role
   * sets count roles by position, so that two roles of one name in a roles
   * file that skipped the loader's checks stay apart, as grants do.
   */
  private readonly rolesByMember = new Map<string, number[]>();
  /** Positions of the roles with `allSignedInUsers: true`. */
  private readonly everyoneRoles: number[] = [];
  /** Positions of the roles by name, for temporary members of a role. */
  private readonly rolesByName = new Map<string, number[]>();
  private readonly maxCachedPrincipals: number;
  private readonly temporary: TemporaryMembers | undefined;
  /** The TemporaryMembers version that the cached plans were built with. */
  private temporaryVersion = -1;
  /** Permissions requested so far, numbered so that plans are kept in arrays rather than maps. */
  private readonly requested = new Map<string, RequestedPermission>();

  constructor(
    readonly roles: RolesFile,
    private readonly registry: PermissionRegistry,
    options: PolicyOptions = {},
  ) {
    const maxCachedPrincipals = options.maxCachedPrincipals ?? DEFAULT_MAX_CACHED_PRINCIPALS;
    if (!Number.isInteger(maxCachedPrincipals) || maxCachedPrincipals < 0) {
      throw new InputError(
        `maxCachedPrincipals ${maxCachedPrincipals} is invalid: use a whole number, 0 to plan every decision anew`,
      );
    }
    this.grants = indexGrants(roles, registry);
    roles.roles.forEach((role, position) => {
      if (role.allSignedInUsers === true) {
        this.everyoneRoles.push(position);
      }
      appendTo(this.rolesByName, role.name, position);
      for (const member of new Set(role.members.map((item) => item.toLowerCase()))) {
        appendTo(this.rolesByMember, member, position);
      }
    });
    this.maxCachedPrincipals = maxCachedPrincipals;
    this.temporary = options.temporaryMembers;
    this.principals = this.emptyCache();
  }

  /**
   * Lists the grants of a permission that apply to the principal, in roles
   * file order, each with the principal's references that made it a member.
   * Conditions are returned as written, with their aliases not expanded.
   */
  applicableGrants(principal: Principal, permissionName: string): ApplicableGrant[] {
    const identities = identitiesOf(principal);
    const temporaryRoles = this.temporaryRolesOf(identities);
    const grants = grantsOfIdentities(
      this.grants.get(permissionName),
      identities,
      temporaryRoles.keys(),
    );
    return grants.map((grant) => {
      const applicable: ApplicableGrant = {
        source: grant.source,
        via: identities.filter((identity) => grant.members.has(identity)).sort(),
        allSignedInUsers: grant.everyone,
        ...(grant.conditions ? { conditions: grant.conditions } : {}),
      };
      const temporaryUntil = temporaryRoles.get(grant.source.role);
      if (applicable.via.length > 0 || grant.everyone || !temporaryUntil) {
        return applicable;
      }
      applicable.via = identities
        .filter((identity) => this.temporary?.rolesOf([identity]).has(grant.source.role))
        .sort();
      applicable.temporaryUntil = temporaryUntil;
      return applicable;
    });
  }

  /**
   * Decides whether the principal holds the permission. With a resource, the
   * answer is ALLOW or DENY; without one, a resource permission granted under
   * conditions returns CONDITIONAL with the aliases expanded, for the owning
   * capability to turn into a query. ALLOW and DENY decisions are frozen and
   * shared between calls, so copy one before changing it. Unless the policy
   * keeps no plans (maxCachedPrincipals 0), the first call with a principal
   * whose references the cache has not seen freezes it and its arrays (see
   * PrincipalCache).
   */
  authorize(principal: Principal, permissionName: string, resource?: unknown): Decision {
    if (this.temporary) {
      const version = this.temporary.version();
      if (version !== this.temporaryVersion) {
        this.temporaryVersion = version;
        this.principals = this.emptyCache();
        this.roleSets = new Map();
      }
    }
    const permission = this.requestedPermission(permissionName);
    if (!this.principals) {
      const plan = this.plan(principal, permission.definition);
      return plan instanceof ConditionalPlan ? plan.decide(resource) : plan;
    }
    // The state was built for a principal with the same references.
    const state = this.principals.get(principal);
    const { slot } = permission;
    let plan = state.roleSet.plans[slot];
    if (plan === undefined) {
      plan = this.planRoleSet(state.roleSet, permission.definition);
      state.roleSet.plans[slot] = plan;
    }
    if (plan instanceof SharedConditionalPlan) {
      if (!plan.needsClaims || state.claims !== undefined) {
        return plan.decide(resource, principal, state.claims);
      }
    } else if (plan !== EXPANDED_PER_PRINCIPAL) {
      return plan;
    }
    const own = this.ownPlan(state, permission);
    return own instanceof ConditionalPlan ? own.decide(resource) : own;
  }

  /** Looks the permission up; the registry has no way to remove one, so a found one is kept. */
  private requestedPermission(permissionName: string): RequestedPermission {
    const known = this.requested.get(permissionName);
    if (known) {
      return known;
    }
    const definition = this.registry.getPermission(permissionName);
    if (!definition) {
      throw new NotAllowedError(`Permission ${permissionName} is not registered`);
    }
    const requested = { definition, slot: this.requested.size };
    this.requested.set(permissionName, requested);
    return requested;
  }

  /** Builds the state of a principal that the cache has not seen with these references. */
  private stateOf(principal: Principal): PrincipalState {
    const identities = identitiesOf(principal);
    const roles = new Set(this.everyoneRoles);
    for (const identity of identities) {
      for (const role of this.rolesByMember.get(identity) ?? []) {
        roles.add(role);
      }
    }
    for (const name of this.temporaryRolesOf(identities).keys()) {
      for (const role of this.rolesByName.get(name) ?? []) {
        roles.add(role);
      }
    }
    const key = [...roles].sort((a, b) => a - b).join(',');
    let roleSet = this.roleSets.get(key);
    if (!roleSet) {
      if (this.roleSets.size >= MAX_ROLE_SETS) {
        // States keep their role set, so this only stops sharing with new principals.
        this.roleSets.clear();
      }
      roleSet = new RoleSetPlans(roles, this.requested.size);
      this.roleSets.set(key, roleSet);
    }
    return { principal, roleSet, claims: this.claims.claimsOf(principal), own: undefined };
  }

  /** Plans a permission for every principal of the role set. */
  private planRoleSet(
    roleSet: RoleSetPlans,
    permission: PermissionDefinition,
  ): Decision | SharedConditionalPlan | typeof EXPANDED_PER_PRINCIPAL {
    const grants = this.grantsOfRoles(roleSet, permission);
    // Roles are validated at load, so only resource permissions have conditions.
    const resourceType = permission.resourceType as string;
    const plan = planDecision(grants, undefined, resourceType, this.registry, this.shared);
    return plan ?? EXPANDED_PER_PRINCIPAL;
  }

  /** Plans a permission for the state's principal alone, with its aliases expanded. */
  private ownPlan(
    state: PrincipalState,
    permission: RequestedPermission,
  ): Decision | ConditionalPlan {
    state.own ??= [];
    let plan = state.own[permission.slot];
    if (!plan) {
      const grants = this.grantsOfRoles(state.roleSet, permission.definition);
      const resourceType = permission.definition.resourceType as string;
      plan = planDecision(grants, state.principal, resourceType, this.registry, this.shared);
      state.own[permission.slot] = plan;
    }
    return plan;
  }

  /** Lists the permission's grants of the role set's roles, in roles file order. */
  private grantsOfRoles(roleSet: RoleSetPlans, permission: PermissionDefinition): IndexedGrant[] {
    const byRoleIndex = this.grants.get(permission.name)?.byRoleIndex;
    const found: IndexedGrant[] = [];
    for (const role of roleSet.roles) {
      found.push(...(byRoleIndex?.get(role) ?? []));
    }
    return found.sort((a, b) => a.position - b.position);
  }

  private plan(principal: Principal, permission: PermissionDefinition): Decision | ConditionalPlan {
    const identities = identitiesOf(principal);
    const grants = grantsOfIdentities(
      this.grants.get(permission.name),
      identities,
      this.temporaryRolesOf(identities).keys(),
    );
    // Roles are validated at load, so only resource permissions have conditions.
    const resourceType = permission.resourceType as string;
    return planDecision(grants, principal, resourceType, this.registry, this.shared);
  }

  private temporaryRolesOf(identities: readonly string[]): Map<string, Date> {
    if (!this.temporary) {
      return new Map();
    }
    this.temporary.version();
    return this.temporary.rolesOf(identities);
  }

  private emptyCache(): PrincipalCache<PrincipalState> | undefined {
    if (this.maxCachedPrincipals === 0) {
      return undefined;
    }
    return new PrincipalCache(this.maxCachedPrincipals, (principal) => this.stateOf(principal));
  }
}

/** Returns the principal's user and group references, lowercase and each once, as role members are stored. */
function identitiesOf(principal: Principal): string[] {
  return [
    ...new Set([
      principal.userEntityRef.toLowerCase(),
      ...principal.groupEntityRefs.map((ref) => ref.toLowerCase()),
    ]),
  ];
}
