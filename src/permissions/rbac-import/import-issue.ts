/**
 * One finding of an RBAC import. An error marks a CSV line or a conditional
 * policy document that was not converted. A warning marks one that was
 * converted but converts to nothing, or may decide differently from the RBAC
 * plugin.
 */
export interface ImportIssue {
  severity: 'error' | 'warning';
  /** The CSV or conditional-policy file, as the caller named it. */
  file: string;
  /** Line in the file, from 1. */
  line?: number;
  /** Index of the YAML document in a conditional-policy file, from 0. */
  document?: number;
  /** Field inside the document, such as `conditions.params.claims[0]`. */
  field?: string;
  message: string;
}

/** Formats an issue as `file:line: document N: field: message`. */
export function formatImportIssue(issue: ImportIssue, file: string = issue.file): string {
  let text = issue.line === undefined ? file : `${file}:${issue.line}`;
  if (issue.document !== undefined) {
    text += `: document ${issue.document}`;
  }
  if (issue.field !== undefined) {
    text += `: ${issue.field}`;
  }
  return `${text}: ${issue.message}`;
}

/** Sorts issues by file as first named, then line, so the report reads top to bottom. */
export function sortImportIssues(
  issues: readonly ImportIssue[],
  files: readonly string[],
): ImportIssue[] {
  const order = (file: string) => {
    const index = files.indexOf(file);
    return index === -1 ? files.length : index;
  };
  return [...issues].sort((a, b) => order(a.file) - order(b.file) || (a.line ?? 0) - (b.line ?? 0));
}
