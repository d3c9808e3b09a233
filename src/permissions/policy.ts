import { InputError, NotAllowedError } from '../errors/index.js';
import { ConditionalPlan, planDecision, SharedDecisions } from './decision-plan.js';
import { grantsOfIdentities, indexGrants, type PermissionGrants } from './grant-index.js';
import { PrincipalCache } from './principal-cache.js';
import type { PermissionRegistry } from './registry.js';
import type { RolesFile } from './roles-file.js';
import type { TemporaryMembers } from './temporary-members.js';
import type {
  ConditionCriteria,
  Decision,
  DecisionSource,
  PermissionDefinition,
  Principal,
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

/** Decision plans of one principal, indexed by the permission's slot. */
type PrincipalPlans = Array<Decision | ConditionalPlan | undefined>;

/** A registered permission that a decision requested, with its slot in PrincipalPlans. */
interface RequestedPermission {
  definition: PermissionDefinition;
  slot: number;
}

/**
 * The roles in force, compiled for lookups by permission and member. Default
 * deny: a permission that no role grants to the principal is denied, and a
 * deny grant wins over any allow grant.
 *
 * Each principal's plan for a permission (the grants that apply, their
 * decision or their compiled conditions) is built on the first request and
 * kept in a per-principal cache, which a principal with other groups or
 * ownership references misses (see PrincipalCache). Loading new roles builds
 * a new Policy, so it starts with an empty cache. A change of the temporary
 * memberships, including the expiry of one, empties the cache too.
 */
export class Policy {
  private readonly grants: Map<string, PermissionGrants>;
  private readonly shared = new SharedDecisions();
  private principals: PrincipalCache<PrincipalPlans> | undefined;
  private readonly maxCachedPrincipals: number;
  private readonly temporary: TemporaryMembers | undefined;
  /** The TemporaryMembers version that the cached plans were built with. */
  private temporaryVersion = -1;
  /** Permissions requested so far, numbered so that a principal's plans are an array rather than a map. */
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
   * object freezes it and its arrays (see PrincipalCache).
   */
  authorize(principal: Principal, permissionName: string, resource?: unknown): Decision {
    if (this.temporary) {
      const version = this.temporary.version();
      if (version !== this.temporaryVersion) {
        this.temporaryVersion = version;
        this.principals = this.emptyCache();
      }
    }
    const permission = this.requestedPermission(permissionName);
    const plan = this.planOf(principal, permission);
    return plan instanceof ConditionalPlan ? plan.decide(resource) : plan;
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

  private planOf(
    principal: Principal,
    permission: RequestedPermission,
  ): Decision | ConditionalPlan {
    if (!this.principals) {
      return this.plan(principal, permission.definition);
    }
    // The cache froze the principal, and a cached plan was built for the same references.
    const plans = this.principals.get(principal);
    let plan = plans[permission.slot];
    if (!plan) {
      plan = this.plan(principal, permission.definition);
      plans[permission.slot] = plan;
    }
    return plan;
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

  private emptyCache(): PrincipalCache<PrincipalPlans> | undefined {
    if (this.maxCachedPrincipals === 0) {
      return undefined;
    }
    // Sized for every permission requested so far, so the array rarely grows.
    return new PrincipalCache(this.maxCachedPrincipals, () => new Array(this.requested.size));
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
