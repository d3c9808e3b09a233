import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import type { CatalogDirectory } from '../catalog/index.js';
import { AuthenticationError } from '../errors/index.js';
import type { Principal } from '../permissions/index.js';
import type { GroupMapper } from './group-mapping.js';

/** The identity claims that sign-in resolution reads, taken from a validated ID token. */
export interface IdentityClaims {
  sub: string;
  email?: string;
  /** `email_verified`; an email explicitly marked unverified is not matched. */
  emailVerified?: boolean;
  name?: string;
  preferredUsername?: string;
  /** Values of the groups claim (`auth.oidc.groupsClaim`), as sent. */
  groups: string[];
  /**
   * True when the token names an endpoint for the groups instead of listing
   * them (distributed claims, OpenID Connect Core 5.6.2), as Entra ID does
   * for a user in more groups than fit into a token.
   */
  groupsDistributed?: boolean;
}

export interface SignInResolution {
  principal: Principal;
  /** Claim through which the User entity was found. */
  matchedBy: 'email' | 'preferred_username' | 'sub';
  /** Values of the groups claim that name no Group entity. */
  unknownGroups: string[];
  /** Group parent cycles met while collecting ancestors. */
  cycles: string[][];
}

export interface ResolveSignInOptions {
  directory: CatalogDirectory;
  /** `permission.transitiveGroupOwnership`: whether ancestors' ownership counts as the user's. */
  transitiveGroupOwnership: boolean;
  /**
   * Turns groups-claim values into Group references (`auth.oidc.groupMapping`).
   * Without it, a value is read as a Group name or reference.
   */
  mapGroups?: GroupMapper;
}

/** Reads the claims that resolution needs from an ID token's claim set. */
export function readIdentityClaims(
  claims: Readonly<Record<string, unknown>>,
  groupsClaim: string,
): IdentityClaims {
  const result: IdentityClaims = { sub: String(claims.sub ?? ''), groups: [] };

  if (typeof claims.email === 'string' && claims.email.trim() !== '') {
    result.email = claims.email.trim();
  }
  if (typeof claims.email_verified === 'boolean') {
    result.emailVerified = claims.email_verified;
  }
  if (typeof claims.name === 'string' && claims.name.trim() !== '') {
    result.name = claims.name.trim();
  }
  if (typeof claims.preferred_username === 'string' && claims.preferred_username.trim() !== '') {
    result.preferredUsername = claims.preferred_username.trim();
  }

  // Providers send the groups claim as an array, and some as one string.
  const groups = claims[groupsClaim];
  const values = Array.isArray(groups) ? groups : [groups];
  result.groups = values.filter(
    (value): value is string => typeof value === 'string' && value.trim() !== '',
  );

  // Entra ID marks an overage with `hasgroups` in tokens of the implicit flow.
  const claimNames = claims._claim_names;
  const distributed =
    typeof claimNames === 'object' && claimNames !== null && groupsClaim in claimNames;
  if (groups === undefined && (distributed || claims.hasgroups === true)) {
    result.groupsDistributed = true;
  }
  return result;
}

/**
 * Finds the user's User entity and builds the Principal: the groups of the
 * claim that exist in the catalog, the catalog's own memberships, and every
 * ancestor of those through Group parents. Throws an AuthenticationError
 * when no User entity matches.
 */
export async function resolveSignIn(
  claims: IdentityClaims,
  options: ResolveSignInOptions,
): Promise<SignInResolution> {
  const { directory } = options;
  const match = await findUser(claims, directory);
  if (!match) {
    throw new AuthenticationError(describeMissingUser(claims), { code: 'SIGN_IN_USER_NOT_FOUND' });
  }

  const mapGroups = options.mapGroups ?? mapGroupsByName(directory);
  const mapped = await mapGroups(claims.groups);

  const { principal, cycles } = await buildPrincipal(match.userRef, mapped.groupRefs, options);
  return { principal, matchedBy: match.matchedBy, unknownGroups: mapped.unmatched, cycles };
}

/** Creates the mapping without rules: each value is a Group name of the default namespace or a full reference. */
function mapGroupsByName(directory: CatalogDirectory): GroupMapper {
  return async (values) => {
    const groupRefs: string[] = [];
    const unmatched: string[] = [];
    for (const value of values) {
      const candidate = groupRefFromClaim(value);
      const found = candidate ? await directory.findGroupRef(candidate) : undefined;
      if (found) {
        groupRefs.push(found.toLowerCase());
      } else {
        unmatched.push(value);
      }
    }
    return { groupRefs, unmatched };
  };
}

/**
 * Builds the Principal of a User entity named by reference from the catalog
 * alone, as sign-in does but without a groups claim: the catalog's
 * memberships and every ancestor of those groups. Returns undefined when no
 * User entity has that reference.
 */
export async function resolveUserPrincipal(
  userRef: string,
  options: ResolveSignInOptions,
): Promise<Principal | undefined> {
  const found = await options.directory.findUserRef(userRef);
  if (!found) {
    return undefined;
  }
  const { principal } = await buildPrincipal(found.toLowerCase(), [], options);
  return principal;
}

/** Joins the claim groups with the catalog's memberships and their ancestors into a Principal. */
async function buildPrincipal(
  userRef: string,
  claimGroups: readonly string[],
  options: ResolveSignInOptions,
): Promise<{ principal: Principal; cycles: string[][] }> {
  const { directory } = options;
  const catalogGroups = await directory.getDirectGroupRefs(userRef);
  const directGroups = unique([...claimGroups, ...catalogGroups.map((ref) => ref.toLowerCase())]);
  const expanded = await directory.expandGroupAncestors(directGroups);
  const allGroups = unique([
    ...directGroups,
    ...expanded.groupRefs.map((ref) => ref.toLowerCase()),
  ]);

  const ownedThrough = options.transitiveGroupOwnership ? allGroups : directGroups;
  return {
    principal: {
      userEntityRef: userRef,
      groupEntityRefs: allGroups,
      ownershipEntityRefs: [userRef, ...ownedThrough.filter((ref) => ref !== userRef)],
    },
    cycles: expanded.cycles,
  };
}

async function findUser(
  claims: IdentityClaims,
  directory: CatalogDirectory,
): Promise<{ userRef: string; matchedBy: SignInResolution['matchedBy'] } | undefined> {
  if (claims.email && claims.emailVerified !== false) {
    const userRef = await directory.findUserRefByEmail(claims.email);
    if (userRef) {
      return { userRef: userRef.toLowerCase(), matchedBy: 'email' };
    }
  }

  if (claims.preferredUsername) {
    const userRef = await directory.findUserRefByName(claims.preferredUsername);
    if (userRef) {
      return { userRef: userRef.toLowerCase(), matchedBy: 'preferred_username' };
    }
  }

  if (claims.sub) {
    const userRef = await directory.findUserRefByName(claims.sub);
    if (userRef) {
      return { userRef: userRef.toLowerCase(), matchedBy: 'sub' };
    }
  }
  return undefined;
}

function describeMissingUser(claims: IdentityClaims): string {
  const email =
    claims.email && claims.emailVerified !== false
      ? `'${claims.email}'`
      : claims.email
        ? `(the email '${claims.email}' is marked unverified)`
        : '(none sent)';
  const names = unique(
    [claims.preferredUsername, claims.sub].filter((name): name is string => Boolean(name)),
  );
  const name = names.length > 0 ? names.map((item) => `'${item}'`).join(' or ') : '(none sent)';
  const example = names[0] ?? 'the user name';
  return (
    `Sign-in failed: no User entity in the catalog matches email ${email} or name ${name}: ` +
    `add one with spec.profile.email set to that email, or named ${example} in the default namespace, ` +
    'to a catalog location that may define users'
  );
}

/**
 * Reads a groups-claim value as a Group reference: a bare name means a Group
 * of `namespace`, and a full reference (`group:default/team-a`) is taken as
 * written. Returns undefined for anything else.
 */
export function groupRefFromClaim(value: string, namespace = 'default'): string | undefined {
  try {
    const ref = parseEntityRef(value.trim(), { defaultKind: 'group', defaultNamespace: namespace });
    if (ref.kind.toLowerCase() !== 'group') {
      return undefined;
    }
    return stringifyEntityRef(ref).toLowerCase();
  } catch {
    return undefined;
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
