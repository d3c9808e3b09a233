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

/** Field names whose values are credentials; messages say that the value is wrong, never what it is. */
const SECRET_FIELD = /(secret|password|token|credential|private)/i;

/** Whether the last key of a field path names a credential. */
export function isSecretField(path: readonly PropertyKey[]): boolean {
  return path.some((part) => typeof part === 'string' && SECRET_FIELD.test(part));
}

/** Counts faults in a heading: `1 fault`, `3 faults`. */
export function countFaults(count: number): string {
  return count === 1 ? '1 fault' : `${count} faults`;
}

/**
 * Turns every zod issue into a detail that names the field, the value found
 * and what is expected. `locate` may prefix the field with its file and line.
 * Values of credential fields are never repeated.
 */
export function detailsFromZodIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  locate: (path: readonly PropertyKey[]) => string = formatFieldPath,
  prefix: readonly PropertyKey[] = [],
): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    const issuePath = [...prefix, ...issue.path];

    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issuePath, key];
        details.push({
          path: locate(path),
          message: `unknown key '${key}': remove it or check its spelling`,
        });
      }
      continue;
    }

    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Paths inside a union's branches are relative to the union itself.
      details.push(...detailsFromZodIssues(closestBranch(issue.errors), input, locate, issuePath));
      continue;
    }

    const value = valueAtPath(input, issuePath);
    const shown = isSecretField(issuePath) ? 'the value' : describeValue(value);
    const message =
      value === undefined && issue.code === 'invalid_type'
        ? `is required (${expectation(issue)})`
        : `${shown} is invalid: ${expectation(issue)}`;
    details.push({
      path: locate(issuePath),
      ...(isSecretField(issuePath) ? {} : { value }),
      message,
    });
  }
  return details;
}

/**
 * Picks the union branch that explains the fault best: one whose type matched
 * the value (no type fault at the branch's root), and among those the one
 * that got furthest into the value.
 */
function closestBranch(
  branches: readonly (readonly z.core.$ZodIssue[])[],
): readonly z.core.$ZodIssue[] {
  const typeMatched = (issues: readonly z.core.$ZodIssue[]) =>
    !issues.some((issue) => issue.code === 'invalid_type' && issue.path.length === 0);
  const ranked = [...branches].sort(
    (a, b) => Number(typeMatched(b)) - Number(typeMatched(a)) || depth(b) - depth(a),
  );
  return ranked[0] ?? [];
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
    case 'too_small':
      return isZodWording(issue.message)
        ? boundMessage('at least', 'more than', issue.minimum, issue.inclusive, issue.origin)
        : issue.message;
    case 'too_big':
      return isZodWording(issue.message)
        ? boundMessage('at most', 'less than', issue.maximum, issue.inclusive, issue.origin)
        : issue.message;
    default:
      // Custom checks and formats carry a message written for this project.
      return issue.message;
  }
}

/** Whether a message is zod's own default wording rather than one written in a schema here. */
function isZodWording(message: string): boolean {
  return /^(Too small|Too big|Invalid input)/.test(message);
}

function boundMessage(
  inclusiveWord: string,
  exclusiveWord: string,
  bound: number | bigint,
  inclusive: boolean | undefined,
  origin: string,
): string {
  const word = inclusive === false ? exclusiveWord : inclusiveWord;
  if (origin === 'string') {
    return `must be ${word} ${bound} characters long`;
  }
  if (origin === 'array' || origin === 'set') {
    return `must have ${word} ${bound} items`;
  }
  return `must be ${word} ${bound}`;
}
