import type { ErrorCode } from 'yaml';

/**
 * Descriptions of the `yaml` package's error codes (yaml 2.x, errors.d.ts).
 * Messages use these instead of the package's own messages, which may quote
 * the text of the file, so that a fault never shows more of a file than the
 * position of its line and column.
 */
const YAML_ERROR_DESCRIPTIONS: Readonly<Record<ErrorCode, string>> = {
  ALIAS_PROPS: 'an alias (*name) has an anchor or a tag, which aliases may not have',
  BAD_ALIAS: 'an alias (*name) refers to no anchor (&name) defined before it',
  BAD_DIRECTIVE: 'a directive (a line starting with %) is invalid',
  BAD_DQ_ESCAPE: 'a double-quoted string has an invalid escape sequence',
  BAD_INDENT: 'the indentation is wrong',
  BAD_PROP_ORDER: 'an anchor or a tag stands in the wrong place',
  BAD_SCALAR_START:
    'a plain value starts with a reserved character such as @, ` or %, so quote the value',
  BLOCK_AS_IMPLICIT_KEY: 'a block collection is used as a mapping key',
  BLOCK_IN_FLOW: 'a block collection stands inside a flow collection ([...] or {...})',
  DUPLICATE_KEY: 'a mapping has the same key twice',
  IMPOSSIBLE: 'the YAML parser failed internally',
  KEY_OVER_1024_CHARS: 'a mapping key is longer than 1024 characters',
  MISSING_CHAR:
    'a character is missing, such as a closing quote or bracket, a comma, or a space after a colon',
  MULTILINE_IMPLICIT_KEY: 'a mapping key spans several lines',
  MULTIPLE_ANCHORS: 'a node has more than one anchor',
  MULTIPLE_DOCS: 'several documents stand where one is expected',
  MULTIPLE_TAGS: 'a node has more than one tag',
  NON_STRING_KEY: 'a mapping key is not a string',
  RESOURCE_EXHAUSTION: 'the document expands more aliases than the parser allows',
  TAB_AS_INDENT: 'a tab is used for indentation, which YAML forbids: indent with spaces',
  TAG_RESOLVE_FAILED: 'a tag (!name) is unknown or does not fit its value',
  UNEXPECTED_TOKEN:
    'something stands where YAML does not allow it, such as text after a closed value or a mapping entry inside a list',
  BAD_COLLECTION_TYPE: 'a tag does not fit the collection it is on',
};

/** Describes a syntax error of the `yaml` package by its code, with the code for searches. */
export function describeYamlError(code: ErrorCode): string {
  const description = YAML_ERROR_DESCRIPTIONS[code] ?? 'the YAML parser rejected it';
  return `${description} (${code})`;
}

/**
 * Aliases that one document may expand, as the `yaml` package counts them:
 * each use of an alias, times the aliases inside the node it names. The
 * package's own default is 100, and a catalog file rarely has any.
 */
export const MAX_ALIAS_COUNT = 100;

/**
 * Describes why turning a parsed document into values failed: too many
 * aliases, which is how an alias bomb such as "billion laughs" shows, or
 * nesting deeper than the call stack allows.
 */
export function describeConversionFailure(error: unknown): string {
  if (error instanceof RangeError) {
    return 'it is nested too deeply to be read: flatten the structure';
  }
  // The messages of the `yaml` package 2.x (nodes/Alias.js), matched because both errors are ReferenceErrors.
  if (error instanceof ReferenceError && /^Excessive alias count/.test(error.message)) {
    return `it expands its aliases (*name) more than ${MAX_ALIAS_COUNT} times, the limit that stops alias bombs such as "billion laughs": write the repeated values out instead of reusing them through aliases`;
  }
  if (error instanceof ReferenceError && /^Unresolved alias/.test(error.message)) {
    return YAML_ERROR_DESCRIPTIONS.BAD_ALIAS;
  }
  return `it could not be converted to values: ${error instanceof Error ? error.name : 'unknown error'}`;
}
