import { FAILSAFE_SCHEMA, loadAll, type State, Type } from 'js-yaml';

/**
 * A faster reader for the plain YAML that catalog files are made of. It
 * parses with js-yaml 4, about four times faster than the `yaml` package on
 * the generated catalog of bench/ingest.ts, under a schema that resolves
 * plain scalars exactly as the `yaml` package's YAML 1.2 core schema does.
 *
 * It returns undefined, and the caller parses with the `yaml` package, for
 * every input where the two could differ. That is a syntax error or a
 * duplicate key, so the fault is reported as before. It is also every
 * construct listed at DIFFERING_SYNTAX and hasDifferingLine, tags, anchors
 * and aliases, and nesting deeper than js-yaml's limit. A property test
 * (fast-yaml.test.ts) compares both parsers on mutated catalog files.
 *
 * Because a file with aliases always goes to the `yaml` package, its limit
 * on expanded aliases (MAX_ALIAS_COUNT) stops alias bombs on both paths.
 * Before that, js-yaml only shares the aliased nodes, so it never expands a
 * bomb here.
 */

/** Prefix of the tags given to implicitly resolved scalars, so explicit tags stand out. */
const IMPLICIT_TAG = 'tag:backstage-luigi,implicit:';

// The scalar rules of the `yaml` package's core schema (yaml 2.x,
// dist/schema/core and schema/common/null.js), tried in the same order.
const NULL_PATTERN = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL_PATTERN = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT_PATTERN = /^0o[0-7]+$/;
const INT_PATTERN = /^[-+]?[0-9]+$/;
const INT_HEX_PATTERN = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN_PATTERN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP_PATTERN = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT_PATTERN = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** Characters a number of the core schema starts with. */
const NUMBER_START = '0123456789+-.';

/**
 * Creates a plain-scalar type of the core schema. `starts` lists the
 * characters a match can start with, so most strings are turned away without
 * running the pattern. The empty string can only be null.
 */
function implicitType(
  name: string,
  pattern: RegExp,
  starts: string,
  construct: (text: string) => unknown,
): Type {
  return new Type(`${IMPLICIT_TAG}${name}`, {
    kind: 'scalar',
    resolve: (text: string) =>
      (text === '' ? name === 'null' : starts.includes(text[0] as string)) && pattern.test(text),
    construct,
  });
}

const CORE_SCALARS = FAILSAFE_SCHEMA.extend({
  implicit: [
    implicitType('null', NULL_PATTERN, '~nN', () => null),
    implicitType('bool', BOOL_PATTERN, 'tTfF', (text) => text[0] === 't' || text[0] === 'T'),
    implicitType('int-oct', INT_OCT_PATTERN, '0', (text) => Number.parseInt(text.slice(2), 8)),
    implicitType('int', INT_PATTERN, NUMBER_START, (text) => Number.parseInt(text, 10)),
    implicitType('int-hex', INT_HEX_PATTERN, '0', (text) => Number.parseInt(text.slice(2), 16)),
    implicitType('float-nan', FLOAT_NAN_PATTERN, NUMBER_START, (text) => {
      if (text.slice(-3).toLowerCase() === 'nan') {
        return Number.NaN;
      }
      return text[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    }),
    implicitType('float-exp', FLOAT_EXP_PATTERN, NUMBER_START, (text) => Number.parseFloat(text)),
    implicitType('float', FLOAT_PATTERN, NUMBER_START, (text) => Number.parseFloat(text)),
  ],
});

/**
 * Text patterns that the `yaml` package reads differently from js-yaml:
 * - a directive (`%YAML 1.1` switches the `yaml` package to YAML 1.1 scalars);
 * - content on the line of a document marker (`--- a: b`, `... a`, `---a`),
 *   where the `yaml` package allows less;
 * - a carriage return without a line feed, which only js-yaml takes for a
 *   line break;
 * - a comment right after a flow collection or a quoted scalar (`[a]#b`),
 *   which only the `yaml` package rejects;
 * - an explicit key (`? `);
 * - a null or empty key (`~: x`, `: x`), which the `yaml` package turns into
 *   '' and js-yaml into 'null';
 * - a flow collection used as a key (`[a, b]: c`), which the two turn into
 *   different strings.
 * A pattern may match inside a string too, which only costs the slower parse.
 * Each pattern runs only when the text contains one of its hints, which are
 * much faster to look for.
 */
const DIFFERING_SYNTAX: ReadonlyArray<{ hints: readonly string[]; pattern: RegExp }> = [
  { hints: ['%'], pattern: /^%/m },
  { hints: ['---', '...'], pattern: /^(?:---|\.\.\.)(?:\S|[ \t]+[^\s#])/m },
  { hints: ['\r'], pattern: /\r(?!\n)/ },
  { hints: [']#', '}#', '"#', "'#"], pattern: /[\]}"']#/ },
  { hints: ['?'], pattern: /(?:^|[\s[{,])\?(?:[ \t]|$)/m },
  {
    hints: [' :', '\t:', '\n:', '{:', '[:', ',:', '~:', 'null:', 'Null:', 'NULL:'],
    pattern: /(?:^|[\s[{,])(?:~|null|Null|NULL)?[ \t]*:(?:[\s,\]}]|$)/m,
  },
  {
    hints: [']:', '}:', '] ', '}\t', ']\t', '} '],
    pattern: /(?:^|[\s[{,:?-])[[{][^\n]*[\]}][ \t]*:(?:[\s,\]}]|$)/m,
  },
];

function hasDifferingSyntax(text: string): boolean {
  // A key at the very start of the text has no hint before it.
  if (text.startsWith(':')) {
    return true;
  }
  return DIFFERING_SYNTAX.some(
    ({ hints, pattern }) => hints.some((hint) => text.includes(hint)) && pattern.test(text),
  );
}

/** The `yaml` package rejects an implicit key longer than this; js-yaml does not. */
const MAX_IMPLICIT_KEY_LENGTH = 1024;

/** Fields of js-yaml's parser state that its type definitions leave out. */
interface ParserState extends State {
  tag: string | null;
  anchor: string | null;
}

/**
 * Parses every document of `text` with js-yaml, or returns undefined when the
 * `yaml` package must parse it (see the module comment). Empty documents are
 * null, as in the `yaml` package, and keep their index.
 */
export function loadDocumentsFast(text: string): unknown[] | undefined {
  // Both parsers drop a byte order mark, which would hide a pattern at the start.
  const content = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (hasDifferingSyntax(content) || hasLongKeyLine(content) || hasDifferingLine(content)) {
    return undefined;
  }

  let differs = false;
  const listener = (event: string, state: ParserState): void => {
    if (event !== 'close') {
      return;
    }
    const tag = state.tag;
    if (state.anchor !== null || (tag !== null && tag !== '?' && !tag.startsWith(IMPLICIT_TAG))) {
      differs = true;
    }
  };

  let documents: unknown[];
  try {
    documents = loadAll(content, null, {
      schema: CORE_SCALARS,
      listener: listener as (this: State, event: 'open' | 'close', state: State) => void,
    });
  } catch {
    return undefined;
  }
  return differs ? undefined : documents;
}

/** Returns whether a line has a colon beyond the `yaml` package's limit on implicit keys, which may end such a key. */
function hasLongKeyLine(text: string): boolean {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) {
      end = text.length;
    }
    if (
      end - start > MAX_IMPLICIT_KEY_LENGTH &&
      text.lastIndexOf(':', end) - start > MAX_IMPLICIT_KEY_LENGTH
    ) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

/** Characters of the constructs that `hasDifferingLine` checks. */
const LINE_CHECK_CHARACTERS = /[[{"'|>]/g;

/**
 * Returns whether a line continues on the next one inside a flow collection
 * or a quoted scalar, or starts a block scalar with an explicit indentation: the
 * `yaml` package checks the indentation of such continuation lines, and
 * js-yaml does not. The content of block scalars (`|`, `>`) is text, so it is
 * not checked. Only lines with one of the characters involved are looked at.
 */
function hasDifferingLine(text: string): boolean {
  const characters = new RegExp(LINE_CHECK_CHARACTERS);
  let position = 0;
  while (position < text.length) {
    characters.lastIndex = position;
    const found = characters.exec(text);
    if (!found) {
      return false;
    }
    const start = text.lastIndexOf('\n', found.index) + 1;
    let end = text.indexOf('\n', found.index);
    if (end === -1) {
      end = text.length;
    }
    const line = text.slice(start, end);
    position = end + 1;

    if (!flowBracketsBalance(line) || endsInsideQuotes(line)) {
      return true;
    }
    const header = BLOCK_SCALAR_HEADER.exec(line);
    if (!header) {
      continue;
    }
    if (/[1-9]/.test(header[1] ?? '')) {
      // An explicit indentation changes where the scalar ends.
      return true;
    }
    position = endOfBlockScalar(text, position, blockParentIndentOf(line));
  }
  return false;
}

/** Finds the start of the first line from `position` that is not part of the block scalar. */
function endOfBlockScalar(text: string, position: number, parentIndent: number): number {
  let start = position;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) {
      end = text.length;
    }
    const line = text.slice(start, end);
    if (line.trim() !== '' && indentOf(line) <= parentIndent) {
      return start;
    }
    start = end + 1;
  }
  return start;
}

/** A block scalar header at the end of a line, after `key:`, `-` or `---`. */
const BLOCK_SCALAR_HEADER = /(?:^|[:-][ \t]|^---[ \t])[ \t]*[|>]([1-9+-]*)[ \t]*(?:#.*)?$/;

function indentOf(line: string): number {
  let index = 0;
  while (line[index] === ' ') {
    index += 1;
  }
  return index;
}

/**
 * Returns the indentation of the node that owns a block scalar started on
 * `line`: the column of its key, or of the last `-` when the scalar is a list
 * item.
 * Lines indented deeper than this belong to the scalar.
 */
function blockParentIndentOf(line: string): number {
  let index = indentOf(line);
  let column = index;
  while (line[index] === '-' && (line[index + 1] === ' ' || line[index + 1] === '\t')) {
    column = index;
    index += 2;
    while (line[index] === ' ' || line[index] === '\t') {
      index += 1;
    }
  }
  const rest = line[index];
  return rest === '|' || rest === '>' ? column : index;
}

function flowBracketsBalance(line: string): boolean {
  let depth = 0;
  for (let index = 0; index < line.length; index++) {
    const code = line.charCodeAt(index);
    if (code === 0x5b || code === 0x7b) {
      depth += 1;
    } else if (code === 0x5d || code === 0x7d) {
      depth -= 1;
    }
  }
  return depth === 0;
}

/** Characters after which a quote starts a quoted scalar. */
const TOKEN_SEPARATORS = ' \t[{,:?-';

/**
 * Returns whether a quoted scalar that starts on the line is still open at
 * its end.
 * A quote opens a scalar only where a token starts; elsewhere, as in
 * `parcel's`, it is part of a plain scalar.
 */
function endsInsideQuotes(line: string): boolean {
  let quote = '';
  for (let index = 0; index < line.length; index++) {
    const char = line[index] as string;
    if (quote === '"') {
      if (char === '\\') {
        index += 1;
      } else if (char === '"') {
        quote = '';
      }
      continue;
    }
    if (quote === "'") {
      if (char === "'" && line[index + 1] === "'") {
        index += 1;
      } else if (char === "'") {
        quote = '';
      }
      continue;
    }

    const previous = index === 0 ? ' ' : (line[index - 1] as string);
    const atTokenStart = TOKEN_SEPARATORS.includes(previous);
    if (char === '#' && atTokenStart) {
      return false;
    }
    if ((char === '"' || char === "'") && atTokenStart) {
      quote = char;
    }
  }
  return quote !== '';
}
