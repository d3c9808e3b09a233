import { type Organisation, principalOfGroupMember, principalOfUser } from './organisation.js';
import type { Policy } from './policy.js';
import type { PermissionRegistry } from './registry.js';
import type { ConditionCriteria, Decision, Principal } from './types.js';

/** A subject's access under one permission: none, every resource, or the resources that match the conditions. */
export type Holding =
  | { result: 'ALLOW' }
  | { result: 'DENY' }
  | { result: 'CONDITIONAL'; conditions: ConditionCriteria };

export interface PermissionChange {
  permission: string;
  before: Holding;
  after: Holding;
}

/** The changes for one user, or for a member of one group who belongs to no other group. */
export interface SubjectChanges {
  subject: string;
  kind: 'user' | 'group';
  /** Permissions denied before and allowed, fully or under conditions, after. */
  gained: PermissionChange[];
  /** Permissions allowed, fully or under conditions, before and denied after. */
  lost: PermissionChange[];
  /** Permissions held before and after, under other conditions. */
  changed: PermissionChange[];
}

export interface PolicyPlan {
  users: SubjectChanges[];
  groups: SubjectChanges[];
  /** Subjects compared, whether or not anything changed for them. */
  usersCompared: number;
  groupsCompared: number;
}

export interface PlanOptions {
  registry: PermissionRegistry;
  organisation: Organisation;
  transitiveGroupOwnership: boolean;
}

/**
 * Compares two policies for every user and group of the organisation: for
 * each registered permission, what the subject held before and after. Only
 * subjects with a change are listed. A group's entry is what membership of
 * that group alone grants, with `$currentUser` standing for the member.
 */
export function planPolicyChange(before: Policy, after: Policy, options: PlanOptions): PolicyPlan {
  const permissions = options.registry.listPermissions().map((definition) => definition.name);
  const compare = (subject: string, kind: 'user' | 'group', principal: Principal) => {
    const changes: SubjectChanges = { subject, kind, gained: [], lost: [], changed: [] };
    for (const permission of permissions) {
      const was = holdingOf(before.authorize(principal, permission));
      const now = holdingOf(after.authorize(principal, permission));
      const change = { permission, before: was, after: now };
      if (was.result === 'DENY' && now.result !== 'DENY') {
        changes.gained.push(change);
      } else if (was.result !== 'DENY' && now.result === 'DENY') {
        changes.lost.push(change);
      } else if (stableJson(was) !== stableJson(now)) {
        changes.changed.push(change);
      }
    }
    return changes;
  };
  const hasChanges = (changes: SubjectChanges) =>
    changes.gained.length + changes.lost.length + changes.changed.length > 0;

  const userRefs = [...options.organisation.groupsOfUser.keys()].sort();
  const groupRefs = [...options.organisation.groupAndAncestors.keys()].sort();
  const users = userRefs
    .map((ref) =>
      compare(
        ref,
        'user',
        principalOfUser(options.organisation, ref, options.transitiveGroupOwnership),
      ),
    )
    .filter(hasChanges);
  const groups = groupRefs
    .map((ref) =>
      compare(
        ref,
        'group',
        principalOfGroupMember(options.organisation, ref, options.transitiveGroupOwnership),
      ),
    )
    .filter(hasChanges);
  return { users, groups, usersCompared: userRefs.length, groupsCompared: groupRefs.length };
}

function holdingOf(decision: Decision): Holding {
  if (decision.result === 'CONDITIONAL') {
    return { result: 'CONDITIONAL', conditions: decision.conditions };
  }
  return { result: decision.result };
}

/** JSON with object keys sorted, so equal conditions compare equal whatever their key order. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : item,
  );
}

/** Formats a plan for a reviewer: per subject, one line per permission gained, lost or changed. */
export function formatPolicyPlan(plan: PolicyPlan): string {
  const lines: string[] = [];
  const describe = (holding: Holding) =>
    holding.result === 'CONDITIONAL'
      ? `where ${formatConditions(holding.conditions)}`
      : holding.result === 'ALLOW'
        ? 'on every resource'
        : 'nothing';
  for (const subject of [...plan.users, ...plan.groups]) {
    lines.push(`${subject.kind === 'user' ? 'User' : 'Group'} ${subject.subject}`);
    for (const change of subject.gained) {
      lines.push(`  + ${change.permission} ${describe(change.after)}`);
    }
    for (const change of subject.lost) {
      lines.push(`  - ${change.permission} (held ${describe(change.before)})`);
    }
    for (const change of subject.changed) {
      lines.push(
        `  ~ ${change.permission} ${describe(change.after)} (was ${describe(change.before)})`,
      );
    }
  }
  const changedUsers = plan.users.length;
  const changedGroups = plan.groups.length;
  lines.push(
    changedUsers + changedGroups === 0
      ? `No changes for ${plan.usersCompared} users and ${plan.groupsCompared} groups.`
      : `Changes for ${changedUsers} of ${plan.usersCompared} users and ${changedGroups} of ${plan.groupsCompared} groups.`,
  );
  return `${lines.join('\n')}\n`;
}

/** Formats criteria compactly: `IS_ENTITY_KIND(kinds=[API]) and not HAS_LABEL(label=x)`. */
export function formatConditions(criteria: ConditionCriteria): string {
  if ('allOf' in criteria) {
    return `(${criteria.allOf.map(formatConditions).join(' and ')})`;
  }
  if ('anyOf' in criteria) {
    return `(${criteria.anyOf.map(formatConditions).join(' or ')})`;
  }
  if ('not' in criteria) {
    return `not ${formatConditions(criteria.not)}`;
  }
  const params = Object.entries(criteria.params ?? {})
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(', ');
  return `${criteria.rule}(${params})`;
}
