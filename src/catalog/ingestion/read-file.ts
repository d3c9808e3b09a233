import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { DEFAULT_CATALOG_FILE_MAX_BYTES } from '../../config/index.js';
import { type DerivedRelation, deriveRelations } from '../relations.js';
import { validateEntity } from './entity-validation.js';
import { type CatalogIssue, formatField, ISSUE_CODES, type IssueCode } from './issues.js';
import {
  DEFAULT_KIND_POLICY,
  isKindAllowed,
  type KindPolicy,
  TRUSTED_ONLY_KINDS,
} from './kind-rules.js';
import { type LocationTarget, resolveLocationTargets } from './location-targets.js';
import { findNulCharacter, mayContainNul } from './nul-characters.js';
import { resolvePlaceholders } from './placeholders.js';
import { buildSearchRowsBeforeUid, type SearchRowsBeforeUid } from './search.js';
import type { TargetScope } from './target-scope.js';
import { readTextFile, type TextFileFault } from './text-file.js';
import { describeYamlValue, parseYamlDocuments, type YamlDocument } from './yaml-documents.js';

/**
 * A valid entity read from a file, ready to be stored. Lines are looked up
 * only when asked for, because finding them may mean parsing the file again.
 */
export interface ReadEntity {
  docIndex: number;
  /** Line where the document starts, from 1. */
  readonly line: number;
  /** Lowercase reference, such as `component:default/orders`. */
  ref: string;
  /** The entity with its namespace defaulted and its placeholders resolved. */
  entity: Entity;
  /** Relations in both directions, each with the path of the reference that produced it. */
  relations: DerivedRelation[];
  /** For a Location entity: the files and globs it declares. */
  targets: LocationTarget[];
  /** Faults that do not stop the entity from being stored, such as a URL target of a Location. */
  issues: CatalogIssue[];
  /** The entity's search rows, built in the walk that checks its keys. */
  search: SearchRowsBeforeUid;
  /** Line of the field at `path`, such as a relation's or a target's path, or of its nearest ancestor. */
  lineOf(path: readonly PropertyKey[]): number;
}

/** Everything read from one catalog file. */
export interface FileReadResult {
  file: string;
  entities: ReadEntity[];
  /** Faults of the whole file and of its rejected documents. */
  issues: CatalogIssue[];
  /** Non-empty documents that did not become an entity. */
  rejected: number;
  /** Files read for `$text`, `$json` and `$yaml` placeholders. */
  dependencies: string[];
  /**
   * True when the file itself could not be read or parsed, so none of its
   * documents was read. The entities stored from it before are kept.
   */
  failed: boolean;
}

export interface ReadFileOptions {
  /** Kinds that may be stored; every kind but User and Group when unset. */
  kindPolicy?: KindPolicy | undefined;
  /** The config location's tree the file belongs to, whose folder Location targets must stay in. */
  scope?: TargetScope | undefined;
  /** Size limit of each file a placeholder reads, in bytes; 5 MiB when unset. */
  maxPlaceholderFileBytes?: number | undefined;
  /**
   * Adds the annotations that a stored entity carries, as
   * `<type>:<file>` in ANNOTATION_LOCATION and `<type>:<originTarget>` in
   * ANNOTATION_ORIGIN_LOCATION, where `originTarget` is the target of the
   * config location the file was reached from. They replace annotations of
   * the same name in the file. Keys are then checked with the annotations in
   * place, as Backstage checks the entities it stores.
   */
  locationAnnotations?: { type: string; originTarget: string } | undefined;
}

export const ANNOTATION_LOCATION = 'backstage.io/managed-by-location';
export const ANNOTATION_ORIGIN_LOCATION = 'backstage.io/managed-by-origin-location';

/** Settings that name each size limit in messages. */
export const FILE_SIZE_SETTING = 'catalog.limits.maxFileBytes';
export const PLACEHOLDER_SIZE_SETTING = 'catalog.limits.maxPlaceholderFileBytes';

/** Sentence appended to the fault of a file that was not read, on what happens to its entities. */
export const KEPT_ENTITIES =
  'No entity of this file was read; the catalog keeps the entities it stored from the file before until the file is fixed';

/** Reads, parses and validates one catalog file. Bad content becomes issues in the result. */
export async function readCatalogFile(
  file: string,
  options: ReadFileOptions & { maxFileBytes?: number } = {},
): Promise<FileReadResult> {
  const read = await readTextFile(file, {
    maxBytes: options.maxFileBytes ?? DEFAULT_CATALOG_FILE_MAX_BYTES,
    setting: FILE_SIZE_SETTING,
  });
  if (!read.ok) {
    return {
      file,
      entities: [],
      issues: [unreadableFileIssue(file, read.fault)],
      rejected: 0,
      dependencies: [],
      failed: true,
    };
  }
  return await readCatalogText(file, read.text, options);
}

/** Creates the fault of a catalog file that could not be read. */
export function unreadableFileIssue(file: string, fault: TextFileFault): CatalogIssue {
  const fix =
    fault.code === ISSUE_CODES.locationNotFound
      ? ': create it or remove the target that names it'
      : '';
  return {
    severity: 'error',
    code: fault.code,
    file,
    message: `file ${file} ${fault.reason}${fix}. ${KEPT_ENTITIES}`,
  };
}

/** Parses and validates the text of a catalog file already read from `file`. */
export async function readCatalogText(
  file: string,
  text: string,
  options: ReadFileOptions = {},
): Promise<FileReadResult> {
  const result: FileReadResult = {
    file,
    entities: [],
    issues: [],
    rejected: 0,
    dependencies: [],
    failed: false,
  };
  const parsed = parseYamlDocuments(text);
  if (!parsed.ok) {
    result.failed = true;
    result.issues.push({
      severity: 'error',
      code: ISSUE_CODES.yamlInvalid,
      file,
      line: parsed.line,
      message: `the file is not valid YAML (line ${parsed.line}, column ${parsed.column}): ${parsed.message}. ${KEPT_ENTITIES}; fix it, or if this is a template skeleton, keep it out of catalog locations`,
    });
    return result;
  }

  const context: DocumentContext = { file, options, mayContainNul: mayContainNul(text) };
  for (const document of parsed.documents) {
    if (document.value === null) {
      // An empty document, such as after a trailing `---`; Backstage skips it too.
      continue;
    }
    const entity = await readDocument(context, document, result);
    if (entity) {
      result.entities.push(entity);
    } else {
      result.rejected += 1;
    }
  }
  return result;
}

/** Settings that every document of one file is read with. */
interface DocumentContext {
  file: string;
  options: ReadFileOptions;
  /** Whether the text has a NUL character or an escape that makes one. */
  mayContainNul: boolean;
}

async function readDocument(
  context: DocumentContext,
  document: YamlDocument,
  result: FileReadResult,
): Promise<ReadEntity | undefined> {
  const { file, options } = context;
  const where = { file, docIndex: document.index };
  const value = document.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    result.issues.push({
      ...where,
      severity: 'error',
      code: ISSUE_CODES.documentNotMapping,
      line: document.line,
      message: `document ${document.index} is ${describeYamlValue(value)}, not a mapping: an entity is a mapping with apiVersion, kind, metadata and spec`,
    });
    return undefined;
  }

  // Checked before anything quotes a value of the document into a fault,
  // because PostgreSQL rejects the character in every text column.
  const nulPath = context.mayContainNul ? findNulCharacter(value) : undefined;
  if (nulPath) {
    result.issues.push(nulIssue(where, nulPath, document.lineOf(nulPath)));
    return undefined;
  }

  const input = value as Record<string, unknown>;
  const entityRef = referenceOf(input);
  const issue = (
    code: IssueCode,
    path: ReadonlyArray<string | number>,
    message: string,
    severity: 'error' | 'warning' = 'error',
  ): CatalogIssue => ({
    ...where,
    severity,
    code,
    line: document.lineOf(path),
    ...(entityRef ? { entityRef } : {}),
    ...(path.length > 0 ? { field: formatField(path) } : {}),
    message,
  });

  const kind = input.kind;
  const kindPolicy = options.kindPolicy ?? DEFAULT_KIND_POLICY;
  if (typeof kind === 'string' && !isKindAllowed(kind, kindPolicy)) {
    result.issues.push(
      issue(
        ISSUE_CODES.kindNotAllowed,
        ['kind'],
        kindNotAllowedMessage(kind, file, kindPolicy, options.scope),
      ),
    );
    return undefined;
  }

  const errors: CatalogIssue[] = [];
  const placeholders = resolvePlaceholders(input, file, {
    maxBytes: options.maxPlaceholderFileBytes ?? DEFAULT_CATALOG_FILE_MAX_BYTES,
    setting: PLACEHOLDER_SIZE_SETTING,
  });
  result.dependencies.push(...placeholders.files);
  for (const fault of placeholders.faults) {
    errors.push(issue(ISSUE_CODES.placeholderFailed, fault.path, fault.message));
  }

  const placedNul =
    placeholders.files.length > 0 ? findNulCharacter(placeholders.entity) : undefined;
  if (placedNul) {
    result.issues.push(nulIssue(where, placedNul, document.lineOf(placedNul), entityRef));
    return undefined;
  }

  const validation = await validateEntity(placeholders.entity);
  for (const fault of validation.faults) {
    // A failed placeholder leaves its mapping in place, so a schema fault on that path repeats the placeholder fault.
    const insidePlaceholder = placeholders.faults.some((failed) =>
      failed.path.every((part, index) => fault.path[index] === part),
    );
    if (!insidePlaceholder) {
      errors.push(issue(fault.code, fault.path, fault.message));
    }
  }

  const validated = validation.entity;
  if (!validated || errors.length > 0) {
    result.issues.push(...errors);
    return undefined;
  }
  const entity = options.locationAnnotations
    ? withLocationAnnotations(validated, file, options.locationAnnotations)
    : validated;

  const kept: CatalogIssue[] = [];
  const derived = deriveRelations(entity);
  for (const problem of derived.problems) {
    const target = problem.severity === 'error' ? errors : kept;
    target.push(
      issue(
        problem.severity === 'error'
          ? ISSUE_CODES.referenceInvalid
          : ISSUE_CODES.referenceNameInvalid,
        problem.path,
        problem.message,
        problem.severity,
      ),
    );
  }

  const search = buildSearchRowsBeforeUid(entity);
  for (const key of search.caseConflicts) {
    errors.push(
      issue(
        ISSUE_CODES.entityInvalid,
        [],
        `the entity has fields whose paths differ only in case ('${key}'), which the catalog's search index cannot hold: rename one of them`,
      ),
    );
  }

  if (errors.length > 0) {
    result.issues.push(...errors, ...kept);
    return undefined;
  }

  const targets: LocationTarget[] = [];
  if (entity.kind === 'Location') {
    const resolved = resolveLocationTargets(
      (entity.spec ?? {}) as Record<string, unknown>,
      file,
      options.scope,
    );
    targets.push(...resolved.targets);
    for (const fault of resolved.faults) {
      kept.push(issue(fault.code, fault.path, fault.message));
    }
  }

  return {
    docIndex: document.index,
    get line() {
      return document.line;
    },
    ref: stringifyEntityRef(entity),
    entity,
    relations: derived.relations,
    targets,
    issues: kept,
    search,
    lineOf: (path) => document.lineOf(path),
  };
}

function withLocationAnnotations(
  entity: Entity,
  file: string,
  location: { type: string; originTarget: string },
): Entity {
  const metadata = entity.metadata;
  return {
    ...entity,
    metadata: {
      ...metadata,
      annotations: {
        ...metadata.annotations,
        [ANNOTATION_LOCATION]: `${location.type}:${file}`,
        [ANNOTATION_ORIGIN_LOCATION]: `${location.type}:${location.originTarget}`,
      },
    },
  };
}

/**
 * Explains a kind that the rules do not allow and how to allow it. User and
 * Group get their own reason, because their default is the design rule that
 * only trusted locations define who is in which group.
 */
function kindNotAllowedMessage(
  kind: string,
  file: string,
  policy: KindPolicy,
  scope: TargetScope | undefined,
): string {
  const location = scope ? `config location ${scope.configTarget}` : 'the config location';
  if (policy.allowsUnlisted && TRUSTED_ONLY_KINDS.has(kind.toLowerCase())) {
    return `kind '${kind}' is not allowed in ${file}: User and Group entities are read only from locations an administrator trusts, because group membership grants ownership and roles. Add \`rules: [{ allow: [User, Group] }]\` to ${location} in app-config, or provision users and groups through the identity provider`;
  }
  const allowed = policy.allowed.join(', ') || 'none';
  return `kind '${kind}' is not allowed in ${file} by the rules of ${location} (allowed: ${allowed}): add it to catalog.rules or to the rules of that location in app-config`;
}

/** Creates the fault of a document with a NUL character, at the path that contains it. */
function nulIssue(
  where: { file: string; docIndex: number },
  path: ReadonlyArray<string | number>,
  line: number,
  entityRef?: string,
): CatalogIssue {
  const field = formatField(path);
  return {
    ...where,
    severity: 'error',
    code: ISSUE_CODES.entityInvalid,
    line,
    ...(entityRef ? { entityRef } : {}),
    ...(path.length > 0 ? { field } : {}),
    message: `${path.length > 0 ? field : 'a top-level key'} contains a NUL character (U+0000), which the catalog cannot store: remove the character, or the escape (\\0, \\x00, \\u0000) that produces it`,
  };
}

/** Builds the entity's reference when its kind and name are strings, even invalid ones. */
function referenceOf(input: Record<string, unknown>): string | undefined {
  const metadata = input.metadata as Record<string, unknown> | undefined;
  const kind = input.kind;
  const name = metadata?.name;
  if (typeof kind !== 'string' || typeof name !== 'string' || kind === '' || name === '') {
    return undefined;
  }
  const namespace =
    typeof metadata?.namespace === 'string' && metadata.namespace !== ''
      ? metadata.namespace
      : 'default';
  return stringifyEntityRef({ kind, namespace, name });
}
