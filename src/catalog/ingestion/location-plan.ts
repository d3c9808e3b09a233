import { createHash, randomUUID } from 'node:crypto';
import type { Entity } from '@backstage/catalog-model';
import type { CatalogEntityRow } from '../tables.js';
import { type CatalogIssue, ISSUE_CODES } from './issues.js';
import type { FileReadResult, ReadEntity } from './read-file.js';
import { buildSearchRows, type SearchRow } from './search.js';

export const ANNOTATION_LOCATION = 'backstage.io/managed-by-location';
export const ANNOTATION_ORIGIN_LOCATION = 'backstage.io/managed-by-origin-location';

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

/** An entity this refresh stores, with the rows to write when it changed. */
export interface PlannedEntity {
  read: ReadEntity;
  file: string;
  /** False when the stored row already has this content, file and document index. */
  changed: boolean;
  row: CatalogEntityRow;
  /** Deduplicated relation rows `[source, type, target]`, originating from this entity. */
  relations: Array<[string, string, string]>;
  search: SearchRow[];
}

export interface EntityPlan {
  stored: PlannedEntity[];
  /** References to delete before writing: gone from the location, or changed and rewritten. */
  remove: string[];
  /** Conflicts: references defined twice in this location or already stored by another one. */
  issues: CatalogIssue[];
}

/**
 * Decides what one location refresh writes. The first definition of a
 * reference wins: within the location in file and document order, and across
 * locations the one that already stores it. Unchanged entities keep their
 * rows; changed ones keep their uid and creation time.
 */
export function planEntities(input: {
  location: LocationRecord;
  originTarget: string;
  now: string;
  files: readonly FileReadResult[];
  existing: ReadonlyMap<string, ExistingEntity>;
  owners: ReadonlyMap<string, ForeignOwner>;
}): EntityPlan {
  const { location, existing, owners } = input;
  const stored: PlannedEntity[] = [];
  const issues: CatalogIssue[] = [];
  const firstSeen = new Map<string, { file: string; docIndex: number }>();

  for (const result of input.files) {
    for (const read of result.entities) {
      const where = {
        file: result.file,
        docIndex: read.docIndex,
        line: read.line,
        entityRef: read.ref,
      };

      const first = firstSeen.get(read.ref);
      if (first) {
        issues.push({
          ...where,
          severity: 'error',
          code: ISSUE_CODES.entityConflict,
          message: `${read.ref} is defined twice in location ${location.target}: first in ${first.file} (document ${first.docIndex}), again here; this definition is ignored, so remove one or rename it`,
        });
        continue;
      }

      const owner = existing.has(read.ref) ? undefined : owners.get(read.ref);
      if (owner) {
        issues.push({
          ...where,
          severity: 'error',
          code: ISSUE_CODES.entityConflict,
          message: `${read.ref} is already stored from location ${owner.locationTarget} (file ${owner.file}); this definition in ${result.file}, read by location ${location.target}, is ignored: remove one of the two definitions or rename one`,
        });
        continue;
      }

      firstSeen.set(read.ref, { file: result.file, docIndex: read.docIndex });
      stored.push(planEntity(read, result.file, input));
    }
  }

  const keptRefs = new Set(
    stored.filter((entity) => !entity.changed).map((entity) => entity.read.ref),
  );
  const remove = [...existing.keys()].filter((ref) => !keptRefs.has(ref));
  return { stored, remove, issues };
}

function planEntity(
  read: ReadEntity,
  file: string,
  input: {
    location: LocationRecord;
    originTarget: string;
    now: string;
    existing: ReadonlyMap<string, ExistingEntity>;
  },
): PlannedEntity {
  const metadata = read.entity.metadata;
  const content = {
    ...read.entity,
    metadata: {
      ...metadata,
      annotations: {
        ...metadata.annotations,
        [ANNOTATION_LOCATION]: `file:${file}`,
        [ANNOTATION_ORIGIN_LOCATION]: `file:${input.originTarget}`,
      },
    },
  };
  const etag = createHash('sha1').update(JSON.stringify(content)).digest('hex');

  const previous = input.existing.get(read.ref);
  const changed =
    previous === undefined ||
    previous.etag !== etag ||
    previous.file !== file ||
    previous.docIndex !== read.docIndex;
  const uid = previous?.uid ?? randomUUID();
  const body: Entity = { ...content, metadata: { ...content.metadata, uid, etag } };

  const row: CatalogEntityRow = {
    entity_ref: read.ref,
    uid,
    kind: read.entity.kind,
    namespace: metadata.namespace ?? 'default',
    name: metadata.name,
    location_id: input.location.id,
    file,
    doc_index: read.docIndex,
    body: changed ? JSON.stringify(body) : '',
    etag,
    created_at: previous?.createdAt ?? input.now,
    updated_at: input.now,
  };
  if (!changed) {
    return { read, file, changed, row, relations: [], search: [] };
  }

  const relations: Array<[string, string, string]> = [];
  const seen = new Set<string>();
  for (const relation of read.relations) {
    const key = `${relation.sourceRef}\u0000${relation.type}\u0000${relation.targetRef}`;
    if (!seen.has(key)) {
      seen.add(key);
      relations.push([relation.sourceRef, relation.type, relation.targetRef]);
    }
  }
  return { read, file, changed, row, relations, search: buildSearchRows(body).rows };
}
