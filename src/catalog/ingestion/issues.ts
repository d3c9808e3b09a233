/**
 * Stable codes of ingestion faults, stored in `catalog_errors.code`. A code
 * names the kind of fault; the message names the value and the fix.
 */
export const ISSUE_CODES = {
  /** The file could not be read at all (permissions, not a regular file, an I/O error). */
  fileUnreadable: 'file-unreadable',
  /** The file is larger than `catalog.limits.maxFileBytes`. */
  fileTooLarge: 'file-too-large',
  /** The file is not UTF-8, such as UTF-16 or Latin-1. */
  fileEncodingInvalid: 'file-encoding-invalid',
  /** The file is not valid YAML; no document of it was read. */
  yamlInvalid: 'yaml-invalid',
  /** A YAML document is a list or a scalar instead of a mapping. */
  documentNotMapping: 'document-not-mapping',
  /** The entity breaks a policy or its kind's schema. */
  entityInvalid: 'entity-invalid',
  /** The kind is not allowed by `catalog.rules` or the location's rules. */
  kindNotAllowed: 'kind-not-allowed',
  /** A kind or apiVersion this catalog does not store, such as a v1beta2 Template. */
  kindUnsupported: 'kind-unsupported',
  /** A `$text`, `$json` or `$yaml` placeholder could not be resolved. */
  placeholderFailed: 'placeholder-failed',
  /** A reference field holds something that is not an entity reference. */
  referenceInvalid: 'reference-invalid',
  /** A reference parses, but its name can never match an entity. */
  referenceNameInvalid: 'reference-name-invalid',
  /** A relation points at an entity that is not in the catalog. */
  danglingReference: 'dangling-reference',
  /** A group is its own ancestor through `childOf` relations. */
  groupCycle: 'group-cycle',
  /** Another location already stores an entity with the same reference. */
  entityConflict: 'entity-conflict',
  /** A location target file does not exist. */
  locationNotFound: 'location-not-found',
  /** A glob target matched no file. */
  locationEmpty: 'location-empty',
  /** A location target is a URL or of a type this catalog does not read. */
  locationUnsupported: 'location-unsupported',
  /** A location target, or a file it lists, lies outside the folder of its config location. */
  locationOutsideFolder: 'location-outside-folder',
  /** A Location entity points back at the location that read it or at one of its ancestors. */
  locationCycle: 'location-cycle',
  /** Another location already registered the same target. */
  locationConflict: 'location-conflict',
} as const;

export type IssueCode = (typeof ISSUE_CODES)[keyof typeof ISSUE_CODES];

/** One fault found while reading catalog files, as stored in `catalog_errors`. */
export interface CatalogIssue {
  severity: 'error' | 'warning';
  code: IssueCode;
  /** Absolute path of the file, when the fault is in or about a file. */
  file?: string;
  /** Index of the YAML document in the file, from 0. */
  docIndex?: number;
  /** Line in the file, from 1: of the field when it exists, else of the document. */
  line?: number;
  /** Lowercase reference of the entity, when its kind and name are known. */
  entityRef?: string;
  /** Field path such as `spec.dependsOn[0]` or `metadata.name`. */
  field?: string;
  message: string;
}

/** Formats a field path as `spec.dependsOn[0]`: keys joined by dots, indexes in brackets. */
export function formatField(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') {
      text += `[${part}]`;
    } else {
      text += text === '' ? String(part) : `.${String(part)}`;
    }
  }
  return text;
}

/** Quotes a value for a message: strings in single quotes, others as JSON, long ones cut. */
export function quoteValue(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Formats an issue as one line: `file:line [doc N] ref field: message`. */
export function formatIssue(issue: CatalogIssue): string {
  const parts: string[] = [];
  if (issue.file) {
    parts.push(issue.line ? `${issue.file}:${issue.line}` : issue.file);
  }
  if (issue.docIndex !== undefined) {
    parts.push(`[doc ${issue.docIndex}]`);
  }
  if (issue.entityRef) {
    parts.push(issue.entityRef);
  }
  if (issue.field) {
    parts.push(issue.field);
  }
  const where = parts.join(' ');
  return where === '' ? issue.message : `${where}: ${issue.message}`;
}
