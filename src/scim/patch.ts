import {
  InvalidScimPatchOp,
  InvalidScimPatchRequest,
  InvalidScimRemoveValue,
  NoTarget,
  ScimError as ScimPatchError,
  type ScimPatchOperation,
  type ScimResource,
  scimPatch,
} from 'scim-patch';
import { ScimError } from './errors.js';
import { canonicalizeKeys } from './resources.js';
import { SCIM_SCHEMAS } from './schemas.js';

/** One PATCH operation with its op in lowercase, as Entra ID sends `Add`, `Replace` and `Remove`. */
export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path: string | undefined;
  value: unknown;
  /** Position in the request's `Operations`, for messages. */
  index: number;
}

/** Maximum number of operations in one PATCH request. */
const MAX_OPERATIONS = 1000;

function invalidSyntax(message: string): ScimError {
  return new ScimError(400, message, { scimType: 'invalidSyntax' });
}

function describe(operation: PatchOperation): string {
  return `Operations[${operation.index}] (${operation.op}${operation.path ? ` ${operation.path}` : ''})`;
}

/**
 * Parses a PatchOp body (RFC 7644, section 3.5.2): `Operations` with `op`
 * of add, remove or replace in any case, an optional `path` and a `value`.
 * Throws a ScimError 400 (`invalidSyntax`) that names the faulty operation.
 */
export function parsePatchBody(body: unknown): PatchOperation[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidSyntax('The request body must be a JSON object: a SCIM PatchOp message');
  }
  const message = body as Record<string, unknown>;
  const schemas = message.schemas;
  if (
    schemas !== undefined &&
    (!Array.isArray(schemas) || !schemas.includes(SCIM_SCHEMAS.patchOp))
  ) {
    throw invalidSyntax(`schemas must contain ${SCIM_SCHEMAS.patchOp}`);
  }
  const key = Object.keys(message).find((name) => name.toLowerCase() === 'operations');
  const operations = key === undefined ? undefined : message[key];
  if (!Array.isArray(operations) || operations.length === 0) {
    throw invalidSyntax(
      'Operations is missing or empty: send a list of add, remove or replace operations',
    );
  }
  if (operations.length > MAX_OPERATIONS) {
    throw invalidSyntax(
      `Operations has ${operations.length} operations, more than the ${MAX_OPERATIONS} accepted`,
    );
  }

  return operations.map((item: unknown, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw invalidSyntax(`Operations[${index}] must be an object with op, path and value`);
    }
    const fields = Object.fromEntries(
      Object.entries(item).map(([name, value]) => [name.toLowerCase(), value]),
    );
    const op = typeof fields.op === 'string' ? fields.op.trim().toLowerCase() : undefined;
    if (op !== 'add' && op !== 'remove' && op !== 'replace') {
      throw invalidSyntax(
        `Operations[${index}].op ${JSON.stringify(fields.op)} is invalid: use add, remove or replace`,
      );
    }
    if (fields.path !== undefined && typeof fields.path !== 'string') {
      throw new ScimError(400, `Operations[${index}].path must be a string`, {
        scimType: 'invalidPath',
      });
    }
    const path =
      typeof fields.path === 'string' && fields.path.trim() !== '' ? fields.path.trim() : undefined;
    if (op === 'remove' && path === undefined) {
      throw new ScimError(
        400,
        `Operations[${index}] (remove) has no path: name the attribute to remove`,
        {
          scimType: 'noTarget',
        },
      );
    }
    if (op !== 'remove' && fields.value === undefined) {
      throw new ScimError(400, `Operations[${index}] (${op}) has no value`, {
        scimType: 'invalidValue',
      });
    }
    if (op !== 'remove' && path === undefined && !isObject(fields.value)) {
      throw new ScimError(
        400,
        `Operations[${index}] (${op}) has no path, so its value must be an object of attributes`,
        { scimType: 'invalidValue' },
      );
    }
    return { op, path, value: fields.value, index };
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Returns the first attribute of a path, without a schema URN, in lowercase: `name` for `name.givenName`. */
export function rootAttribute(path: string): string {
  let rest = path;
  for (const urn of [SCIM_SCHEMAS.user, SCIM_SCHEMAS.group]) {
    if (rest.toLowerCase().startsWith(`${urn.toLowerCase()}:`)) {
      rest = rest.slice(urn.length + 1);
    }
  }
  if (rest.toLowerCase().startsWith(`${SCIM_SCHEMAS.enterpriseUser.toLowerCase()}`)) {
    return SCIM_SCHEMAS.enterpriseUser.toLowerCase();
  }
  return (/^[^.[]*/.exec(rest)?.[0] ?? rest).toLowerCase();
}

/** Writes the attribute names of a path, outside any `[filter]`, as the schemas spell them. */
function canonicalPath(path: string): string {
  let rest = path;
  for (const urn of [SCIM_SCHEMAS.user, SCIM_SCHEMAS.group]) {
    if (rest.toLowerCase().startsWith(`${urn.toLowerCase()}:`)) {
      rest = rest.slice(urn.length + 1);
    }
  }
  if (rest.includes(':')) {
    // An extension path such as urn:…:enterprise:2.0:User:manager keeps its spelling.
    return rest;
  }
  return rest.replace(/(^|[.\]])([A-Za-z$][\w$]*)/g, (_match, before: string, name: string) => {
    const canonical = canonicalizeKeys({ [name]: null }, 1) as Record<string, unknown>;
    return `${before}${Object.keys(canonical)[0] ?? name}`;
  });
}

/** Writes the keys of a path-less value as the schemas spell them, dotted keys included. */
function canonicalValueKeys(value: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const name = key.includes(':') ? key : canonicalPath(key);
    result[name] = canonicalizeKeys(item, 1);
  }
  return result;
}

/**
 * Applies attribute operations to a resource with the `scim-patch` library,
 * one operation after another, and returns the patched copy. A remove of an
 * attribute that is not set changes nothing. Throws a ScimError 400 with
 * `noTarget`, `invalidPath` or `invalidValue` that names the operation.
 */
export function applyAttributeOperations(
  resource: Record<string, unknown>,
  operations: readonly PatchOperation[],
): Record<string, unknown> {
  let current = {
    ...resource,
    schemas: resource.schemas ?? [],
    meta: { created: new Date(0), lastModified: new Date(0) },
  } as unknown as ScimResource;

  for (const operation of operations) {
    const patch = {
      op: operation.op,
      ...(operation.path === undefined ? {} : { path: canonicalPath(operation.path) }),
      ...(operation.value === undefined
        ? {}
        : {
            value:
              isObject(operation.value) && operation.path === undefined
                ? canonicalValueKeys(operation.value)
                : canonicalizeKeys(operation.value, 1),
          }),
    } as ScimPatchOperation;
    try {
      current = scimPatch(current, [patch], { mutateDocument: false, treatMissingAsAdd: true });
    } catch (error) {
      // scim-patch 0.8 does not export InvalidRemoveOpPath, the error of a
      // remove below an attribute that is not set, so it is known by name.
      if (error instanceof ScimPatchError && error.constructor.name === 'InvalidRemoveOpPath') {
        continue;
      }
      throw translatePatchError(operation, error);
    }
  }

  const { meta: _meta, ...patched } = current as unknown as Record<string, unknown>;
  return patched;
}

function translatePatchError(operation: PatchOperation, error: unknown): unknown {
  if (!(error instanceof ScimPatchError)) {
    return error;
  }
  const message = `${describe(operation)} cannot be applied: ${error.message}`;
  if (error instanceof NoTarget) {
    return new ScimError(400, message, { scimType: 'noTarget', cause: error });
  }
  if (error instanceof InvalidScimRemoveValue) {
    return new ScimError(400, message, { scimType: 'invalidValue', cause: error });
  }
  if (error instanceof InvalidScimPatchRequest) {
    return new ScimError(400, message, { scimType: 'invalidSyntax', cause: error });
  }
  if (error instanceof InvalidScimPatchOp) {
    return new ScimError(400, message, { scimType: 'invalidPath', cause: error });
  }
  return new ScimError(400, message, { scimType: 'invalidValue', cause: error });
}

/** A change of a group's members that a PATCH operation requests. */
export type MemberChange =
  | { kind: 'add'; ids: string[] }
  | { kind: 'remove'; ids: string[] }
  | { kind: 'replace'; ids: string[] }
  | { kind: 'removeAll' };

/** A filter on members by id: `value eq "…"`, several joined with `or`. */
const MEMBER_FILTER = /^members\[(.*)\]$/is;
const MEMBER_CONDITION = /^\s*value\s+eq\s+("(?:[^"\\]|\\.)*")\s*$/i;

function memberIds(operation: PatchOperation, value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, position) => {
    const id = isObject(item)
      ? Object.entries(item).find(([name]) => name.toLowerCase() === 'value')?.[1]
      : undefined;
    if (typeof id !== 'string' || id.trim() === '') {
      throw new ScimError(
        400,
        `${describe(operation)}: members[${position}] has no value; send the member as { "value": "<id>" }`,
        { scimType: 'invalidValue' },
      );
    }
    return id.trim();
  });
}

/** Reads the ids of a `members[value eq "…"]` path, or undefined for another path. */
function filteredMemberIds(operation: PatchOperation, path: string): string[] | undefined {
  const match = MEMBER_FILTER.exec(path);
  if (!match) {
    return undefined;
  }
  return (match[1] ?? '').split(/\s+or\s+/i).map((condition) => {
    const quoted = MEMBER_CONDITION.exec(condition)?.[1];
    if (!quoted) {
      throw new ScimError(
        400,
        `${describe(operation)}: the member filter must be value eq "<id>", optionally joined with or`,
        { scimType: 'invalidFilter' },
      );
    }
    return JSON.parse(quoted) as string;
  });
}

/**
 * Splits a Group PATCH into its member changes, which this server applies
 * row by row, and the other operations, which go to
 * applyAttributeOperations. Accepts what Okta and Entra ID send: add with
 * a list of `{ value }`, remove by `members[value eq "…"]` or with a value
 * list, replace of the whole list, and a path-less add or replace whose
 * value has `members`.
 */
export function splitGroupOperations(operations: readonly PatchOperation[]): {
  attributeOperations: PatchOperation[];
  memberChanges: MemberChange[];
} {
  const attributeOperations: PatchOperation[] = [];
  const memberChanges: MemberChange[] = [];

  for (const operation of operations) {
    if (operation.path === undefined) {
      const value = operation.value as Record<string, unknown>;
      const membersKey = Object.keys(value).find((name) => name.toLowerCase() === 'members');
      if (membersKey === undefined) {
        attributeOperations.push(operation);
        continue;
      }
      const ids = memberIds(operation, value[membersKey] ?? []);
      memberChanges.push({ kind: operation.op === 'add' ? 'add' : 'replace', ids });
      const { [membersKey]: _members, ...rest } = value;
      if (Object.keys(rest).length > 0) {
        attributeOperations.push({ ...operation, value: rest });
      }
      continue;
    }

    if (rootAttribute(operation.path) !== 'members') {
      attributeOperations.push(operation);
      continue;
    }
    const path = canonicalPath(operation.path);
    if (path === 'members') {
      if (operation.op === 'remove') {
        memberChanges.push(
          operation.value === undefined
            ? { kind: 'removeAll' }
            : { kind: 'remove', ids: memberIds(operation, operation.value) },
        );
      } else {
        memberChanges.push({ kind: operation.op, ids: memberIds(operation, operation.value) });
      }
      continue;
    }
    const filtered = filteredMemberIds(operation, path);
    if (filtered && operation.op === 'remove') {
      memberChanges.push({ kind: 'remove', ids: filtered });
      continue;
    }
    throw new ScimError(
      400,
      `${describe(operation)}: this server changes members only by add or replace on members, or by remove on members or members[value eq "<id>"]`,
      { scimType: 'invalidPath' },
    );
  }
  return { attributeOperations, memberChanges };
}

/** Applies member changes in order to a list of member ids and returns the new list. */
export function applyMemberChanges(
  current: readonly string[],
  changes: readonly MemberChange[],
): string[] {
  let members = [...current];
  for (const change of changes) {
    switch (change.kind) {
      case 'add': {
        const present = new Set(members);
        for (const id of change.ids) {
          if (!present.has(id)) {
            present.add(id);
            members.push(id);
          }
        }
        break;
      }
      case 'remove': {
        const removed = new Set(change.ids);
        members = members.filter((id) => !removed.has(id));
        break;
      }
      case 'replace':
        members = [...new Set(change.ids)];
        break;
      case 'removeAll':
        members = [];
        break;
    }
  }
  return members;
}
