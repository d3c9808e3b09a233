import {
  type Document,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Scalar,
} from 'yaml';
import { loadDocumentsFast } from './fast-yaml.js';
import { describeConversionFailure, describeYamlError, MAX_ALIAS_COUNT } from './yaml-faults.js';

/** One non-empty YAML document of a catalog file. */
export interface YamlDocument {
  /** Index among all documents of the file, empty ones included, from 0. */
  readonly index: number;
  /** Line where the document's content starts, from 1. */
  readonly line: number;
  /** The document as plain JSON-like data. */
  readonly value: unknown;
  /** Line of the node at `path`, or of its nearest ancestor that exists. */
  lineOf(path: readonly PropertyKey[]): number;
}

/**
 * The documents of a file, or its first fault. The message describes the
 * fault without quoting the file, so reading a file that is not YAML never
 * shows its content in a fault.
 */
export type ParsedYaml =
  | { ok: true; documents: YamlDocument[] }
  | { ok: false; line: number; column: number; message: string };

/**
 * Parses every document of a file as the `yaml` package does, which is what
 * Backstage's catalog uses. Each document keeps its index among all of them.
 * An empty one, such as after a trailing `---`, is left out or has a null
 * value. Any syntax error fails the whole file, because the documents after a
 * broken one cannot be trusted.
 *
 * Plain files are parsed with js-yaml, which gives the same values faster
 * (see fast-yaml.ts), and the `yaml` package parses them again only when a
 * line is asked for, which happens when an entity has a fault. Every other
 * file is parsed with the `yaml` package straight away.
 */
export function parseYamlDocuments(text: string): ParsedYaml {
  const values = loadDocumentsFast(text);
  if (values === undefined) {
    return parseWithYamlPackage(text);
  }

  let located: Map<number, YamlDocument> | undefined;
  const locate = (index: number): YamlDocument | undefined => {
    if (!located) {
      const parsed = parseWithYamlPackage(text);
      located = new Map(
        parsed.ok ? parsed.documents.map((document) => [document.index, document]) : [],
      );
    }
    return located.get(index);
  };

  const documents: YamlDocument[] = [];
  values.forEach((value, index) => {
    if (value === null) {
      return;
    }
    documents.push({
      index,
      value,
      // NOTE: both parsers accept the text here, so the `yaml` package finds
      // the same document. Line 1 is a fallback should they ever disagree.
      get line() {
        return locate(index)?.line ?? 1;
      },
      lineOf: (path) => locate(index)?.lineOf(path) ?? 1,
    });
  });
  return { ok: true, documents };
}

/** Parses with the `yaml` package, which also records where each node is. */
export function parseWithYamlPackage(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  let all: Document.Parsed[];
  try {
    const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false });
    all = Array.isArray(parsed) ? parsed : [];
  } catch (error) {
    return { ok: false, line: 1, column: 1, message: describeConversionFailure(error) };
  }

  for (const document of all) {
    const [error] = document.errors;
    if (error) {
      const position = lineCounter.linePos(error.pos[0]);
      return {
        ok: false,
        line: position.line,
        column: position.col,
        message: describeYamlError(error.code),
      };
    }
  }

  const documents: YamlDocument[] = [];
  for (const [index, document] of all.entries()) {
    const contents = document.contents;
    if (contents === null || contents.range === undefined) {
      continue;
    }
    const position = lineCounter.linePos(contents.range[0]);
    const converted = convertDocument(document);
    if (!converted.ok) {
      return {
        ok: false,
        line: position.line,
        column: position.col,
        message: converted.message,
      };
    }
    documents.push({
      index,
      line: position.line,
      value: converted.value,
      lineOf: (path) => lineOfPath(document, lineCounter, path) ?? position.line,
    });
  }
  return { ok: true, documents };
}

/**
 * Turns a parsed document into plain values, or describes why it cannot: an
 * alias bomb fails on the first alias over MAX_ALIAS_COUNT, before its
 * expansion grows.
 */
export function convertDocument(
  document: Document.Parsed,
): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (error) {
    return { ok: false, message: describeConversionFailure(error) };
  }
}

/**
 * Line of the deepest node on `path`: for a mapping entry the line of its key,
 * for a list item the line of the item, so a missing field points at its parent.
 */
function lineOfPath(
  document: Document.Parsed,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
): number | undefined {
  let node: unknown = document.contents;
  let line: number | undefined;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(step),
      );
      if (!pair) {
        break;
      }
      const key = pair.key as Scalar;
      line = key.range ? lineCounter.linePos(key.range[0]).line : line;
      node = pair.value;
    } else if (isSeq(node) && typeof step === 'number') {
      const item = node.items[step];
      if (!isNode(item)) {
        break;
      }
      line = item.range ? lineCounter.linePos(item.range[0]).line : line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

/** Names the YAML type of a document's content for messages: mapping, list or scalar. */
export function describeYamlValue(value: unknown): string {
  if (Array.isArray(value)) {
    return 'a list';
  }
  if (value === null) {
    return 'null';
  }
  if (typeof value === 'object') {
    return 'a mapping';
  }
  // The value itself is not quoted: a file that is not YAML, such as a
  // password file, parses as one long string.
  return `a ${typeof value}`;
}
