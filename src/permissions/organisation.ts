import type { Principal } from './types.js';

/** Users and groups as the catalog stores them, with direct links only. */
export interface OrganisationInput {
  users: ReadonlyArray<{ ref: string; groupRefs: readonly string[] }>;
  groups: ReadonlyArray<{ ref: string; parentRefs: readonly string[] }>;
}

/** Users and groups with memberships closed over group parents; every reference lowercase. */
export interface Organisation {
  /** Each user's groups: direct ones and all their ancestors. */
  readonly groupsOfUser: ReadonlyMap<string, readonly string[]>;
  /** Each user's direct groups. */
  readonly directGroupsOfUser: ReadonlyMap<string, readonly string[]>;
  /** Each group's ancestors through parents, the group itself first. */
  readonly groupAndAncestors: ReadonlyMap<string, readonly string[]>;
  /** Users who belong to each group, directly or through a group below it. */
  readonly usersOfGroup: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Closes memberships over group parents. A cycle of parents ends the walk,
 * so every group of a cycle counts as an ancestor of the others.
 */
export function buildOrganisation(input: OrganisationInput): Organisation {
  const parents = new Map<string, string[]>();
  for (const group of input.groups) {
    parents.set(
      group.ref.toLowerCase(),
      group.parentRefs.map((ref) => ref.toLowerCase()),
    );
  }

  const groupAndAncestors = new Map<string, string[]>();
  const ancestorsOf = (ref: string): string[] => {
    const known = groupAndAncestors.get(ref);
    if (known) {
      return known;
    }
    const seen = new Set<string>([ref]);
    const pending = [...(parents.get(ref) ?? [])];
    while (pending.length > 0) {
      const next = pending.pop() as string;
      if (!seen.has(next)) {
        seen.add(next);
        pending.push(...(parents.get(next) ?? []));
      }
    }
    const result = [...seen];
    groupAndAncestors.set(ref, result);
    return result;
  };
  for (const ref of parents.keys()) {
    ancestorsOf(ref);
  }

  const groupsOfUser = new Map<string, string[]>();
  const directGroupsOfUser = new Map<string, string[]>();
  const usersOfGroup = new Map<string, Set<string>>();
  for (const ref of parents.keys()) {
    usersOfGroup.set(ref, new Set());
  }
  for (const user of input.users) {
    const userRef = user.ref.toLowerCase();
    const groups = new Set<string>();
    for (const direct of user.groupRefs) {
      for (const group of ancestorsOf(direct.toLowerCase())) {
        groups.add(group);
      }
    }
    groupsOfUser.set(userRef, [...groups]);
    directGroupsOfUser.set(
      userRef,
      user.groupRefs.map((ref) => ref.toLowerCase()),
    );
    for (const group of groups) {
      let members = usersOfGroup.get(group);
      if (!members) {
        members = new Set();
        usersOfGroup.set(group, members);
      }
      members.add(userRef);
    }
  }
  return { groupsOfUser, directGroupsOfUser, groupAndAncestors, usersOfGroup };
}

/** Builds the principal that sign-in would give a user of the organisation. */
export function principalOfUser(
  organisation: Organisation,
  userRef: string,
  transitiveGroupOwnership: boolean,
): Principal {
  const ref = userRef.toLowerCase();
  const groups = [...(organisation.groupsOfUser.get(ref) ?? [])];
  const owning = transitiveGroupOwnership
    ? groups
    : [...(organisation.directGroupsOfUser.get(ref) ?? [])];
  return { userEntityRef: ref, groupEntityRefs: groups, ownershipEntityRefs: [ref, ...owning] };
}

/**
 * Placeholder user reference for "any member of a group" in a policy plan.
 * It equals the `$currentUser` alias, so conditions print with the alias in
 * place, and no role can list it as a member.
 */
export const ANY_MEMBER_REF = '$currentUser';

/** Builds the principal of a member of the group who belongs to no other group. */
export function principalOfGroupMember(
  organisation: Organisation,
  groupRef: string,
  transitiveGroupOwnership: boolean,
): Principal {
  const ref = groupRef.toLowerCase();
  const groups = [...(organisation.groupAndAncestors.get(ref) ?? [ref])];
  return {
    userEntityRef: ANY_MEMBER_REF,
    groupEntityRefs: groups,
    // Without transitive ownership the member owns only what the member and
    // the group itself own, as sign-in decides for a real user.
    ownershipEntityRefs: transitiveGroupOwnership
      ? [ANY_MEMBER_REF, ...groups]
      : [ANY_MEMBER_REF, ref],
  };
}
