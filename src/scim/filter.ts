import { ScimError } from './errors.js';
import { SCIM_SCHEMAS } from './schemas.js';

/** An equality filter on one attribute, the only kind this server evaluates. */
export interface EqualityFilter {
  /** The attribute as the schema spells it, such as `userName`. */
  attribute: string;
  value: string;
}

/** Attributes that the list filter accepts, per resource type. */
export const FILTER_ATTRIBUTES = {
  User: ['id', 'userName', 'externalId', 'displayName'],
  Group: ['id', 'displayName', 'externalId'],
} as const;

/** Comparison operators of RFC 7644, section 3.4.2.2; only `eq` is evaluated. */
const OPERATORS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le']);

/** Maximum length of a filter, in characters. */
const MAX_FILTER_LENGTH = 1024;

/**
 * One comparison: an attribute path, an operator and a JSON value, as in
 * `userName eq "ada@example.com"`. The value may be a string with JSON
 * escapes, a number, true, false or null.
 */
const COMPARISON =
  /^\s*([A-Za-z][\w$.:-]*)\s+([A-Za-z]+)\s+("(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*$/i;

function invalidFilter(message: string): ScimError {
  return new ScimError(400, message, { scimType: 'invalidFilter' });
}

/**
 * Parses the `filter` query parameter of a list request. Accepts exactly one
 * `eq` comparison on an attribute of FILTER_ATTRIBUTES, such as
 * `userName eq "ada@example.com"`, with the attribute name in any case and
 * optionally prefixed with its schema URN. Throws a ScimError 400
 * (`invalidFilter`) for any other filter, naming what is supported.
 */
export function parseListFilter(filter: string, resourceType: 'User' | 'Group'): EqualityFilter {
  const supported = FILTER_ATTRIBUTES[resourceType];
  const supportedText = `${supported.map((name) => `${name} eq "…"`).join(', ')}`;
  if (filter.length > MAX_FILTER_LENGTH) {
    throw invalidFilter(`The filter is longer than ${MAX_FILTER_LENGTH} characters`);
  }

  const match = COMPARISON.exec(filter);
  if (!match) {
    const combined = /\s(and|or)\s|^\s*not\s*\(|\[|\(/i.test(filter);
    throw invalidFilter(
      combined
        ? `The filter ${JSON.stringify(filter)} combines conditions, which this server does not evaluate: send one comparison, one of ${supportedText}`
        : `The filter ${JSON.stringify(filter)} is not a valid SCIM filter: write one comparison such as userName eq "ada@example.com"`,
    );
  }

  const [, path = '', operatorText = '', valueText = ''] = match;
  const operator = operatorText.toLowerCase();
  if (!OPERATORS.has(operator) && operator !== 'pr') {
    throw invalidFilter(
      `The filter operator ${JSON.stringify(operatorText)} is not a SCIM operator: use eq`,
    );
  }
  if (operator !== 'eq') {
    throw invalidFilter(
      `The filter operator ${JSON.stringify(operatorText)} is not supported: this server evaluates only ${supportedText}`,
    );
  }

  const schema = resourceType === 'User' ? SCIM_SCHEMAS.user : SCIM_SCHEMAS.group;
  const name = path.toLowerCase().startsWith(`${schema.toLowerCase()}:`)
    ? path.slice(schema.length + 1)
    : path;
  const attribute = supported.find((item) => item.toLowerCase() === name.toLowerCase());
  if (!attribute) {
    throw invalidFilter(
      `Filtering ${resourceType}s on ${JSON.stringify(path)} is not supported: use ${supportedText}`,
    );
  }

  let value: unknown;
  try {
    value = JSON.parse(valueText);
  } catch {
    throw invalidFilter(`The filter value ${valueText} is not a valid JSON string`);
  }
  if (typeof value !== 'string') {
    throw invalidFilter(
      `The filter compares ${attribute} with ${valueText}, but ${attribute} is a string: quote the value`,
    );
  }
  return { attribute, value };
}
