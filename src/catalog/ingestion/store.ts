import { createHash } from 'node:crypto';
import type { CatalogErrorRow } from '../tables.js';
import type { StoredEntityInfo } from './derived-warnings.js';
import type { CatalogIssue } from './issues.js';
import type {
  ExistingEntity,
  ForeignOwner,
  LocationRecord,
  PlannedEntity,
} from './location-plan.js';

/** A catalog_errors row as written, without its generated id. */
export type ErrorRowInput = Omit<CatalogErrorRow, 'id'>;

/**
 * The reads and writes of one location refresh, all inside one database
 * transaction. The SQLite and PostgreSQL stores implement it with the fast
 * path of each engine: prepared statements, or multi-row statements over
 * arrays.
 */
export interface StoreTransaction {
  existingEntities(locationId: string): Promise<Map<string, ExistingEntity>>;
  /** Rows of other locations that store any of `refs`. */
  foreignOwners(refs: readonly string[], locationId: string): Promise<Map<string, ForeignOwner>>;
  /** Deletes entities; their relations and search rows go with them. */
  deleteEntities(refs: readonly string[]): Promise<void>;
  /** Inserts entity rows with their relation and search rows; may be called once per file. */
  insertEntities(entities: readonly PlannedEntity[]): Promise<void>;
  /** Ends the inserts of this refresh, building any index that a bulk load left out until now. */
  endEntityInserts(): Promise<void>;
  /** The subset of `refs` that some location stores. */
  existingRefs(refs: readonly string[]): Promise<Set<string>>;

  childLocations(locationId: string): Promise<LocationRecord[]>;
  locationsByTarget(type: string, targets: readonly string[]): Promise<LocationRecord[]>;
  /** The chain of parents of a location, nearest first. */
  ancestors(location: LocationRecord): Promise<LocationRecord[]>;
  /** Entities stored by the locations and every location below them. */
  subtreeEntities(locationIds: readonly string[]): Promise<string[]>;
  /** Deletes locations; their children, entities and errors go with them. */
  deleteLocations(ids: readonly string[]): Promise<void>;
  upsertLocations(rows: readonly LocationRecord[], now: string): Promise<void>;
  markRefreshed(locationId: string, now: string): Promise<void>;

  /**
   * Replaces the location's faults, except the dangling-reference and
   * group-cycle warnings, which are derived at the end of a refresh pass.
   */
  replaceLocationErrors(locationId: string, rows: readonly ErrorRowInput[]): Promise<void>;
  /** Entities with a relation to any of `refs`, except those of the excluded locations. */
  externalReferrers(
    refs: readonly string[],
    excludedLocationIds: readonly string[],
  ): Promise<StoredEntityInfo[]>;
  /** Relations `[origin, target]` that the entities emitted from themselves, toward targets. */
  outgoingRelations(refs: readonly string[]): Promise<Array<[string, string]>>;
  /**
   * Replaces the dangling-reference warnings of the locations' entities,
   * except those of the entities in `keptRefs`.
   */
  replaceLocationDanglingWarnings(
    locationIds: readonly string[],
    keptRefs: readonly string[],
    rows: readonly ErrorRowInput[],
  ): Promise<void>;
  /** Replaces the dangling-reference warnings of the entities. */
  replaceDanglingWarnings(
    entityRefs: readonly string[],
    rows: readonly ErrorRowInput[],
  ): Promise<void>;
  /** Every `childOf` edge `[child, parent]` in the catalog. */
  childOfEdges(): Promise<Array<[string, string]>>;
  entityPlaces(
    refs: readonly string[],
  ): Promise<Map<string, { locationId: string; file: string; docIndex: number }>>;
  replaceGroupCycleWarnings(rows: readonly ErrorRowInput[]): Promise<void>;
  /** Locations other than `locationId` with an entity-conflict error on any of `refs`. */
  conflictedLocations(refs: readonly string[], locationId: string): Promise<string[]>;
  /** Locations with a location-conflict warning, whose target may now be free. */
  locationConflictLocations(): Promise<string[]>;
}

/** Counts of the whole catalog, for the refresh summary. */
export interface CatalogCounts {
  locations: number;
  entities: number;
  errors: number;
  warnings: number;
}

export interface IngestionStore {
  /**
   * Runs `work` in one transaction, serialized with every other ingestion
   * write. `loadsEntities` is false for one that writes no entity rows, which
   * then never prepares a bulk load.
   */
  transaction<T>(
    work: (transaction: StoreTransaction) => Promise<T>,
    options?: { loadsEntities: boolean },
  ): Promise<T>;
  /** Makes the configured locations the roots, in config order, and deletes file roots no longer configured. */
  syncConfigLocations(targets: readonly string[], now: string): Promise<LocationRecord[]>;
  loadLocation(id: string): Promise<LocationRecord | undefined>;
  listLocations(): Promise<LocationRecord[]>;
  counts(): Promise<CatalogCounts>;
}

/** Stable id of a location, so the same target keeps its id across restarts. */
export function locationIdOf(type: string, target: string): string {
  return `loc-${createHash('sha256').update(`${type}:${target}`).digest('hex').slice(0, 32)}`;
}

/** Turns an issue into a catalog_errors row of the location. */
export function errorRow(issue: CatalogIssue, locationId: string, now: string): ErrorRowInput {
  return {
    location_id: locationId,
    severity: issue.severity,
    code: issue.code,
    file: issue.file ?? null,
    doc_index: issue.docIndex ?? null,
    line: issue.line ?? null,
    entity_ref: issue.entityRef ?? null,
    field: issue.field ?? null,
    message: issue.message,
    created_at: now,
  };
}

/** Splits a list into chunks, for engines that limit the parameters of one statement. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}
