import type { Kysely, Selectable, SelectQueryBuilder } from 'kysely';
import type { EqualityFilter } from './filter.js';
import type { ScimUserAttributes } from './resources.js';
import type { ScimGroupRow, ScimTables, ScimUserRow } from './tables.js';

/** The SCIM tables, or a transaction over them. */
export type ScimDb = Kysely<ScimTables>;

/** A provisioned user as the service works with it. */
export interface StoredUser {
  id: string;
  userName: string;
  externalId: string | undefined;
  displayName: string | undefined;
  active: boolean;
  entityName: string;
  attributes: ScimUserAttributes;
  version: number;
  created: string;
  lastModified: string;
}

/** A provisioned group, without its members. */
export interface StoredGroup {
  id: string;
  displayName: string;
  externalId: string | undefined;
  entityName: string;
  version: number;
  created: string;
  lastModified: string;
}

/** A direct member of a group, with what the group resource and the Group entity show of it. */
export interface StoredMember {
  groupId: string;
  id: string;
  type: 'User' | 'Group';
  /** The member's displayName, or a user's userName when it has none. */
  display: string;
  entityName: string;
  /** False for a deactivated user, which the Group entity leaves out. */
  active: boolean;
}

/** Ids bound to one statement; both engines take far more parameters than this. */
const IDS_PER_QUERY = 1000;

function chunked<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += IDS_PER_QUERY) {
    result.push(items.slice(start, start + IDS_PER_QUERY));
  }
  return result;
}

function toUser(row: ScimUserRow): StoredUser {
  return {
    id: row.id,
    userName: row.user_name,
    externalId: row.external_id ?? undefined,
    displayName: row.display_name ?? undefined,
    active: Number(row.active) === 1,
    entityName: row.entity_name,
    attributes: JSON.parse(row.attributes) as ScimUserAttributes,
    version: Number(row.version),
    created: row.created_at,
    lastModified: row.updated_at,
  };
}

function toGroup(row: ScimGroupRow): StoredGroup {
  return {
    id: row.id,
    displayName: row.display_name,
    externalId: row.external_id ?? undefined,
    entityName: row.entity_name,
    version: Number(row.version),
    created: row.created_at,
    lastModified: row.updated_at,
  };
}

export function userRow(user: StoredUser): ScimUserRow {
  return {
    id: user.id,
    user_name: user.userName,
    user_name_key: user.userName.toLowerCase(),
    display_name: user.displayName ?? null,
    display_name_key: user.displayName?.toLowerCase() ?? null,
    external_id: user.externalId ?? null,
    active: user.active ? 1 : 0,
    entity_name: user.entityName,
    attributes: JSON.stringify(user.attributes),
    version: user.version,
    created_at: user.created,
    updated_at: user.lastModified,
  };
}

export function groupRow(group: StoredGroup): ScimGroupRow {
  return {
    id: group.id,
    display_name: group.displayName,
    display_name_key: group.displayName.toLowerCase(),
    external_id: group.externalId ?? null,
    entity_name: group.entityName,
    version: group.version,
    created_at: group.created,
    updated_at: group.lastModified,
  };
}

export async function getUser(db: ScimDb, id: string): Promise<StoredUser | undefined> {
  const row = await db.selectFrom('scim_users').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toUser(row) : undefined;
}

export async function getUsers(db: ScimDb, ids: readonly string[]): Promise<StoredUser[]> {
  const users: StoredUser[] = [];
  for (const chunk of chunked([...new Set(ids)])) {
    const rows = await db.selectFrom('scim_users').selectAll().where('id', 'in', chunk).execute();
    users.push(...rows.map(toUser));
  }
  return users;
}

/** Finds the user whose userName matches, ignoring case. */
export async function findUserByUserName(
  db: ScimDb,
  userName: string,
): Promise<StoredUser | undefined> {
  const row = await db
    .selectFrom('scim_users')
    .selectAll()
    .where('user_name_key', '=', userName.toLowerCase())
    .executeTakeFirst();
  return row ? toUser(row) : undefined;
}

/** Returns the id of the user or group that already uses an entity name, other than `exceptId`. */
export async function findEntityNameOwner(
  db: ScimDb,
  table: 'scim_users' | 'scim_groups',
  entityName: string,
  exceptId: string | undefined,
): Promise<string | undefined> {
  let query = db.selectFrom(table).select('id').where('entity_name', '=', entityName);
  if (exceptId !== undefined) {
    query = query.where('id', '<>', exceptId);
  }
  return (await query.executeTakeFirst())?.id;
}

/** Lists users that match a filter, in creation order; `total` counts every match. */
export async function listUsers(
  db: ScimDb,
  filter: EqualityFilter | undefined,
  offset: number,
  limit: number,
): Promise<{ total: number; users: StoredUser[] }> {
  let query = db.selectFrom('scim_users');
  if (filter) {
    switch (filter.attribute) {
      case 'id':
        query = query.where('id', '=', filter.value);
        break;
      case 'userName':
        query = query.where('user_name_key', '=', filter.value.toLowerCase());
        break;
      case 'displayName':
        query = query.where('display_name_key', '=', filter.value.toLowerCase());
        break;
      default:
        query = query.where('external_id', '=', filter.value);
    }
  }
  const { total, rows } = await countAndPage(query, offset, limit);
  return { total, users: rows.map(toUser) };
}

export async function getGroup(db: ScimDb, id: string): Promise<StoredGroup | undefined> {
  const row = await db
    .selectFrom('scim_groups')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toGroup(row) : undefined;
}

export async function getGroups(db: ScimDb, ids: readonly string[]): Promise<StoredGroup[]> {
  const groups: StoredGroup[] = [];
  for (const chunk of chunked([...new Set(ids)])) {
    const rows = await db.selectFrom('scim_groups').selectAll().where('id', 'in', chunk).execute();
    groups.push(...rows.map(toGroup));
  }
  return groups;
}

/** Lists groups that match a filter, in creation order; `total` counts every match. */
export async function listGroups(
  db: ScimDb,
  filter: EqualityFilter | undefined,
  offset: number,
  limit: number,
): Promise<{ total: number; groups: StoredGroup[] }> {
  let query = db.selectFrom('scim_groups');
  if (filter) {
    switch (filter.attribute) {
      case 'id':
        query = query.where('id', '=', filter.value);
        break;
      case 'displayName':
        query = query.where('display_name_key', '=', filter.value.toLowerCase());
        break;
      default:
        query = query.where('external_id', '=', filter.value);
    }
  }
  const { total, rows } = await countAndPage(query, offset, limit);
  return { total, groups: rows.map(toGroup) };
}

/** Counts every row of a filtered list and reads one page of it, in creation order. */
async function countAndPage<Table extends 'scim_users' | 'scim_groups'>(
  query: SelectQueryBuilder<ScimTables, Table, object>,
  offset: number,
  limit: number,
): Promise<{ total: number; rows: Array<Selectable<ScimTables[Table]>> }> {
  const counted = await query
    .select((builder) => builder.fn.countAll<number | string>().as('total'))
    .executeTakeFirstOrThrow();
  const rows =
    limit === 0
      ? []
      : await query
          .selectAll()
          .orderBy('created_at')
          .orderBy('id')
          .offset(offset)
          .limit(limit)
          .execute();
  // Kysely cannot name the row type of a table chosen by a type parameter.
  return {
    total: Number(counted.total),
    rows: rows as unknown as Array<Selectable<ScimTables[Table]>>,
  };
}

/** Returns the direct members of the groups, in member id order per group. */
export async function membersOf(
  db: ScimDb,
  groupIds: readonly string[],
): Promise<Map<string, StoredMember[]>> {
  const members = new Map<string, StoredMember[]>(groupIds.map((id) => [id, []]));
  for (const chunk of chunked([...new Set(groupIds)])) {
    const rows = await db
      .selectFrom('scim_group_members as m')
      .leftJoin('scim_users as u', 'u.id', 'm.member_id')
      .leftJoin('scim_groups as g', 'g.id', 'm.member_id')
      .select([
        'm.group_id',
        'm.member_id',
        'm.member_type',
        'u.user_name',
        'u.display_name as user_display_name',
        'u.entity_name as user_entity_name',
        'u.active',
        'g.display_name as group_display_name',
        'g.entity_name as group_entity_name',
      ])
      .where('m.group_id', 'in', chunk)
      .orderBy('m.group_id')
      .orderBy('m.member_id')
      .execute();
    for (const row of rows) {
      const isUser = row.member_type === 'User';
      const entityName = isUser ? row.user_entity_name : row.group_entity_name;
      if (!entityName) {
        continue;
      }
      members.get(row.group_id)?.push({
        groupId: row.group_id,
        id: row.member_id,
        type: row.member_type,
        display: (isUser ? (row.user_display_name ?? row.user_name) : row.group_display_name) ?? '',
        entityName,
        active: isUser ? Number(row.active) === 1 : true,
      });
    }
  }
  return members;
}

/** Returns the ids of the groups that have any of `memberIds` as a direct member. */
export async function groupsContaining(
  db: ScimDb,
  memberIds: readonly string[],
): Promise<string[]> {
  const ids = new Set<string>();
  for (const chunk of chunked([...new Set(memberIds)])) {
    const rows = await db
      .selectFrom('scim_group_members')
      .select('group_id')
      .distinct()
      .where('member_id', 'in', chunk)
      .execute();
    for (const row of rows) {
      ids.add(row.group_id);
    }
  }
  return [...ids];
}

/** Returns the direct groups of a user, for the read-only `groups` attribute. */
export async function groupsOfUser(
  db: ScimDb,
  userId: string,
): Promise<Array<{ id: string; displayName: string }>> {
  const rows = await db
    .selectFrom('scim_group_members as m')
    .innerJoin('scim_groups as g', 'g.id', 'm.group_id')
    .select(['g.id', 'g.display_name'])
    .where('m.member_id', '=', userId)
    .orderBy('g.display_name')
    .execute();
  return rows.map((row) => ({ id: row.id, displayName: row.display_name }));
}

/** Finds which of the ids are provisioned users and which are groups. */
export async function resolveMemberTypes(
  db: ScimDb,
  ids: readonly string[],
): Promise<Map<string, 'User' | 'Group'>> {
  const types = new Map<string, 'User' | 'Group'>();
  for (const chunk of chunked([...new Set(ids)])) {
    const users = await db.selectFrom('scim_users').select('id').where('id', 'in', chunk).execute();
    for (const row of users) {
      types.set(row.id, 'User');
    }
    const groups = await db
      .selectFrom('scim_groups')
      .select('id')
      .where('id', 'in', chunk)
      .execute();
    for (const row of groups) {
      types.set(row.id, 'Group');
    }
  }
  return types;
}

export async function memberIdsOf(db: ScimDb, groupId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('scim_group_members')
    .select('member_id')
    .where('group_id', '=', groupId)
    .orderBy('member_id')
    .execute();
  return rows.map((row) => row.member_id);
}

/** Adds and removes direct members of a group. */
export async function changeMembers(
  db: ScimDb,
  groupId: string,
  added: ReadonlyArray<{ id: string; type: 'User' | 'Group' }>,
  removed: readonly string[],
): Promise<void> {
  for (const chunk of chunked(removed)) {
    await db
      .deleteFrom('scim_group_members')
      .where('group_id', '=', groupId)
      .where('member_id', 'in', chunk)
      .execute();
  }
  for (const chunk of chunked(added)) {
    await db
      .insertInto('scim_group_members')
      .values(
        chunk.map((member) => ({
          group_id: groupId,
          member_id: member.id,
          member_type: member.type,
        })),
      )
      .execute();
  }
}

/** Deletes a user or a group and every membership it has in other groups. */
export async function deleteResource(
  db: ScimDb,
  table: 'scim_users' | 'scim_groups',
  id: string,
): Promise<void> {
  await db.deleteFrom('scim_group_members').where('member_id', '=', id).execute();
  if (table === 'scim_groups') {
    await db.deleteFrom('scim_group_members').where('group_id', '=', id).execute();
  }
  await db.deleteFrom(table).where('id', '=', id).execute();
}

/** Returns every user id, group id and membership, for a full sync of the catalog. */
export async function allIds(db: ScimDb): Promise<{ userIds: string[]; groupIds: string[] }> {
  const users = await db.selectFrom('scim_users').select('id').execute();
  const groups = await db.selectFrom('scim_groups').select('id').execute();
  return { userIds: users.map((row) => row.id), groupIds: groups.map((row) => row.id) };
}
