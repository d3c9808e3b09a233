import type { Entity } from '@backstage/catalog-model';
import { FileLines } from './file-lines.js';
import type { IssueCode } from './issues.js';
import type { KindPolicy } from './kind-rules.js';
import { EntityPlanner, type LoadedFile, type LocationRecord } from './location-plan.js';
import { prepareCatalogText } from './prepare-file.js';
import { RefreshPass } from './refresh-pass.js';
import { type IngestionStore, locationIdOf } from './store.js';
import { createTargetScope } from './target-scope.js';

/**
 * A source of entities other than catalog files, such as SCIM provisioning.
 * Its entities are stored under one root location of its own type, through
 * the same validation, planning and rows as the entities of a file.
 */
export interface EntityProvider {
  /** Location type, also written into the managed-by annotations, such as `scim`. */
  type: string;
  /** Location target, such as the endpoint path `/scim/v2`. */
  target: string;
  /**
   * Kinds the provider may store. Listing User and Group trusts the provider
   * with them, as a file location whose rules allow them is trusted.
   */
  kinds: readonly string[];
}

/** One entity of a provider with the place it comes from. */
export interface ProvidedEntity {
  entity: Entity;
  /** The entity's source inside the provider, such as `/scim/v2/Users/<id>`; stored as its file. */
  source: string;
}

/** Entities to store and delete in one transaction. */
export interface ProvidedEntityChange {
  upsert: readonly ProvidedEntity[];
  /** Lowercase references to delete; one the provider does not store is ignored. */
  remove: readonly string[];
  /** Also deletes every entity the provider stored before that `upsert` leaves out. */
  replaceAll?: boolean;
}

/** The reason one provided entity was not stored. */
export interface ProvidedEntityProblem {
  source: string;
  /** Lowercase reference, when the entity got far enough to have one. */
  entityRef?: string;
  code: IssueCode;
  message: string;
}

export interface ProvidedEntitiesResult {
  /** Entities written because they are new or changed. */
  written: number;
  /** References deleted. */
  removed: string[];
  /** Entities not stored, each with the reason; the rest of the change is stored. */
  problems: ProvidedEntityProblem[];
  /** File locations to refresh again, because a reference they were denied is now free. */
  retryLocations: string[];
}

/** Returns the root location row of a provider. */
export function providerLocation(provider: EntityProvider): LocationRecord {
  return {
    id: locationIdOf(provider.type, provider.target),
    type: provider.type,
    target: provider.target,
    parentId: null,
    parentEntityRef: null,
    position: 0,
  };
}

/**
 * Validates the entities as the ingestion validates a file's: with
 * `@backstage/catalog-model` and the provider's kinds. Returns the valid
 * ones ready to plan, and a problem for each other one.
 */
async function prepareProvidedEntities(
  provider: EntityProvider,
  entities: readonly ProvidedEntity[],
): Promise<{ loaded: LoadedFile[]; problems: ProvidedEntityProblem[] }> {
  const kindPolicy: KindPolicy = {
    allowed: provider.kinds.map((kind) => kind.toLowerCase()).sort(),
    allowsUnlisted: false,
  };
  const scope = createTargetScope(provider.target);
  const loaded: LoadedFile[] = [];
  const problems: ProvidedEntityProblem[] = [];

  for (const { entity, source } of entities) {
    const text = JSON.stringify(entity);
    const prepared = await prepareCatalogText(source, text, {
      kindPolicy,
      scope,
      locationType: provider.type,
    });
    if (prepared.entities.length === 1) {
      loaded.push({ prepared, lines: new FileLines(text) });
      continue;
    }
    for (const issue of prepared.issues.filter((item) => item.severity === 'error')) {
      problems.push({
        source,
        ...(issue.entityRef ? { entityRef: issue.entityRef } : {}),
        code: issue.code,
        message: issue.field ? `${issue.field}: ${issue.message}` : issue.message,
      });
    }
  }
  return { loaded, problems };
}

/**
 * Returns why any of the entities could not be stored now: invalid, of a
 * kind the provider may not store, or with a reference that another
 * location already stores. Writes nothing.
 */
export async function checkProvidedEntities(
  store: IngestionStore,
  provider: EntityProvider,
  entities: readonly ProvidedEntity[],
): Promise<ProvidedEntityProblem[]> {
  const { loaded, problems } = await prepareProvidedEntities(provider, entities);
  const location = providerLocation(provider);
  const refs = loaded.map((file) => file.prepared.entities[0]?.ref as string);
  const owners = await store.transaction(
    (transaction) => transaction.foreignOwners(refs, location.id),
    {
      loadsEntities: false,
    },
  );

  for (const file of loaded) {
    const ref = file.prepared.entities[0]?.ref as string;
    const owner = owners.get(ref);
    if (owner) {
      problems.push({
        source: file.prepared.file,
        entityRef: ref,
        code: 'entity-conflict',
        message: `${ref} is already stored from catalog location ${owner.locationTarget} (file ${owner.file}); remove it there before provisioning it through ${provider.type}`,
      });
    }
  }
  return problems;
}

/**
 * Stores a change of a provider's entities in one ingestion transaction. It
 * inserts and replaces the given entities and deletes the given references.
 * It also updates the derived warnings (dangling references, group cycles)
 * of the entities that refer to what appeared or went away. An entity whose
 * reference another location stores is not stored and comes back as a
 * problem, as does an invalid one. Unchanged entities keep their rows.
 */
export async function writeProvidedEntities(
  store: IngestionStore,
  provider: EntityProvider,
  change: ProvidedEntityChange,
  now: string,
): Promise<ProvidedEntitiesResult> {
  const { loaded, problems } = await prepareProvidedEntities(provider, change.upsert);
  const location = providerLocation(provider);

  return await store.transaction(async (transaction) => {
    await transaction.upsertLocations([location], now);
    const existing = await transaction.existingEntities(location.id);
    const planner = new EntityPlanner({ location, now, existing });

    const newRefs = loaded.flatMap((file) => planner.newRefs(file.prepared));
    const owners = await transaction.foreignOwners(newRefs, location.id);
    const changed = loaded.flatMap((file) =>
      planner.addFile(file, owners).filter((entity) => entity.changed),
    );
    // A changed entity is written anew under its old uid, so its old row goes first.
    await transaction.deleteEntities(
      changed
        .filter((entity) => existing.has(entity.row.entity_ref))
        .map((entity) => entity.row.entity_ref),
    );
    await transaction.insertEntities(changed);
    await transaction.endEntityInserts();

    for (const issue of planner.issues) {
      problems.push({
        source: issue.file ?? location.target,
        ...(issue.entityRef ? { entityRef: issue.entityRef } : {}),
        code: issue.code,
        message: issue.message,
      });
    }

    const storedRefs = new Set(planner.stored.map((entity) => entity.entity.ref));
    const removed = change.replaceAll
      ? planner.unstoredRefs().removed
      : [...new Set(change.remove)].filter((ref) => existing.has(ref) && !storedRefs.has(ref));
    await transaction.deleteEntities(removed);

    const removedSet = new Set(removed);
    const pass = new RefreshPass();
    pass.record(location.id, {
      storedRefs: [...storedRefs],
      removedRefs: removed,
      // The entities this change leaves alone keep their warnings.
      heldRefs: [...existing.keys()].filter((ref) => !storedRefs.has(ref) && !removedSet.has(ref)),
      // NOTE: the provider's own entities get no dangling-reference warnings;
      // SCIM, the one provider, refers only to entities it stores itself.
      dangling: [],
      appeared: [...storedRefs].filter((ref) => !existing.has(ref)),
      disappeared: removed,
      groupsChanged:
        changed.some((entity) => entity.entity.kind === 'Group') ||
        removed.some((ref) => ref.startsWith('group:')),
    });
    await pass.finish(transaction, now);

    const retryLocations = await transaction.conflictedLocations(removed, location.id);
    await transaction.markRefreshed(location.id, now);
    return { written: changed.length, removed, problems, retryLocations };
  });
}
