import { hash } from 'node:crypto';
import { serializeEntity } from './entity-json.js';
import type { CatalogIssue } from './issues.js';
import type { KindPolicy } from './kind-rules.js';
import type { LocationTarget } from './location-targets.js';
import { type ReadEntity, type ReadFileOptions, readCatalogText } from './read-file.js';
import type { TargetScope } from './target-scope.js';

export { ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION } from './read-file.js';

/**
 * A valid entity of a file with every part of its rows that does not depend
 * on what the database already stores. It is plain data, cheap to copy
 * between threads: rows are flat arrays, and the entity itself is only in
 * its body text.
 */
export interface PreparedEntity {
  docIndex: number;
  /** Lowercase reference, such as `component:default/orders`. */
  ref: string;
  kind: string;
  namespace: string;
  name: string;
  /** For a Location entity: the files and globs it declares. */
  targets: LocationTarget[];
  /** Faults that do not stop the entity from being stored. */
  issues: CatalogIssue[];
  /** SHA-1 of the content, the entity with its location annotations, as JSON. */
  etag: string;
  /** The body as JSON is `${bodyHead}${JSON.stringify(uid)}${bodyTail}`. */
  bodyHead: string;
  bodyTail: string;
  /** Deduplicated relation rows as `[source, type, target, source, type, target, ...]`. */
  relations: string[];
  /** Search rows but the uid's, as `[key, value, ...]`; see buildSearchRowsBeforeUid. */
  search: Array<string | null>;
  uidKeyValues: Array<string | null>;
}

/** One catalog file read and prepared for a location refresh. */
export interface PreparedFile {
  file: string;
  entities: PreparedEntity[];
  /** Faults of the whole file and of its rejected documents. */
  issues: CatalogIssue[];
  /** Non-empty documents that did not become an entity. */
  rejected: number;
  /** Files read for `$text`, `$json` and `$yaml` placeholders. */
  dependencies: string[];
  /** True when the file could not be read or parsed; the entities stored from it before are kept. */
  failed: boolean;
}

export interface PrepareOptions extends ReadFileOptions {
  /** The tree of the config location the file was reached from; its target goes into the origin annotation. */
  scope: TargetScope;
  kindPolicy: KindPolicy;
  /**
   * Type of the location written into the managed-by annotations, as in
   * `scim:/scim/v2/Users/<id>`; `file` when unset.
   */
  locationType?: string;
}

/** Reads, validates and prepares the text of a catalog file; bad content becomes issues. */
export async function prepareCatalogText(
  file: string,
  text: string,
  options: PrepareOptions,
): Promise<PreparedFile> {
  const result = await readCatalogText(file, text, {
    ...options,
    locationAnnotations: {
      type: options.locationType ?? 'file',
      originTarget: options.scope.configTarget,
    },
  });
  return {
    file,
    entities: result.entities.map(prepareEntity),
    issues: result.issues,
    rejected: result.rejected,
    dependencies: result.dependencies,
    failed: result.failed,
  };
}

/** Creates the prepared form of a file that could not be read: no entity, one fault. */
export function unreadablePreparedFile(file: string, issue: CatalogIssue): PreparedFile {
  return { file, entities: [], issues: [issue], rejected: 0, dependencies: [], failed: true };
}

function prepareEntity(read: ReadEntity): PreparedEntity {
  // The entity carries its location annotations already (see readCatalogText).
  const metadata = read.entity.metadata;
  const json = serializeEntity(read.entity as Parameters<typeof serializeEntity>[0], (text) =>
    hash('sha1', text, 'hex'),
  );
  const relations = deduplicateRelations(read.relations);
  // The body differs from the entity only in metadata.uid and metadata.etag,
  // which the search walk skips, and in the uid's own row.
  const search = read.search;
  return {
    docIndex: read.docIndex,
    ref: read.ref,
    kind: read.entity.kind,
    namespace: metadata.namespace ?? 'default',
    name: metadata.name,
    targets: read.targets,
    issues: read.issues,
    etag: json.etag,
    bodyHead: json.bodyHead,
    bodyTail: json.bodyTail,
    relations,
    search: search.rows,
    uidKeyValues: search.uidKeyValues,
  };
}

/** Relations up to which duplicates are found by a scan, which beats hashing joined keys. */
const RELATION_SCAN_LIMIT = 32;

/** Relation rows as flat triples `[source, type, target, ...]`, each once, in first-seen order. */
function deduplicateRelations(relations: ReadEntity['relations']): string[] {
  const rows: string[] = [];
  const seen = relations.length > RELATION_SCAN_LIMIT ? new Set<string>() : undefined;
  for (const { sourceRef, type, targetRef } of relations) {
    if (seen) {
      const key = `${sourceRef}\u0000${type}\u0000${targetRef}`;
      if (seen.has(key)) {
        continue;
      }
      seen.add(key);
    } else if (hasRelationRow(rows, sourceRef, type, targetRef)) {
      continue;
    }
    rows.push(sourceRef, type, targetRef);
  }
  return rows;
}

function hasRelationRow(rows: readonly string[], source: string, type: string, target: string) {
  for (let index = 0; index < rows.length; index += 3) {
    if (rows[index] === source && rows[index + 1] === type && rows[index + 2] === target) {
      return true;
    }
  }
  return false;
}
