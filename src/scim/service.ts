import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { ProvidedEntities, ProvidedEntity, ProvidedEntityProblem } from '../catalog/index.js';
import type { DatabaseHandle } from '../database/index.js';
import {
  type EntityMappingOptions,
  fallbackEntityName,
  groupEntity,
  groupEntityRef,
  SCIM_ENTITY_PROVIDER,
  toEntityName,
  userEntity,
  userEntityRef,
} from './entities.js';
import { resourceNotFound, ScimError } from './errors.js';
import { parseListFilter } from './filter.js';
import {
  applyAttributeOperations,
  applyMemberChanges,
  type PatchOperation,
  parsePatchBody,
  rootAttribute,
  splitGroupOperations,
} from './patch.js';
import type { GroupView, UserView } from './render.js';
import { groupAttributesResource, userAttributesResource } from './render.js';
import { parseGroupInput, parseUserInput, type ScimUserInput } from './resources.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './schemas.js';
import {
  allIds,
  changeMembers,
  deleteResource,
  findEntityNameOwner,
  findUserByUserName,
  getGroup,
  getGroups,
  getUser,
  getUsers,
  groupRow,
  groupsContaining,
  groupsOfUser,
  listGroups,
  listUsers,
  memberIdsOf,
  membersOf,
  resolveMemberTypes,
  type ScimDb,
  type StoredGroup,
  type StoredUser,
  userRow,
} from './store.js';
import type { ScimClient } from './tokens.js';

/** An audit event as the audit trail takes it; see src/audit. */
export interface ScimAuditEvent {
  actor: string;
  action: string;
  target: string;
  outcome: 'succeeded';
  request?: {
    ip?: string | undefined;
    userAgent?: string | undefined;
    requestId?: string | undefined;
  };
  details: Record<string, unknown>;
}

/** Appends an audit record inside the transaction of a SCIM change. */
// biome-ignore lint/suspicious/noExplicitAny: the audit trail writes its own tables in the caller's transaction.
export type ScimAuditAppend = (transaction: Kysely<any>, event: ScimAuditEvent) => Promise<unknown>;

export interface ScimServiceOptions {
  database: DatabaseHandle;
  logger: Logger;
  /** The catalog's store of provided entities, which receives the User and Group entities. */
  providedEntities: ProvidedEntities;
  mapping: EntityMappingOptions;
  /**
   * Called after a change with the User entity references whose principal
   * changed: deactivated, deleted, renamed, or with other group memberships.
   */
  onPrincipalsChanged(userRefs: string[]): Promise<unknown>;
  /** Records each change in the audit trail, in the same transaction. */
  audit?: ScimAuditAppend | undefined;
  clock?: () => Date;
}

/** The sender of a change: the token's client and the request, for the audit trail. */
export interface ScimChangeContext {
  client: ScimClient;
  request?: ScimAuditEvent['request'];
}

/** One page of a list request. */
export interface ScimPage<T> {
  totalResults: number;
  startIndex: number;
  resources: T[];
}

/** Key of the PostgreSQL advisory lock that serializes SCIM changes across replicas. */
const SCIM_CHANGE_LOCK_KEY = 7_410_221_004;

/** The list parameters of RFC 7644, section 3.4.2: filter, startIndex (from 1) and count. */
export interface ScimListQuery {
  filter?: string | undefined;
  startIndex?: number | undefined;
  count?: number | undefined;
}

/**
 * SCIM provisioning of users and groups. Each change is committed to the
 * SCIM tables (with its audit record), then written to the catalog as User
 * and Group entities under the `scim` location, then applied to the open
 * sessions of the users whose principal changed. Changes run one at a time,
 * across replicas too when they share a PostgreSQL database.
 */
export class ScimService {
  readonly #db: ScimDb;
  readonly #options: ScimServiceOptions;
  readonly #log: Logger;
  readonly #clock: () => Date;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ScimServiceOptions) {
    this.#db = options.database.db as ScimDb;
    this.#options = options;
    this.#log = options.logger;
    this.#clock = options.clock ?? (() => new Date());
  }

  // Reads

  async listUsers(query: ScimListQuery): Promise<ScimPage<UserView>> {
    const filter = query.filter === undefined ? undefined : parseListFilter(query.filter, 'User');
    const { offset, limit, startIndex } = pageOf(query);
    const { total, users } = await listUsers(this.#db, filter, offset, limit);
    const resources: UserView[] = [];
    for (const user of users) {
      resources.push({ user, groups: await groupsOfUser(this.#db, user.id) });
    }
    return { totalResults: total, startIndex, resources };
  }

  async getUser(id: string): Promise<UserView> {
    const user = await getUser(this.#db, id);
    if (!user) {
      throw resourceNotFound('User', id);
    }
    return { user, groups: await groupsOfUser(this.#db, id) };
  }

  async listGroups(query: ScimListQuery, withMembers: boolean): Promise<ScimPage<GroupView>> {
    const filter = query.filter === undefined ? undefined : parseListFilter(query.filter, 'Group');
    const { offset, limit, startIndex } = pageOf(query);
    const { total, groups } = await listGroups(this.#db, filter, offset, limit);
    const members = withMembers
      ? await membersOf(
          this.#db,
          groups.map((group) => group.id),
        )
      : undefined;
    return {
      totalResults: total,
      startIndex,
      resources: groups.map((group) => ({ group, members: members?.get(group.id) })),
    };
  }

  async getGroup(id: string, withMembers: boolean): Promise<GroupView> {
    const group = await getGroup(this.#db, id);
    if (!group) {
      throw resourceNotFound('Group', id);
    }
    const members = withMembers ? (await membersOf(this.#db, [id])).get(id) : undefined;
    return { group, members };
  }

  // User changes

  createUser(body: unknown, context: ScimChangeContext): Promise<UserView> {
    const input = parseUserInput(body);
    return this.#serialize(() => this.#saveUser(undefined, input, context, 'create'));
  }

  replaceUser(id: string, body: unknown, context: ScimChangeContext): Promise<UserView> {
    const input = parseUserInput(body);
    return this.#serialize(async () => {
      const existing = await this.#requireUser(id);
      return await this.#saveUser(existing, input, context, 'replace');
    });
  }

  patchUser(id: string, body: unknown, context: ScimChangeContext): Promise<UserView> {
    const operations = parsePatchBody(body);
    return this.#serialize(async () => {
      const existing = await this.#requireUser(id);
      const patched = applyAttributeOperations(
        userAttributesResource(existing),
        userOperations(operations),
      );
      requireSameId(patched, existing.id);
      const input = parseUserInput(patched);
      return await this.#saveUser(existing, input, context, 'patch');
    });
  }

  deleteUser(id: string, context: ScimChangeContext): Promise<void> {
    return this.#serialize(async () => {
      const existing = await this.#requireUser(id);
      const groupIds = await groupsContaining(this.#db, [id]);
      await this.#transaction(async (transaction) => {
        await deleteResource(transaction, 'scim_users', id);
        await this.#audit(transaction, context, 'scim.user.delete', existing.entityName, 'User', {
          id,
          userName: existing.userName,
        });
      });
      this.#log.info({ id, user: userEntityRef(existing.entityName) }, 'SCIM user deleted');
      await this.#afterUserChange(existing, undefined, groupIds);
    });
  }

  // Group changes

  createGroup(body: unknown, context: ScimChangeContext): Promise<GroupView> {
    const input = parseGroupInput(body);
    return this.#serialize(() =>
      this.#saveGroup(
        undefined,
        { displayName: input.displayName, externalId: input.externalId },
        input.members?.map((member) => member.value) ?? [],
        context,
        'create',
      ),
    );
  }

  replaceGroup(id: string, body: unknown, context: ScimChangeContext): Promise<GroupView> {
    const input = parseGroupInput(body);
    return this.#serialize(async () => {
      const existing = await this.#requireGroup(id);
      // NOTE: a PUT without `members` keeps the members; RFC 7644 (3.5.1) lets
      // the server treat an omitted attribute as not asserted.
      return await this.#saveGroup(
        existing,
        { displayName: input.displayName, externalId: input.externalId },
        input.members?.map((member) => member.value),
        context,
        'replace',
      );
    });
  }

  patchGroup(id: string, body: unknown, context: ScimChangeContext): Promise<GroupView> {
    const operations = parsePatchBody(body);
    const { attributeOperations, memberChanges } = splitGroupOperations(operations);
    return this.#serialize(async () => {
      const existing = await this.#requireGroup(id);
      let attributes = { displayName: existing.displayName, externalId: existing.externalId };
      if (attributeOperations.length > 0) {
        const patched = applyAttributeOperations(
          groupAttributesResource(existing),
          attributeOperations,
        );
        requireSameId(patched, existing.id);
        const input = parseGroupInput({ ...patched, members: undefined });
        attributes = { displayName: input.displayName, externalId: input.externalId };
      }
      const memberIds =
        memberChanges.length > 0
          ? applyMemberChanges(await memberIdsOf(this.#db, id), memberChanges)
          : undefined;
      return await this.#saveGroup(existing, attributes, memberIds, context, 'patch');
    });
  }

  deleteGroup(id: string, context: ScimChangeContext): Promise<void> {
    return this.#serialize(async () => {
      const existing = await this.#requireGroup(id);
      const affectedUsers = await this.#deepUserRefs([id]);
      const parents = await groupsContaining(this.#db, [id]);
      await this.#transaction(async (transaction) => {
        await deleteResource(transaction, 'scim_groups', id);
        await this.#audit(transaction, context, 'scim.group.delete', existing.entityName, 'Group', {
          id,
          displayName: existing.displayName,
        });
      });
      this.#log.info({ id, group: groupEntityRef(existing.entityName) }, 'SCIM group deleted');
      await this.#writeCatalog(await this.#groupEntities(parents), [
        groupEntityRef(existing.entityName),
      ]);
      await this.#principalsChanged(affectedUsers);
    });
  }

  /**
   * Writes every provisioned user and group to the catalog and deletes the
   * `scim` location's entities that no longer match one, as at start-up.
   */
  syncCatalog(): Promise<void> {
    return this.#serialize(async () => {
      const { userIds, groupIds } = await allIds(this.#db);
      const users = await getUsers(this.#db, userIds);
      const entities = [
        ...users.filter((user) => user.active).map((user) => userEntity(user)),
        ...(await this.#groupEntities(groupIds)),
      ];
      const result = await this.#options.providedEntities.write(SCIM_ENTITY_PROVIDER, {
        upsert: entities,
        remove: [],
        replaceAll: true,
      });
      this.#logProblems(result.problems);
      this.#log.info(
        {
          users: users.length,
          groups: groupIds.length,
          written: result.written,
          removed: result.removed.length,
          problems: result.problems.length,
        },
        'SCIM users and groups written to the catalog',
      );
    });
  }

  // Steps of a change

  async #saveUser(
    existing: StoredUser | undefined,
    input: ScimUserInput,
    context: ScimChangeContext,
    action: 'create' | 'replace' | 'patch',
  ): Promise<UserView> {
    const id = existing?.id ?? randomUUID();
    const sameUserName = await findUserByUserName(this.#db, input.userName);
    if (sameUserName && sameUserName.id !== id) {
      throw new ScimError(
        409,
        `userName ${JSON.stringify(input.userName)} is already used by user ${sameUserName.id}; userName is unique without regard to case`,
        { scimType: 'uniqueness' },
      );
    }

    const entityName = toEntityName(input.userName, fallbackEntityName('user', id));
    const nameOwner = await findEntityNameOwner(this.#db, 'scim_users', entityName, id);
    if (nameOwner) {
      throw new ScimError(
        409,
        `userName ${JSON.stringify(input.userName)} gives the User entity name ${entityName}, which user ${nameOwner} already has: change one of the two userNames`,
        { scimType: 'uniqueness' },
      );
    }

    const now = this.#clock().toISOString();
    const user: StoredUser = {
      id,
      userName: input.userName,
      externalId: input.externalId,
      displayName: input.displayName,
      active: input.active ?? existing?.active ?? true,
      entityName,
      attributes: input.attributes,
      version: (existing?.version ?? 0) + 1,
      created: existing?.created ?? now,
      lastModified: now,
    };
    if (user.active) {
      await this.#checkCatalog([userEntity(user)]);
    }

    await this.#transaction(async (transaction) => {
      const row = userRow(user);
      if (existing) {
        const { id: _id, ...values } = row;
        await transaction.updateTable('scim_users').set(values).where('id', '=', id).execute();
      } else {
        await transaction.insertInto('scim_users').values(row).execute();
      }
      await this.#audit(transaction, context, `scim.user.${action}`, entityName, 'User', {
        id,
        userName: user.userName,
        active: user.active,
      });
    });
    this.#log.info(
      { id, user: userEntityRef(entityName), active: user.active, action },
      'SCIM user saved',
    );

    await this.#afterUserChange(existing, user);
    return { user, groups: await groupsOfUser(this.#db, id) };
  }

  /**
   * Writes the catalog and the sessions after a user was saved (`after`) or
   * deleted. `groupIds` are the user's groups, read before a delete removed
   * the memberships; they are read now when not given.
   */
  async #afterUserChange(
    before: StoredUser | undefined,
    after: StoredUser | undefined,
    groupIds?: readonly string[],
  ): Promise<void> {
    const beforeRef = before?.active ? userEntityRef(before.entityName) : undefined;
    const afterRef = after?.active ? userEntityRef(after.entityName) : undefined;
    const id = (before ?? after)?.id as string;

    const upsert: ProvidedEntity[] = after?.active ? [userEntity(after)] : [];
    const remove = beforeRef && beforeRef !== afterRef ? [beforeRef] : [];
    // Groups list their active members by entity name, so they change with the user's.
    if (before && beforeRef !== afterRef) {
      upsert.push(
        ...(await this.#groupEntities(groupIds ?? (await groupsContaining(this.#db, [id])))),
      );
    }
    await this.#writeCatalog(upsert, remove);

    if (before && beforeRef !== afterRef) {
      await this.#principalsChanged([userEntityRef(before.entityName)]);
    }
  }

  async #saveGroup(
    existing: StoredGroup | undefined,
    attributes: { displayName: string; externalId: string | undefined },
    memberIds: string[] | undefined,
    context: ScimChangeContext,
    action: 'create' | 'replace' | 'patch',
  ): Promise<GroupView> {
    const id = existing?.id ?? randomUUID();
    const entityName = toEntityName(attributes.displayName, fallbackEntityName('group', id));
    const nameOwner = await findEntityNameOwner(this.#db, 'scim_groups', entityName, id);
    if (nameOwner) {
      throw new ScimError(
        409,
        `displayName ${JSON.stringify(attributes.displayName)} gives the Group entity name ${entityName}, which group ${nameOwner} already has: choose another displayName`,
        { scimType: 'uniqueness' },
      );
    }

    const currentIds = existing ? await memberIdsOf(this.#db, id) : [];
    const desiredIds = memberIds ?? currentIds;
    const types = await resolveMemberTypes(this.#db, [...desiredIds, ...currentIds]);
    const unknown = desiredIds.filter((memberId) => !types.has(memberId));
    if (unknown.length > 0) {
      throw new ScimError(
        400,
        `members: ${unknown
          .slice(0, 5)
          .map((memberId) => JSON.stringify(memberId))
          .join(
            ', ',
          )} ${unknown.length === 1 ? 'is' : 'are'} not the id of a provisioned user or group: provision the member first`,
        { scimType: 'invalidValue' },
      );
    }
    if (desiredIds.includes(id)) {
      throw new ScimError(400, `members: group ${id} cannot be a member of itself`, {
        scimType: 'invalidValue',
      });
    }

    const now = this.#clock().toISOString();
    const group: StoredGroup = {
      id,
      displayName: attributes.displayName,
      externalId: attributes.externalId,
      entityName,
      version: (existing?.version ?? 0) + 1,
      created: existing?.created ?? now,
      lastModified: now,
    };
    await this.#checkCatalog([
      groupEntity({ ...group, memberUserNames: [], childGroupNames: [] }, this.#options.mapping),
    ]);

    const current = new Set(currentIds);
    const desiredSet = new Set(desiredIds);
    const added = desiredIds
      .filter((memberId) => !current.has(memberId))
      .map((memberId) => ({ id: memberId, type: types.get(memberId) as 'User' | 'Group' }));
    const removed = currentIds.filter((memberId) => !desiredSet.has(memberId));

    await this.#transaction(async (transaction) => {
      const row = groupRow(group);
      if (existing) {
        const { id: _id, ...values } = row;
        await transaction.updateTable('scim_groups').set(values).where('id', '=', id).execute();
      } else {
        await transaction.insertInto('scim_groups').values(row).execute();
      }
      await changeMembers(transaction, id, added, removed);
      await this.#audit(transaction, context, `scim.group.${action}`, entityName, 'Group', {
        id,
        displayName: group.displayName,
        membersAdded: added.map((member) => member.id),
        membersRemoved: removed,
      });
    });
    this.#log.info(
      {
        id,
        group: groupEntityRef(entityName),
        action,
        membersAdded: added.length,
        membersRemoved: removed.length,
      },
      'SCIM group saved',
    );

    // The group, and when its entity name changed the groups that list it as a child.
    const renamed = existing !== undefined && existing.entityName !== entityName;
    const rewritten = [id, ...(renamed ? await groupsContaining(this.#db, [id]) : [])];
    await this.#writeCatalog(
      await this.#groupEntities(rewritten),
      renamed ? [groupEntityRef(existing.entityName)] : [],
    );

    // Users whose groups changed: every user below a renamed group, else the
    // added and removed users and every user below an added or removed group.
    const changed = [...added.map((member) => member.id), ...removed];
    const affected = renamed
      ? await this.#deepUserRefs([id])
      : await this.#deepUserRefs(
          changed.filter((memberId) => types.get(memberId) === 'Group'),
          changed.filter((memberId) => types.get(memberId) === 'User'),
        );
    await this.#principalsChanged(affected);

    const members = (await membersOf(this.#db, [id])).get(id);
    return { group, members };
  }

  // Helpers

  async #requireUser(id: string): Promise<StoredUser> {
    const user = await getUser(this.#db, id);
    if (!user) {
      throw resourceNotFound('User', id);
    }
    return user;
  }

  async #requireGroup(id: string): Promise<StoredGroup> {
    const group = await getGroup(this.#db, id);
    if (!group) {
      throw resourceNotFound('Group', id);
    }
    return group;
  }

  /** Builds the Group entities of provisioned groups from their current rows and members. */
  async #groupEntities(groupIds: readonly string[]): Promise<ProvidedEntity[]> {
    if (groupIds.length === 0) {
      return [];
    }
    const groups = await getGroups(this.#db, groupIds);
    const members = await membersOf(
      this.#db,
      groups.map((group) => group.id),
    );
    return groups.map((group) => {
      const list = members.get(group.id) ?? [];
      return groupEntity(
        {
          ...group,
          memberUserNames: list
            .filter((member) => member.type === 'User' && member.active)
            .map((member) => member.entityName),
          childGroupNames: list
            .filter((member) => member.type === 'Group')
            .map((member) => member.entityName),
        },
        this.#options.mapping,
      );
    });
  }

  /**
   * Returns the User entity references of the given users and of every user
   * in the given groups or below them, whose principals change with them.
   */
  async #deepUserRefs(
    groupIds: readonly string[],
    userIds: readonly string[] = [],
  ): Promise<string[]> {
    const users = new Set(userIds);
    const seen = new Set<string>();
    let pending = [...groupIds];
    while (pending.length > 0) {
      const next: string[] = [];
      const members = await membersOf(this.#db, pending);
      for (const id of pending) {
        seen.add(id);
      }
      for (const list of members.values()) {
        for (const member of list) {
          if (member.type === 'User') {
            users.add(member.id);
          } else if (!seen.has(member.id)) {
            next.push(member.id);
          }
        }
      }
      pending = [...new Set(next)];
    }
    const stored = await getUsers(this.#db, [...users]);
    return stored.map((user) => userEntityRef(user.entityName));
  }

  /** Rejects a change whose entities the catalog would not store: invalid, or owned by a file location. */
  async #checkCatalog(entities: ProvidedEntity[]): Promise<void> {
    const problems = await this.#options.providedEntities.check(SCIM_ENTITY_PROVIDER, entities);
    const problem = problems[0];
    if (!problem) {
      return;
    }
    if (problem.code === 'entity-conflict') {
      throw new ScimError(409, problem.message, { scimType: 'uniqueness' });
    }
    throw new ScimError(
      400,
      `The catalog rejects ${problem.entityRef ?? problem.source}: ${problem.message}`,
      {
        scimType: 'invalidValue',
      },
    );
  }

  async #writeCatalog(upsert: ProvidedEntity[], remove: string[]): Promise<void> {
    if (upsert.length === 0 && remove.length === 0) {
      return;
    }
    const result = await this.#options.providedEntities.write(SCIM_ENTITY_PROVIDER, {
      upsert,
      remove,
    });
    this.#logProblems(result.problems);
  }

  #logProblems(problems: readonly ProvidedEntityProblem[]): void {
    for (const problem of problems) {
      this.#log.error(
        {
          source: problem.source,
          entity: problem.entityRef,
          code: problem.code,
          reason: problem.message,
        },
        'SCIM resource not written to the catalog',
      );
    }
  }

  async #principalsChanged(userRefs: readonly string[]): Promise<void> {
    if (userRefs.length === 0) {
      return;
    }
    try {
      await this.#options.onPrincipalsChanged([...new Set(userRefs)]);
    } catch (error) {
      this.#log.error(
        { err: error, users: userRefs.length },
        'marking the sessions of changed SCIM users for a new principal failed',
      );
    }
  }

  async #audit(
    transaction: ScimDb,
    context: ScimChangeContext,
    action: string,
    entityName: string,
    kind: 'User' | 'Group',
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.#options.audit?.(transaction, {
      actor: `scim-token:${context.client.name}`,
      action,
      target: kind === 'User' ? userEntityRef(entityName) : groupEntityRef(entityName),
      outcome: 'succeeded',
      ...(context.request ? { request: context.request } : {}),
      details,
    });
  }

  /** Runs a write of the SCIM tables in one transaction; a unique-index race becomes a 409. */
  async #transaction(work: (transaction: ScimDb) => Promise<void>): Promise<void> {
    try {
      await this.#db.transaction().execute(work);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ScimError(
          409,
          'Another request stored a resource with the same userName, displayName or entity name at the same time: read the resources and try again',
          { scimType: 'uniqueness', cause: error },
        );
      }
      throw error;
    }
  }

  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const locked = () => this.#withReplicaLock(task);
    const run = this.#queue.then(locked, locked);
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * Runs a change while holding a PostgreSQL advisory lock, so replicas on one
   * database apply SCIM changes one at a time too. A change reads the current
   * members before it writes, so an interleaved change on another replica
   * would otherwise lose an update. SQLite serves one process, which the
   * queue already serializes.
   */
  async #withReplicaLock<T>(task: () => Promise<T>): Promise<T> {
    if (this.#options.database.dialect !== 'postgres') {
      return await task();
    }
    // A session lock held on one pooled connection, while the change itself uses others.
    return await this.#db.connection().execute(async (connection) => {
      await sql`select pg_advisory_lock(${SCIM_CHANGE_LOCK_KEY})`.execute(connection);
      try {
        return await task();
      } finally {
        await sql`select pg_advisory_unlock(${SCIM_CHANGE_LOCK_KEY})`.execute(connection);
      }
    });
  }
}

function pageOf(query: ScimListQuery): { offset: number; limit: number; startIndex: number } {
  // RFC 7644, 3.4.2.4: a startIndex below 1 is read as 1, a negative count as 0.
  const startIndex = Math.max(1, Math.trunc(query.startIndex ?? 1));
  const limit = Math.min(MAX_PAGE_SIZE, Math.max(0, Math.trunc(query.count ?? DEFAULT_PAGE_SIZE)));
  return { offset: startIndex - 1, limit, startIndex };
}

/**
 * Prepares the operations of a User PATCH: drops those on `password`, which
 * is never stored, and rejects those on the read-only `groups`, `id` and
 * `meta`.
 */
function userOperations(operations: readonly PatchOperation[]): PatchOperation[] {
  const result: PatchOperation[] = [];
  for (const operation of operations) {
    if (operation.path === undefined) {
      const { password: _password, ...value } = operation.value as Record<string, unknown>;
      for (const key of Object.keys(value)) {
        if (['groups', 'meta'].includes(key.toLowerCase())) {
          throw readOnly(operation, key);
        }
      }
      result.push({ ...operation, value });
      continue;
    }
    const root = rootAttribute(operation.path);
    if (root === 'password') {
      continue;
    }
    if (root === 'groups' || root === 'id' || root === 'meta') {
      throw readOnly(operation, root);
    }
    result.push(operation);
  }
  return result;
}

function readOnly(operation: PatchOperation, attribute: string): ScimError {
  const hint =
    attribute.toLowerCase() === 'groups' ? ': change memberships through the Groups endpoint' : '';
  return new ScimError(
    400,
    `Operations[${operation.index}] changes ${attribute}, which is read-only${hint}`,
    { scimType: 'mutability' },
  );
}

/** Rejects a PATCH that changed the resource's `id`, which is read-only. */
function requireSameId(patched: Record<string, unknown>, id: string): void {
  if (patched.id !== id) {
    throw new ScimError(
      400,
      `id is read-only: the operations change it from ${id} to ${JSON.stringify(patched.id)}`,
      {
        scimType: 'mutability',
      },
    );
  }
}

/** Returns whether an error is a unique-index violation of SQLite or PostgreSQL. */
function isUniqueViolation(error: unknown): boolean {
  const candidate = error as { code?: unknown; message?: unknown };
  return (
    candidate?.code === '23505' ||
    candidate?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    candidate?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}
