import type { FastifyRequest } from 'fastify';
import { InputError } from '../../errors/index.js';

/**
 * Query parameters whose values may hold tabs and line breaks: filter values
 * and full-text terms are compared with entity values, which may contain
 * them, and a location target is a file path. Every other parameter names a
 * key, a kind, an entity, a uid or an id, which never contain control
 * characters.
 */
const TEXT_PARAMETERS = new Set(['filter', 'fullTextFilterTerm', 'location']);

/** Tab, line feed and carriage return. */
const WHITESPACE_CONTROLS = new Set([0x09, 0x0a, 0x0d]);

/**
 * Returns the index of the first character that the value may not contain, or
 * -1. NUL is never allowed, because PostgreSQL text cannot hold it; the other
 * C0 control characters and DEL are allowed only in free text, and there only
 * tab, line feed and carriage return.
 */
export function findControlCharacter(value: string, freeText: boolean): number {
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code === 0) {
      return index;
    }
    if ((code < 0x20 || code === 0x7f) && !(freeText && WHITESPACE_CONTROLS.has(code))) {
      return index;
    }
  }
  return -1;
}

/** Builds the 400 for a value with a character it may not contain. */
export function controlCharacterError(path: string, value: string, index: number): InputError {
  const code = value.charCodeAt(index).toString(16).toUpperCase().padStart(4, '0');
  const what = code === '0000' ? 'a NUL character (U+0000)' : `the control character U+${code}`;
  const message = `${path} contains ${what} at position ${index}: remove it`;
  return new InputError(message, { details: [{ path, message }] });
}

function checkText(path: string, value: string, freeText: boolean): void {
  const index = findControlCharacter(value, freeText);
  if (index !== -1) {
    throw controlCharacterError(path, value, index);
  }
}

function checkJson(path: string, value: unknown): void {
  if (typeof value === 'string') {
    checkText(path, value, false);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      checkJson(`${path}[${index}]`, item);
    });
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      checkText(`${path} key`, key, false);
      checkJson(`${path}.${key}`, item);
    }
  }
}

/**
 * Rejects a request whose query, path or JSON body contains a character that the
 * parameter can never contain (see findControlCharacter), with a 400 that
 * names the parameter. Runs as the routes' preValidation hook, after sign-in
 * and the permission check.
 */
export async function rejectControlCharacters(request: FastifyRequest): Promise<void> {
  const query = (request.query ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(query)) {
    checkText('query parameter name', name, false);
    for (const item of [value].flat()) {
      if (typeof item === 'string') {
        checkText(`query parameter ${name}`, item, TEXT_PARAMETERS.has(name));
      }
    }
  }

  const params = (request.params ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'string') {
      checkText(`path parameter ${name}`, value, false);
    }
  }

  if (request.body !== undefined) {
    checkJson('body', request.body);
  }
}
