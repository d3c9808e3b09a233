import type { Principal } from '../../permissions/index.js';

/**
 * The names and tags that an AssumeRole call carries, mapped from portal
 * references into the character sets and lengths that STS accepts
 * (AWS STS API reference, AssumeRole and Tag):
 *
 * - SourceIdentity and RoleSessionName: 2 to 64 characters of letters,
 *   digits and `_+=,.@-`.
 * - Session tags: at most 50; a key of 1 to 128 and a value of 0 to 256
 *   characters of letters, digits, spaces and `_.:/=+-@`.
 *
 * An entity reference maps to its name, prefixed with `<namespace>.` outside
 * the default namespace, so `user:default/ada` becomes `ada` and
 * `user:ops/ada` becomes `ops.ada`. Characters that STS rejects become `-`.
 */

/** Maximum length of a SourceIdentity or RoleSessionName that STS accepts. */
export const MAX_SESSION_NAME_LENGTH = 64;

/** Maximum length of a session tag value that STS accepts. */
export const MAX_TAG_VALUE_LENGTH = 256;

/** Session tag that carries the requester's teams. */
export const TEAM_TAG = 'team';

/** Session tag that carries the portal request id. */
export const REQUEST_ID_TAG = 'request-id';

const NAME_FORBIDDEN = /[^A-Za-z0-9_+=,.@-]/g;
const TAG_VALUE_FORBIDDEN = /[^\p{L}\p{N} _.:/=+\-@]/gu;

/**
 * Maps an entity reference to its short form: `name`, or `namespace.name`
 * outside the default namespace. Distinct references can share a short form,
 * such as `user:ops/ada` and `user:default/ops.ada`.
 */
export function shortNameOf(entityRef: string): string {
  const withoutKind = entityRef.includes(':')
    ? entityRef.slice(entityRef.indexOf(':') + 1)
    : entityRef;
  const slash = withoutKind.indexOf('/');
  if (slash < 0) {
    return withoutKind;
  }
  const namespace = withoutKind.slice(0, slash);
  const name = withoutKind.slice(slash + 1);
  return namespace.toLowerCase() === 'default' ? name : `${namespace}.${name}`;
}

/** Maps the requester's user reference to a SourceIdentity, which stays on every session chained from it. */
export function sourceIdentityOf(userEntityRef: string): string {
  return fitSessionName(shortNameOf(userEntityRef).replace(NAME_FORBIDDEN, '-'));
}

/**
 * Builds the RoleSessionName `<user>@<request id>`, which CloudTrail shows
 * for each call made with the credentials. The user part is cut so the
 * whole request id always fits.
 */
export function roleSessionNameOf(userEntityRef: string, requestId: string): string {
  const id = requestId.replace(NAME_FORBIDDEN, '-').slice(0, MAX_SESSION_NAME_LENGTH - 2);
  const userRoom = MAX_SESSION_NAME_LENGTH - id.length - 1;
  const user = shortNameOf(userEntityRef).replace(NAME_FORBIDDEN, '-').slice(0, userRoom) || '-';
  return `${user}@${id}`;
}

/** The session tags of one AssumeRole call, and the teams that did not fit into the team tag. */
export interface SessionTags {
  tags: Array<{ Key: string; Value: string }>;
  omittedTeams: string[];
}

/**
 * Builds the session tags: `request-id` with the request id, and `team` with
 * the short names of the requester's groups, sorted and joined with `:`,
 * such as `payments:sre`. A requester in no group gets no team tag. Teams
 * that would make the value longer than 256 characters are left out and
 * listed in `omittedTeams`.
 */
export function sessionTagsOf(requester: Principal, requestId: string): SessionTags {
  const tags = [{ Key: REQUEST_ID_TAG, Value: tagValueOf(requestId) }];

  const groupRefs = [
    ...new Set(
      [...requester.ownershipEntityRefs, ...requester.groupEntityRefs]
        .map((ref) => ref.toLowerCase())
        .filter((ref) => ref.startsWith('group:')),
    ),
  ];
  const teams = [...new Set(groupRefs.map((ref) => tagValueOf(shortNameOf(ref))))]
    .filter((team) => team.length > 0)
    .sort();

  const included: string[] = [];
  const omittedTeams: string[] = [];
  let length = 0;
  for (const team of teams) {
    const added = included.length === 0 ? team.length : team.length + 1;
    if (length + added > MAX_TAG_VALUE_LENGTH) {
      omittedTeams.push(team);
      continue;
    }
    included.push(team);
    length += added;
  }
  if (included.length > 0) {
    tags.push({ Key: TEAM_TAG, Value: included.join(':') });
  }
  return { tags, omittedTeams };
}

function fitSessionName(name: string): string {
  const cut = name.slice(0, MAX_SESSION_NAME_LENGTH);
  // STS needs at least two characters; entity names have at least one.
  return cut.length >= 2 ? cut : cut.padEnd(2, '_');
}

function tagValueOf(value: string): string {
  return value.replace(TAG_VALUE_FORBIDDEN, '-').slice(0, MAX_TAG_VALUE_LENGTH);
}
