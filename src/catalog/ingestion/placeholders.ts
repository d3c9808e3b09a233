import { realpathSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { formatField } from './issues.js';
import { readTextFileSync, type SizeLimit } from './text-file.js';
import { convertDocument } from './yaml-documents.js';
import { describeYamlError } from './yaml-faults.js';

/** A placeholder that could not be resolved, at the path of its `$text`/`$json`/`$yaml` mapping. */
export interface PlaceholderFault {
  path: Array<string | number>;
  message: string;
}

type Resolver = (text: string, source: string) => unknown;

// Faults quote no content of the file read, only positions in it.
const RESOLVERS: Readonly<Record<string, Resolver>> = {
  text: (text) => text,
  json: (text, source) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new Error(`${source} is not valid JSON${jsonErrorPosition(text, error)}`);
    }
  },
  yaml: (text, source) => {
    const lineCounter = new LineCounter();
    const documents = parseAllDocuments(text, { lineCounter }).filter(
      (document) => document.contents !== null,
    );
    if (documents.length !== 1) {
      throw new Error(`${source} must hold exactly one YAML document, found ${documents.length}`);
    }
    const [document] = documents as [(typeof documents)[number]];
    const [error] = document.errors;
    if (error) {
      const position = lineCounter.linePos(error.pos[0]);
      throw new Error(
        `${source} is not valid YAML (line ${position.line}, column ${position.col}): ${describeYamlError(error.code)}`,
      );
    }
    const converted = convertDocument(document);
    if (!converted.ok) {
      throw new Error(`${source} could not be read as YAML: ${converted.message}`);
    }
    return converted.value;
  },
};

/**
 * Returns the line and column of a JSON syntax error for a message, from the
 * offset that V8 puts in some of its messages, or nothing when it gives none.
 */
function jsonErrorPosition(text: string, error: unknown): string {
  const match = /at position (\d+)/.exec((error as Error).message);
  if (!match) {
    return '';
  }
  const offset = Number(match[1]);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}

/**
 * Replaces `$text`, `$json` and `$yaml` placeholders (a mapping with exactly
 * that one key, anywhere in the entity) with the content of the file they
 * name, as Backstage's PlaceholderProcessor does. Paths are relative to the
 * folder of the entity's file and must stay inside it, symbolic links
 * included; URLs are rejected because this catalog reads no URLs. Other
 * `$`-keys, such as JSON Schema's `$ref`, are left as they are.
 */
export function resolvePlaceholders(
  entity: Record<string, unknown>,
  entityFile: string,
  limit: SizeLimit,
): { entity: Record<string, unknown>; faults: PlaceholderFault[]; files: string[] } {
  const faults: PlaceholderFault[] = [];
  const files: string[] = [];
  if (!needsCopy(entity)) {
    return { entity, faults, files };
  }
  const folder = path.dirname(entityFile);

  const visit = (value: unknown, at: Array<string | number>): unknown => {
    if (value === null || typeof value !== 'object') {
      return value;
    }
    if (Array.isArray(value)) {
      return value.map((item, index) => visit(item, [...at, index]));
    }

    const keys = Object.keys(value);
    const key = keys.length === 1 ? (keys[0] as string) : undefined;
    const resolver = key?.startsWith('$') ? RESOLVERS[key.slice(1)] : undefined;
    if (key === undefined || resolver === undefined) {
      const result: Record<string, unknown> = {};
      for (const [name, item] of Object.entries(value)) {
        result[name] = visit(item, [...at, name]);
      }
      return result;
    }

    const target = (value as Record<string, unknown>)[key];
    try {
      const file = placeholderFile(key, target, folder);
      files.push(file);
      const source = `${key} file '${String(target)}'`;
      const read = readTextFileSync(file, limit);
      if (!read.ok) {
        throw new Error(`${source} ${read.fault.reason}`);
      }
      return resolver(read.text, source);
    } catch (error) {
      faults.push({
        path: at,
        message: `${formatField(at)}: ${(error as Error).message}`,
      });
      return value;
    }
  };

  const resolved = visit(entity, []) as Record<string, unknown>;
  return { entity: resolved, faults, files };
}

/**
 * Whether the entity has a placeholder to resolve, or a `__proto__` key, which
 * the copy that resolving makes drops. Without either, that copy would be
 * equal to the entity, so the entity is used as it is.
 */
function needsCopy(value: unknown): boolean {
  if (value === null || typeof value !== 'object') {
    return false;
  }
  if (Array.isArray(value)) {
    return value.some(needsCopy);
  }
  const keys = Object.keys(value);
  const only = keys.length === 1 ? (keys[0] as string) : undefined;
  if (only?.startsWith('$') && RESOLVERS[only.slice(1)] !== undefined) {
    return true;
  }
  const record = value as Record<string, unknown>;
  return keys.some((key) => key === '__proto__' || needsCopy(record[key]));
}

/** Resolves the file a placeholder names, or throws with the reason it may not be read. */
function placeholderFile(key: string, target: unknown, folder: string): string {
  if (typeof target !== 'string' || target.trim() === '') {
    throw new Error(
      `${key} needs a file path relative to the entity's file, such as '${key}: ./openapi.yaml'`,
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    throw new Error(
      `${key} '${target}' is a URL, and reading URLs is not supported: save the content in a file beside the entity's file and refer to it with a relative path`,
    );
  }

  const resolved = path.resolve(folder, target);
  if (!isInside(resolved, folder)) {
    throw new Error(
      `${key} path '${target}' resolves to ${resolved}, outside the folder ${folder} of the entity's file: move the file into that folder`,
    );
  }

  let real: string;
  try {
    real = realpathSync(resolved);
  } catch {
    throw new Error(`${key} file '${target}' does not exist (looked for ${resolved})`);
  }
  const realFolder = realpathSync(folder);
  if (!isInside(real, realFolder)) {
    throw new Error(
      `${key} path '${target}' is a symbolic link to ${real}, outside the folder ${folder} of the entity's file: copy the file into that folder`,
    );
  }
  return real;
}

function isInside(file: string, folder: string): boolean {
  const relative = path.relative(folder, file);
  return (
    relative !== '' &&
    relative !== '..' &&
    !relative.startsWith(`..${path.sep}`) &&
    !path.isAbsolute(relative)
  );
}
