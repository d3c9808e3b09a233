import { readFile } from 'node:fs/promises';
import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { type DerivedRelation, deriveRelations } from '../relations.js';
import { validateEntity } from './entity-validation.js';
import { type CatalogIssue, formatField, ISSUE_CODES, type IssueCode } from './issues.js';
import { isKindAllowed } from './kind-rules.js';
import { type LocationTarget, resolveLocationTargets } from './location-targets.js';
import { resolvePlaceholders } from './placeholders.js';
import { findSearchKeyCaseConflicts } from './search.js';
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
}

export interface ReadFileOptions {
  /** Lowercase kinds that may be stored, or undefined for every kind. */
  allowedKinds?: ReadonlySet<string> | undefined;
}

/** Reads, parses and validates one catalog file. Bad content becomes issues in the result. */
export async function readCatalogFile(
  file: string,
  options: ReadFileOptions = {},
): Promise<FileReadResult> {
  const result: FileReadResult = { file, entities: [], issues: [], rejected: 0, dependencies: [] };

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    result.issues.push(unreadableFileIssue(file, error));
    return result;
  }

  return await readCatalogText(file, text, options);
}

/** The fault of a catalog file that could not be read. */
export function unreadableFileIssue(file: string, error: unknown): CatalogIssue {
  const code = (error as NodeJS.ErrnoException).code;
  return {
    severity: 'error',
    code: code === 'ENOENT' ? ISSUE_CODES.locationNotFound : ISSUE_CODES.fileUnreadable,
    file,
    message:
      code === 'ENOENT'
        ? `file ${file} does not exist: create it or remove the target that names it`
        : `file ${file} could not be read: ${(error as Error).message}`,
  };
}

/** Parses and validates the text of a catalog file already read from `file`. */
export async function readCatalogText(
  file: string,
  text: string,
  options: ReadFileOptions = {},
): Promise<FileReadResult> {
  const result: FileReadResult = { file, entities: [], issues: [], rejected: 0, dependencies: [] };
  const parsed = parseYamlDocuments(text);
  if (!parsed.ok) {
    result.issues.push({
      severity: 'error',
      code: ISSUE_CODES.yamlInvalid,
      file,
      line: parsed.line,
      message: `the file is not valid YAML (line ${parsed.line}, column ${parsed.column}): ${parsed.message}. No entity of this file was read; fix the syntax, or if this is a template skeleton, keep it out of catalog locations`,
    });
    return result;
  }

  for (const document of parsed.documents) {
    if (document.value === null) {
      // An empty document, such as after a trailing `---`; Backstage skips it too.
      continue;
    }
    const entity = await readDocument(file, document, options, result);
    if (entity) {
      result.entities.push(entity);
    } else {
      result.rejected += 1;
    }
  }
  return result;
}

async function readDocument(
  file: string,
  document: YamlDocument,
  options: ReadFileOptions,
  result: FileReadResult,
): Promise<ReadEntity | undefined> {
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
  if (typeof kind === 'string' && !isKindAllowed(kind, options.allowedKinds)) {
    const allowed = [...(options.allowedKinds ?? [])].join(', ');
    result.issues.push(
      issue(
        ISSUE_CODES.kindNotAllowed,
        ['kind'],
        `kind '${kind}' is not allowed from this location (allowed: ${allowed || 'none'}): add it to catalog.rules or to the rules of the location in the config`,
      ),
    );
    return undefined;
  }

  const errors: CatalogIssue[] = [];
  const placeholders = resolvePlaceholders(input, file);
  result.dependencies.push(...placeholders.files);
  for (const fault of placeholders.faults) {
    errors.push(issue(ISSUE_CODES.placeholderFailed, fault.path, fault.message));
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

  const entity = validation.entity;
  if (!entity || errors.length > 0) {
    result.issues.push(...errors);
    return undefined;
  }

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

  for (const key of findSearchKeyCaseConflicts(entity)) {
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
    const resolved = resolveLocationTargets((entity.spec ?? {}) as Record<string, unknown>, file);
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
    lineOf: (path) => document.lineOf(path),
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
