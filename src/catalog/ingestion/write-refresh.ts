import type { Entity } from '@backstage/catalog-model';
import { deriveRelations } from '../relations.js';
import { danglingMessage } from './derived-warnings.js';
import { type CatalogIssue, formatField, ISSUE_CODES } from './issues.js';
import {
  EntityPlanner,
  type LoadedFile,
  type LocationRecord,
  type PlannedEntity,
} from './location-plan.js';
import type { DanglingCandidate, DerivedChanges } from './refresh-pass.js';
import { errorRow, locationIdOf, type StoreTransaction } from './store.js';

/** The files one location refresh read, ready to be stored. */
export interface LocationRefresh {
  location: LocationRecord;
  /**
   * The files in file order. Each is awaited only when its turn comes, so
   * files can still be read while earlier ones are written.
   */
  files: ReadonlyArray<LoadedFile | Promise<LoadedFile>>;
  /** Faults of the target itself: a missing file, an empty glob, a file an ancestor already reads. */
  targetIssues: readonly CatalogIssue[];
  /** Files the target names that could not be listed or read; their stored entities are held. */
  failedFiles: readonly string[];
  now: string;
  /**
   * Prepares one file that a worker thread has not started, on this thread;
   * false when there is none. Called while the next file is not ready, so the
   * writing thread helps instead of waiting.
   */
  prepareWhileWaiting?: (() => Promise<boolean>) | undefined;
}

export interface LocationRefreshOutcome {
  entities: number;
  errors: number;
  warnings: number;
  /**
   * The location's children after the refresh, in position order, with
   * whether a missing file is fine. That is undefined for a child of a held
   * Location entity, because its declaration was not read this time.
   */
  children: Array<{ location: LocationRecord; optional: boolean | undefined }>;
  /** Locations to refresh again, because a reference or target they were denied is now free. */
  retry: string[];
  /** Changes that the warnings derived from the whole catalog depend on, stored at the end of the refresh pass. */
  derived: DerivedChanges;
  /** The errors and warnings stored for the location, before the derived warnings of the pass. */
  issues: readonly CatalogIssue[];
}

/**
 * Stores one location refresh inside `transaction`: entities, relations,
 * search rows, child locations and faults. Entities are written file by file
 * as their files arrive. The warnings derived from the whole catalog
 * (dangling references, group cycles) are only collected here, and stored
 * once the refresh pass has reached every location (see refresh-pass.ts).
 */
export async function writeLocationRefresh(
  transaction: StoreTransaction,
  refresh: LocationRefresh,
): Promise<LocationRefreshOutcome> {
  const { location, now } = refresh;

  const existing = await transaction.existingEntities(location.id);
  const planner = new EntityPlanner({ location, now, existing });
  for (const file of refresh.failedFiles) {
    planner.addFailedFile(file);
  }
  const files: LoadedFile[] = [];
  for (const pending of refresh.files) {
    const loaded = await awaitFile(pending, refresh.prepareWhileWaiting);
    files.push(loaded);
    if (loaded.prepared.failed) {
      planner.addFailedFile(loaded.prepared.file);
    }
    const owners = await transaction.foreignOwners(planner.newRefs(loaded.prepared), location.id);
    const changed = planner.addFile(loaded, owners).filter((entity) => entity.changed);
    // A changed entity is written anew under its old uid, so its old row goes first.
    await transaction.deleteEntities(
      changed
        .filter((entity) => existing.has(entity.row.entity_ref))
        .map((entity) => entity.row.entity_ref),
    );
    await transaction.insertEntities(changed);
  }
  // A bulk load, which leaves out indexes and foreign keys until this call,
  // happens only in an empty catalog, where nothing was deleted meanwhile.
  await transaction.endEntityInserts();
  const unstored = planner.unstoredRefs();
  const removed = unstored.removed;
  await transaction.deleteEntities(removed);
  const stored = planner.stored;
  const held = new Set(unstored.held);

  const children = await syncChildLocations(transaction, location, stored, held, now);
  const storedRefs = new Set(stored.map((entity) => entity.entity.ref));

  const issues: CatalogIssue[] = [...refresh.targetIssues];
  for (const file of files) {
    issues.push(...file.prepared.issues);
  }
  for (const entity of stored) {
    issues.push(...entity.entity.issues);
  }
  issues.push(...planner.issues, ...children.issues);
  await transaction.replaceLocationErrors(
    location.id,
    issues.map((issue) => errorRow(issue, location.id, now)),
  );
  const dangling = await danglingWarnings(transaction, stored, storedRefs);

  const appeared = [...storedRefs].filter((ref) => !existing.has(ref));
  const disappeared = [...removed, ...children.removedRefs];
  const groupsChanged =
    stored.some((entity) => entity.changed && entity.entity.kind === 'Group') ||
    disappeared.some((ref) => ref.startsWith('group:'));

  const retry = new Set(await transaction.conflictedLocations(disappeared, location.id));
  if (children.removedAny) {
    for (const id of await transaction.locationConflictLocations()) {
      retry.add(id);
    }
  }
  retry.delete(location.id);
  await transaction.markRefreshed(location.id, now);

  return {
    entities: stored.length + held.size,
    errors: issues.filter((issue) => issue.severity === 'error').length,
    warnings: issues.filter((issue) => issue.severity === 'warning').length,
    children: children.children,
    retry: [...retry],
    derived: {
      storedRefs: [...storedRefs],
      removedRefs: removed,
      heldRefs: [...held],
      dangling,
      appeared,
      disappeared,
      groupsChanged,
    },
    issues,
  };
}

/**
 * Waits for a file, preparing other files with `prepareWhileWaiting` as long
 * as it is not ready. Each round first yields to the event loop, which
 * delivers the replies of the worker threads.
 */
async function awaitFile(
  pending: LoadedFile | Promise<LoadedFile>,
  prepareWhileWaiting: (() => Promise<boolean>) | undefined,
): Promise<LoadedFile> {
  if (!prepareWhileWaiting || !(pending instanceof Promise)) {
    return await pending;
  }
  let settled = false;
  const markSettled = () => {
    settled = true;
  };
  pending.then(markSettled, markSettled);
  for (;;) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (settled || !(await prepareWhileWaiting())) {
      return await pending;
    }
  }
}

/**
 * Makes the location's children match the targets of its stored Location
 * entities. A target that is the location itself or one of its ancestors is a
 * cycle, so it is not registered. A target that another location already
 * registered stays with that location. The children of a held Location
 * entity stay as they are.
 */
async function syncChildLocations(
  transaction: StoreTransaction,
  location: LocationRecord,
  stored: readonly PlannedEntity[],
  held: ReadonlySet<string>,
  now: string,
): Promise<{
  children: LocationRefreshOutcome['children'];
  issues: CatalogIssue[];
  removedRefs: string[];
  removedAny: boolean;
}> {
  const issues: CatalogIssue[] = [];
  const desired: Array<{ location: LocationRecord; optional: boolean }> = [];
  const declared = new Set<string>();

  const current = await transaction.childLocations(location.id);
  const targets = stored.flatMap((entity) => entity.entity.targets.map((target) => target.target));
  const registered = new Map(
    (await transaction.locationsByTarget('file', targets)).map((row) => [row.target, row]),
  );
  const ancestors = await transaction.ancestors(location);
  const chain = [location, ...ancestors];

  for (const entity of stored) {
    for (const target of entity.entity.targets) {
      // A function, because finding the line may parse the file again.
      const issueBase = () => ({
        file: entity.file,
        docIndex: entity.entity.docIndex,
        line: entity.lines.lineOf(entity.entity.docIndex, target.path),
        entityRef: entity.entity.ref,
        field: formatField(target.path),
      });

      if (declared.has(target.target)) {
        issues.push({
          ...issueBase(),
          severity: 'warning',
          code: ISSUE_CODES.locationConflict,
          message: `${target.target} is declared more than once in location ${location.target}; it is read once`,
        });
        continue;
      }
      declared.add(target.target);

      const ancestor = chain.find((row) => row.target === target.target);
      if (ancestor) {
        issues.push({
          ...issueBase(),
          severity: 'error',
          code: ISSUE_CODES.locationCycle,
          message: `${target.target} points back at location ${ancestor.target}, which already leads here (${chain
            .map((row) => row.target)
            .reverse()
            .join(' → ')}); the cycle stops here, so remove this target`,
        });
        continue;
      }

      const other = registered.get(target.target);
      if (other && other.parentId !== location.id) {
        issues.push({
          ...issueBase(),
          severity: 'warning',
          code: ISSUE_CODES.locationConflict,
          message: `${target.target} is already registered by ${other.parentId === null ? 'the config' : `location ${other.parentEntityRef ?? other.parentId}`}; it is read there and not again here`,
        });
        continue;
      }

      desired.push({
        location: {
          id: other?.id ?? locationIdOf('file', target.target),
          type: 'file',
          target: target.target,
          parentId: location.id,
          parentEntityRef: entity.entity.ref,
          position: desired.length,
        },
        optional: target.optional,
      });
    }
  }

  const keep = new Set(desired.map((child) => child.location.id));
  const kept = current.filter(
    (row) => !keep.has(row.id) && row.parentEntityRef !== null && held.has(row.parentEntityRef),
  );
  for (const row of kept) {
    keep.add(row.id);
  }
  const removed = current.filter((row) => !keep.has(row.id)).map((row) => row.id);
  const removedRefs = await transaction.subtreeEntities(removed);
  await transaction.deleteLocations(removed);
  await transaction.upsertLocations(
    desired.map((child) => child.location),
    now,
  );
  const children: LocationRefreshOutcome['children'] = [
    ...desired,
    ...kept.map((row) => ({ location: row, optional: undefined })),
  ];
  return { children, issues, removedRefs, removedAny: removed.length > 0 };
}

/**
 * Builds the dangling-reference warnings of the location's own entities, with
 * the line of each reference, against what the catalog stores now. The
 * targets come from the relation rows. Only an entity with a missing target
 * has its relations derived again from its body, for the fields that name
 * them.
 */
async function danglingWarnings(
  transaction: StoreTransaction,
  stored: readonly PlannedEntity[],
  storedRefs: ReadonlySet<string>,
): Promise<DanglingCandidate[]> {
  const outside = new Set<string>();
  for (const { entity } of stored) {
    forEachTargetOf(entity.ref, entity.relations, (target) => {
      if (!storedRefs.has(target)) {
        outside.add(target);
      }
    });
  }
  const present = await transaction.existingRefs([...outside]);

  const warnings: DanglingCandidate[] = [];
  for (const planned of stored) {
    const { entity } = planned;
    let missing = false;
    forEachTargetOf(entity.ref, entity.relations, (target) => {
      missing ||= !storedRefs.has(target) && !present.has(target);
    });
    if (!missing) {
      continue;
    }

    // The relations do not depend on the uid, so an empty one will do.
    const body = JSON.parse(`${entity.bodyHead}""${entity.bodyTail}`) as Entity;
    const seen = new Set<string>();
    for (const relation of deriveRelations(body).relations) {
      const target = relation.targetRef;
      if (relation.sourceRef !== entity.ref || storedRefs.has(target) || present.has(target)) {
        continue;
      }
      const field = formatField(relation.path);
      if (seen.has(field)) {
        continue;
      }
      seen.add(field);
      warnings.push({
        severity: 'warning',
        code: ISSUE_CODES.danglingReference,
        file: planned.file,
        docIndex: entity.docIndex,
        line: planned.lines.lineOf(entity.docIndex, relation.path),
        entityRef: entity.ref,
        field,
        message: danglingMessage(field, target),
        targetRef: target,
      });
    }
  }
  return warnings;
}

/** Calls `visit` with the target of each relation row that `ref` is the source of. */
function forEachTargetOf(
  ref: string,
  relations: readonly string[],
  visit: (target: string) => void,
): void {
  for (let index = 0; index < relations.length; index += 3) {
    if (relations[index] === ref) {
      visit(relations[index + 2] as string);
    }
  }
}
