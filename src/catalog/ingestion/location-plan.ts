import { randomUUID } from 'node:crypto';
import type { CatalogEntityRow } from '../tables.js';
import type { FileLines } from './file-lines.js';
import { type CatalogIssue, ISSUE_CODES } from './issues.js';
import type { PreparedEntity, PreparedFile } from './prepare-file.js';
import { withUidSearchRow } from './search.js';

/** A row of `catalog_locations` as the ingestion uses it. */
export interface LocationRecord {
  id: string;
  type: string;
  target: string;
  parentId: string | null;
  parentEntityRef: string | null;
  position: number;
}

/** An entity row the location already stores, keyed by entity reference. */
export interface ExistingEntity {
  id: number;
  uid: string;
  etag: string;
  file: string;
  docIndex: number;
  kind: string;
  createdAt: string;
}

/** An entity with the same reference that another location stores. */
export interface ForeignOwner {
  locationId: string;
  locationTarget: string;
  file: string;
}

/** A prepared file with the lines of its text, for faults found while storing it. */
export interface LoadedFile {
  prepared: PreparedFile;
  lines: FileLines;
}

/** Returns the lowercase kind that starts an entity reference, as stored in `catalog_search.entity_kind`. */
export function kindOfRef(ref: string): string {
  return ref.slice(0, ref.indexOf(':'));
}

/** An entity row as the ingestion writes it; the writer sets the id. */
export type EntityRowInput = Omit<CatalogEntityRow, 'id'>;

/** An entity this refresh stores, with the rows to write when it changed. */
export interface PlannedEntity {
  entity: PreparedEntity;
  file: string;
  lines: FileLines;
  /** False when the stored row already has this content, file and document index. */
  changed: boolean;
  /** Id of the row stored before, which a changed entity keeps, or undefined for a new entity. */
  storedId: number | undefined;
  row: EntityRowInput;
  /** Relation rows as flat triples `[source, type, target, ...]`; empty when unchanged. */
  relations: readonly string[];
  /** Search rows as flat pairs `[key, value, ...]`, the uid's included; empty when unchanged. */
  search: ReadonlyArray<string | null>;
}

/**
 * Decides what one location refresh writes, one file at a time in file
 * order. The first definition of a reference wins: within the location in
 * file and document order, and across locations the one that already stores
 * it. Unchanged entities keep their rows; changed ones keep their uid and
 * creation time. An entity stored from a file that could not be read or
 * parsed this time, and that no other file of the location defines now, is
 * held: it keeps its rows, so no other location can take its reference over
 * a passing fault.
 */
export class EntityPlanner {
  /** Every entity to store, in file and document order. */
  readonly stored: PlannedEntity[] = [];
  /** Conflicts: references defined twice in this location or already stored by another one. */
  readonly issues: CatalogIssue[] = [];
  readonly #location: LocationRecord;
  readonly #now: string;
  readonly #existing: ReadonlyMap<string, ExistingEntity>;
  readonly #firstSeen = new Map<string, { file: string; docIndex: number }>();
  readonly #failedFiles = new Set<string>();

  constructor(input: {
    location: LocationRecord;
    now: string;
    existing: ReadonlyMap<string, ExistingEntity>;
  }) {
    this.#location = input.location;
    this.#now = input.now;
    this.#existing = input.existing;
  }

  /** Returns the references of the file that the location does not store yet, which another location may own. */
  newRefs(file: PreparedFile): string[] {
    const refs = new Set<string>();
    for (const entity of file.entities) {
      if (!this.#existing.has(entity.ref)) {
        refs.add(entity.ref);
      }
    }
    return [...refs];
  }

  /**
   * Plans the entities of the next file, given the other locations that store
   * any of its new references, and returns the ones to store.
   */
  addFile(loaded: LoadedFile, owners: ReadonlyMap<string, ForeignOwner>): PlannedEntity[] {
    const { prepared, lines } = loaded;
    const location = this.#location;
    const planned: PlannedEntity[] = [];

    for (const entity of prepared.entities) {
      const first = this.#firstSeen.get(entity.ref);
      if (first) {
        this.#conflict(
          loaded,
          entity,
          `${entity.ref} is defined twice in location ${location.target}: first in ${first.file} (document ${first.docIndex}), again here; this definition is ignored, so remove one or rename it`,
        );
        continue;
      }

      const owner = this.#existing.has(entity.ref) ? undefined : owners.get(entity.ref);
      if (owner) {
        this.#conflict(
          loaded,
          entity,
          `${entity.ref} is already stored from location ${owner.locationTarget} (file ${owner.file}); this definition in ${prepared.file}, read by location ${location.target}, is ignored: remove one of the two definitions or rename one`,
        );
        continue;
      }

      this.#firstSeen.set(entity.ref, { file: prepared.file, docIndex: entity.docIndex });
      planned.push(this.#plan(entity, prepared.file, lines));
    }
    this.stored.push(...planned);
    return planned;
  }

  /** Marks a file of the location that could not be read or parsed this time. */
  addFailedFile(file: string): void {
    this.#failedFiles.add(file);
  }

  /**
   * Returns, once every file is planned, the references the location stored
   * before and stores no more: those to delete, and those held because their
   * file failed.
   */
  unstoredRefs(): { removed: string[]; held: string[] } {
    const removed: string[] = [];
    const held: string[] = [];
    if (this.#existing.size === 0) {
      return { removed, held };
    }
    const storedRefs = new Set<string>();
    for (const entity of this.stored) {
      storedRefs.add(entity.entity.ref);
    }
    for (const [ref, row] of this.#existing) {
      if (storedRefs.has(ref)) {
        continue;
      }
      if (this.#failedFiles.has(row.file)) {
        held.push(ref);
      } else {
        removed.push(ref);
      }
    }
    return { removed, held };
  }

  #conflict(loaded: LoadedFile, entity: PreparedEntity, message: string): void {
    this.issues.push({
      file: loaded.prepared.file,
      docIndex: entity.docIndex,
      line: loaded.lines.documentLine(entity.docIndex),
      entityRef: entity.ref,
      severity: 'error',
      code: ISSUE_CODES.entityConflict,
      message,
    });
  }

  #plan(entity: PreparedEntity, file: string, lines: FileLines): PlannedEntity {
    const previous = this.#existing.get(entity.ref);
    const changed =
      previous === undefined ||
      previous.etag !== entity.etag ||
      previous.file !== file ||
      previous.docIndex !== entity.docIndex;
    const uid = previous?.uid ?? randomUUID();

    const row: EntityRowInput = {
      entity_ref: entity.ref,
      uid,
      kind: entity.kind,
      namespace: entity.namespace,
      name: entity.name,
      location_id: this.#location.id,
      file,
      doc_index: entity.docIndex,
      body: changed ? `${entity.bodyHead}${JSON.stringify(uid)}${entity.bodyTail}` : '',
      etag: entity.etag,
      created_at: previous?.createdAt ?? this.#now,
      updated_at: this.#now,
    };
    const storedId = previous?.id;
    if (!changed) {
      return { entity, file, lines, changed, storedId, row, relations: [], search: [] };
    }
    return {
      entity,
      file,
      lines,
      changed,
      storedId,
      row,
      relations: entity.relations,
      search: withUidSearchRow({ rows: entity.search, uidKeyValues: entity.uidKeyValues }, uid),
    };
  }
}
