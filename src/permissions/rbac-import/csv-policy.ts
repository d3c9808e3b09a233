import { CsvError, parse } from 'csv-parse/sync';
import type { ImportIssue } from './import-issue.js';

/** The actions of Backstage permissions, as the RBAC plugin accepts them in a `p` line. */
export const RBAC_ACTIONS = ['create', 'read', 'update', 'delete', 'use'] as const;
export type RbacAction = (typeof RBAC_ACTIONS)[number];

/** A `p` line: `p, subject, permission or resource type, action, effect`. */
export interface RbacPolicyLine {
  type: 'p';
  line: number;
  subject: string;
  /** A permission name (`catalog.entity.read`) or a resource type (`catalog-entity`). */
  object: string;
  action: RbacAction;
  effect: 'allow' | 'deny';
}

/** A `g` line: `g, user or group, role`. */
export interface RbacGroupingLine {
  type: 'g';
  line: number;
  member: string;
  role: string;
}

export type RbacCsvLine = RbacPolicyLine | RbacGroupingLine;

export interface RbacCsv {
  file: string;
  /** The lines that parsed, in file order. */
  lines: RbacCsvLine[];
  /** Lines that are neither blank nor comments, parsed or not. */
  policyLineCount: number;
  /** One error per line that did not parse. */
  issues: ImportIssue[];
}

/**
 * Parses the RBAC plugin's policy CSV one line at a time, so a malformed
 * line (a stray quote, a missing field) is reported with its number and
 * every other line still parses. Blank lines and lines starting with `#` are
 * skipped.
 */
export function parseRbacCsv(file: string, text: string): RbacCsv {
  const result: RbacCsv = { file, lines: [], policyLineCount: 0, issues: [] };
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/);

  rows.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      return;
    }
    result.policyLineCount += 1;

    const fields = splitFields(raw);
    if ('error' in fields) {
      result.issues.push({ severity: 'error', file, line, message: fields.error });
      return;
    }

    const parsed = readLine(fields.values, line);
    if ('error' in parsed) {
      result.issues.push({ severity: 'error', file, line, message: parsed.error });
      return;
    }
    result.lines.push(parsed);
  });
  return result;
}

function splitFields(raw: string): { values: string[] } | { error: string } {
  try {
    const records = parse(raw, { trim: true, relax_column_count: true }) as string[][];
    return { values: records[0] ?? [] };
  } catch (error) {
    if (!(error instanceof CsvError)) {
      throw error;
    }
    return { error: describeCsvError(error, raw) };
  }
}

/** Rewords csv-parse's errors for one line: its own line numbers count from this line, not the file. */
function describeCsvError(error: CsvError, raw: string): string {
  const index = (error as CsvError & { index?: number }).index ?? 0;
  const field = raw.split(',')[index]?.trim() ?? '';
  switch (error.code) {
    case 'INVALID_OPENING_QUOTE':
      return `the line is not valid CSV: field ${index + 1} '${field}' has a double quote inside an unquoted value: remove the quote, or quote the whole field and double the inner quote ("a""b")`;
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'the line is not valid CSV: a quoted field has no closing double quote: add it, or remove the opening one';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `the line is not valid CSV: text follows the closing double quote of field ${index + 1}: put the whole value inside the quotes`;
    default:
      return `the line is not valid CSV: ${error.message.replace(/ at line \d+/, '')}`;
  }
}

function readLine(values: string[], line: number): RbacCsvLine | { error: string } {
  const [type] = values;
  if (type === 'p') {
    if (values.length !== 5) {
      return {
        error: `the line has ${values.length} fields, but a p line has 5: p, <role, user or group>, <permission or resource type>, <action>, <allow or deny>`,
      };
    }
    const [, subject = '', object = '', action = '', effect = ''] = values;
    if (subject === '' || object === '') {
      return { error: 'the subject or the permission is empty: fill in both' };
    }
    if (!isRbacAction(action)) {
      return {
        error: `action '${action}' is invalid: use one of ${RBAC_ACTIONS.join(', ')} (lowercase)`,
      };
    }
    if (effect !== 'allow' && effect !== 'deny') {
      return { error: `effect '${effect}' is invalid: use allow or deny (lowercase)` };
    }
    return { type: 'p', line, subject, object, action, effect };
  }

  if (type === 'g') {
    if (values.length !== 3) {
      return {
        error: `the line has ${values.length} fields, but a g line has 3: g, <user or group>, <role>`,
      };
    }
    const [, member = '', role = ''] = values;
    if (member === '' || role === '') {
      return { error: 'the member or the role is empty: fill in both' };
    }
    return { type: 'g', line, member, role };
  }

  return {
    error: `the line starts with '${type ?? ''}', which is not a policy type: start a permission line with p, a role assignment with g, and a comment with #`,
  };
}

function isRbacAction(value: string): value is RbacAction {
  return (RBAC_ACTIONS as readonly string[]).includes(value);
}
