import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ErrorDetail } from '../errors/index.js';
import { countFaults, detailsFromZodIssues, formatFieldPath } from './issues.js';

/** A parsed YAML file that can name the line of any field. */
export interface YamlFile {
  file: string;
  document: Document;
  lineCounter: LineCounter;
}

/** Parses one YAML document, returning the parse faults instead of throwing. */
export function parseYamlFile(
  file: string,
  text: string,
): { yaml: YamlFile; faults: ErrorDetail[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const faults = document.errors.map((error) => ({
    path: `${file}:${lineCounter.linePos(error.pos[0]).line}`,
    message: `is not valid YAML: ${error.message.split('\n')[0]}`,
  }));
  return { yaml: { file, document, lineCounter }, faults };
}

/** Small enough for any real file, and small enough that alias expansion cannot exhaust memory. */
const MAX_ALIAS_COUNT = 100;

/**
 * Converts a parsed file to plain data. A file whose aliases expand too far
 * (a "billion laughs" file) becomes a fault instead of an exception.
 */
export function yamlToJs(yaml: YamlFile): { value: unknown } | { fault: ErrorDetail } {
  try {
    return { value: yaml.document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (error) {
    return {
      fault: {
        path: yaml.file,
        message: `cannot be read: ${(error as Error).message}; use fewer YAML aliases (at most ${MAX_ALIAS_COUNT} expansions)`,
      },
    };
  }
}

/** The line (from 1) where the node at `path` starts, if the file has that node. */
export function lineOfPath(yaml: YamlFile, path: readonly PropertyKey[]): number | undefined {
  const node = path.length === 0 ? yaml.document.contents : yaml.document.getIn(path, true);
  if ((isScalar(node) || isMap(node) || isSeq(node)) && node.range) {
    return yaml.lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

/**
 * Names a field as `file:line: path`, using the last of `files` that sets the
 * field or, failing that, its nearest parent.
 */
export function locateInYamlFiles(
  files: readonly YamlFile[],
  path: readonly PropertyKey[],
): string {
  const field = formatFieldPath(path);
  for (let length = path.length; length >= 0; length--) {
    const prefix = path.slice(0, length);
    for (let index = files.length - 1; index >= 0; index--) {
      const yaml = files[index]!;
      const exists = length === 0 ? yaml.document.contents !== null : yaml.document.hasIn(prefix);
      if (!exists) {
        continue;
      }
      const line = lineOfPath(yaml, prefix);
      return `${yaml.file}${line ? `:${line}` : ''}: ${field}`;
    }
  }
  return field;
}

/**
 * Parses a YAML file and validates it against a schema. Throws a ConfigError
 * that lists every fault with its file, line and field.
 */
export function readYamlWithSchema<T>(
  file: string,
  text: string,
  schema: z.ZodType<T>,
  what: string,
): { data: T; yaml: YamlFile } {
  const { yaml, faults } = parseYamlFile(file, text);
  if (faults.length > 0) {
    throw new ConfigError(`${what} ${file} is invalid (${countFaults(faults.length)})`, faults);
  }

  const converted = yamlToJs(yaml);
  if ('fault' in converted) {
    throw new ConfigError(`${what} ${file} is invalid (1 fault)`, [converted.fault]);
  }
  const input: unknown = converted.value ?? {};
  const result = schema.safeParse(input);
  if (!result.success) {
    const details = detailsFromZodIssues(result.error.issues, input, (path) =>
      locateInYamlFiles([yaml], path),
    );
    throw new ConfigError(`${what} ${file} is invalid (${countFaults(details.length)})`, details);
  }
  return { data: result.data, yaml };
}
