import type { z } from 'zod';
import type { ErrorDetail } from '../errors/index.js';

/** Field path in the dotted form used in messages: `catalog.locations[0].target`. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') {
      text += `[${part}]`;
    } else {
      const key = String(part);
      text += text === '' ? key : `.${key}`;
    }
  }
  return text === '' ? '(top level)' : text;
}

/** Reads the value at `path`, or undefined when any step is missing. */
export function valueAtPath(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object') {
      return undefined;
    }
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** Places a value in a message: strings quoted, others as JSON, long ones cut. */
export function describeValue(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Turns every zod issue into a detail that names the field, the value found
 * and what is expected. `locate` may prefix the field with its file and line.
 */
export function detailsFromZodIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  locate: (path: readonly PropertyKey[]) => string = formatFieldPath,
): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        details.push({
          path: locate(path),
          value: valueAtPath(input, path),
          message: `unknown key '${key}': remove it or check its spelling`,
        });
      }
      continue;
    }

    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A union reports one list of issues per branch; the branch that got
      // furthest into the value explains the fault best.
      const deepest = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0] ?? [];
      details.push(...detailsFromZodIssues(deepest, input, locate));
      continue;
    }

    const value = valueAtPath(input, issue.path);
    const message =
      value === undefined && issue.code === 'invalid_type'
        ? `is required (${expectation(issue)})`
        : `${describeValue(value)} is invalid: ${expectation(issue)}`;
    details.push({ path: locate(issue.path), value, message });
  }
  return details;
}

function depth(issues: readonly z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((issue) => issue.path.length));
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'invalid_union': {
      // A discriminated union whose discriminator matched no branch lists the allowed values.
      const options = (issue as { options?: unknown[] }).options;
      return options
        ? `expected one of ${options.map((value) => JSON.stringify(value)).join(', ')}`
        : issue.message;
    }
    default:
      return issue.message;
  }
}
