import {
  ANY_MEMBER_REF,
  type Organisation,
  principalOfGroupMember,
  principalOfUser,
} from './organisation.js';
import { formatConditions } from './plan.js';
import type { Policy } from './policy.js';
import type { PermissionRegistry } from './registry.js';
import type { ConditionCriteria, DecisionSource, Principal } from './types.js';

/** One permission that a subject holds, with the evidence behind it. */
export interface HeldPermission {
  permission: string;
  /** `allow` on every resource, or `conditional` on the resources that match `conditions`. */
  decision: 'allow' | 'conditional';
  /**
   * The conditions of a conditional decision. A user's conditions have
   * their aliases expanded, and a group's keep `$currentUser` for the member.
   */
  conditions?: ConditionCriteria;
  /** The grants the decision rests on: the allow grants that give it and the deny grants that narrow it. */
  grants: DecisionSource[];
  /** The subject itself is a member of a role whose allow grant gives the permission. */
  direct: boolean;
  /** Groups of the subject, other than itself, whose membership of a role gives the permission. */
  via: string[];
  /** A role with `allSignedInUsers: true` gives the permission. */
  allSignedInUsers: boolean;
}

/** A user or group of the catalog and the permissions it holds; an empty list means none. */
export interface SubjectAccess {
  kind: 'user' | 'group';
  reference: string;
  permissions: HeldPermission[];
}

export interface AccessReview {
  users: SubjectAccess[];
  groups: SubjectAccess[];
}

export interface AccessReviewOptions {
  registry: PermissionRegistry;
  organisation: Organisation;
  transitiveGroupOwnership: boolean;
}

/**
 * Lists, for every user and group of the organisation, each registered
 * permission they hold under the policy, decided by Policy.authorize as the
 * server decides it. A group's entry is what a member who belongs to no
 * other group holds, as in a policy plan, so it includes what every
 * signed-in user holds.
 */
export function reviewAccess(policy: Policy, options: AccessReviewOptions): AccessReview {
  const permissions = options.registry.listPermissions().map((definition) => definition.name);
  const review = (kind: 'user' | 'group', reference: string, principal: Principal) => ({
    kind,
    reference,
    permissions: permissions.flatMap((permission) => {
      const heldPermission = findHeldPermission(policy, principal, permission, reference);
      return heldPermission ? [heldPermission] : [];
    }),
  });

  const { organisation, transitiveGroupOwnership } = options;
  // NOTE: users get the catalog's memberships only. Sign-in also adds the
  // groups named by the identity provider's groups claim, which can be more.
  const users = [...organisation.groupsOfUser.keys()]
    .sort()
    .map((ref) =>
      review(
        'user',
        ref,
        sortReferences(principalOfUser(organisation, ref, transitiveGroupOwnership)),
      ),
    );
  const groups = [...organisation.groupAndAncestors.keys()]
    .sort()
    .map((ref) =>
      review(
        'group',
        ref,
        sortReferences(principalOfGroupMember(organisation, ref, transitiveGroupOwnership)),
      ),
    );
  return { users, groups };
}

/**
 * Sorts a principal's references after the leading ones (the user, and the
 * group for a group's member), so that conditions with expanded aliases
 * read the same whatever order the database returned the memberships in.
 */
function sortReferences(principal: Principal): Principal {
  const isGroupMember = principal.userEntityRef === ANY_MEMBER_REF;
  const keepFirst = (refs: readonly string[], count: number) => [
    ...refs.slice(0, count),
    ...refs.slice(count).sort(),
  ];
  return {
    userEntityRef: principal.userEntityRef,
    groupEntityRefs: keepFirst(principal.groupEntityRefs, isGroupMember ? 1 : 0),
    ownershipEntityRefs: keepFirst(principal.ownershipEntityRefs, isGroupMember ? 2 : 1),
  };
}

/** Decides the permission for the principal; undefined when it is denied. */
function findHeldPermission(
  policy: Policy,
  principal: Principal,
  permission: string,
  subjectRef: string,
): HeldPermission | undefined {
  const decision = policy.authorize(principal, permission);
  if (decision.result === 'DENY') {
    return undefined;
  }

  // The allow grants among the decisive ones show through which membership the subject holds it.
  const decisive = new Set(decision.decidedBy.map(sourceKey));
  const allows = policy
    .applicableGrants(principal, permission)
    .filter((grant) => grant.source.effect === 'allow' && decisive.has(sourceKey(grant.source)));
  const self = subjectRef.toLowerCase();
  const memberships = new Set(allows.flatMap((grant) => grant.via));

  return {
    permission,
    decision: decision.result === 'ALLOW' ? 'allow' : 'conditional',
    ...(decision.result === 'CONDITIONAL' ? { conditions: decision.conditions } : {}),
    grants: decision.decidedBy,
    direct: memberships.has(self),
    via: [...memberships].filter((ref) => ref !== self).sort(),
    allSignedInUsers: allows.some((grant) => grant.allSignedInUsers),
  };
}

function sourceKey(source: DecisionSource): string {
  return `${source.role}\u0000${source.grant}`;
}

/** One row of the CSV and text reports: every cell as text. */
interface ReviewRow {
  kind: string;
  reference: string;
  permission: string;
  decision: string;
  conditions: string;
  grants: string;
  via: string;
}

/** Column names of the CSV report, in order. */
export const ACCESS_REVIEW_CSV_COLUMNS = [
  'kind',
  'reference',
  'permission',
  'decision',
  'conditions',
  'grants',
  'via',
] as const;

/** Writes a grant as `role grants[index]`, with `(deny)` after a deny grant. */
export function formatGrantSource(source: DecisionSource): string {
  const text = `${source.role} grants[${source.grant}]`;
  return source.effect === 'deny' ? `${text} (deny)` : text;
}

function formatVia(held: HeldPermission): string {
  return [
    ...(held.direct ? ['direct member'] : []),
    ...held.via,
    ...(held.allSignedInUsers ? ['all signed-in users'] : []),
  ].join('; ');
}

function rowsOf(review: AccessReview): ReviewRow[] {
  return [...review.users, ...review.groups].flatMap((subject) =>
    subject.permissions.map((held) => ({
      kind: subject.kind,
      reference: subject.reference,
      permission: held.permission,
      decision: held.decision,
      conditions: held.conditions ? formatConditions(held.conditions) : '',
      grants: held.grants.map(formatGrantSource).join('; '),
      via: formatVia(held),
    })),
  );
}

/**
 * Quotes a CSV field as RFC 4180 requires when it contains a comma, a
 * quote or a line break, and also when it starts or ends with a space,
 * which some readers trim.
 */
function csvField(value: string): string {
  if (/[",\r\n]/.test(value) || value !== value.trim()) {
    return `"${value.replace(/"/g, '""')}"`;
  }
  return value;
}

/** Formats the review as CSV with a header row and CRLF line ends: one row per permission held. */
export function formatAccessReviewCsv(review: AccessReview): string {
  const lines = [ACCESS_REVIEW_CSV_COLUMNS.join(',')];
  for (const row of rowsOf(review)) {
    lines.push(ACCESS_REVIEW_CSV_COLUMNS.map((column) => csvField(row[column])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The origins of a review's inputs, for the heading of the text report. */
export interface AccessReviewSource {
  rolesFile: string;
  /** Origin of the users and groups, such as `the catalog in SQLite file …`. */
  catalog: string;
  generatedAt: Date;
}

/**
 * Formats the review as a text table for a reader: one row per permission
 * held, the conditions in the last column, and then the subjects that hold
 * nothing.
 */
export function formatAccessReviewText(review: AccessReview, source: AccessReviewSource): string {
  const subjects = [...review.users, ...review.groups];
  const lines = [
    `Access held under ${source.rolesFile} by ${review.users.length} users and ${review.groups.length} groups of ${source.catalog}, at ${source.generatedAt.toISOString()}.`,
    "A group's rows are what a member who belongs to no other group holds. $currentUser is that member.",
    '',
  ];

  const rows = rowsOf(review);
  if (rows.length === 0) {
    lines.push('No user or group holds any permission.');
  } else {
    const header: ReviewRow = {
      kind: 'KIND',
      reference: 'REFERENCE',
      permission: 'PERMISSION',
      decision: 'DECISION',
      conditions: 'CONDITIONS',
      grants: 'GRANTS',
      via: 'VIA',
    };
    // Conditions go last, so a long one does not push the other columns apart.
    const columns = ['kind', 'reference', 'permission', 'decision', 'grants', 'via'] as const;
    const widths = columns.map((column) =>
      Math.max(...[header, ...rows].map((row) => row[column].length)),
    );
    for (const row of [header, ...rows]) {
      const cells = columns.map((column, index) => row[column].padEnd(widths[index]!));
      lines.push(`${cells.join('  ')}  ${row.conditions}`.trimEnd());
    }
  }

  const empty = subjects.filter((subject) => subject.permissions.length === 0);
  if (empty.length > 0) {
    lines.push(
      '',
      `Holding no permission: ${empty.map((subject) => subject.reference).join(', ')}.`,
    );
  }
  return `${lines.join('\n')}\n`;
}
