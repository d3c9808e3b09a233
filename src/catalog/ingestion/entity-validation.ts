import {
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  DEFAULT_NAMESPACE,
  DefaultNamespaceEntityPolicy,
  domainEntityV1alpha1Validator,
  type Entity,
  FieldFormatEntityPolicy,
  groupEntityV1alpha1Validator,
  type KindValidator,
  locationEntityV1alpha1Validator,
  NoForeignRootFieldsEntityPolicy,
  resourceEntityV1alpha1Validator,
  SchemaValidEntityPolicy,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';
import { ISSUE_CODES, type IssueCode, quoteValue } from './issues.js';
import { type FieldFault, fieldFormatFault, schemaFault, valueAt } from './validation-messages.js';

/** The kinds that `@backstage/catalog-model` validates, by their exact spelling. */
const KIND_VALIDATORS: Readonly<Record<string, KindValidator>> = {
  API: apiEntityV1alpha1Validator,
  Component: componentEntityV1alpha1Validator,
  Domain: domainEntityV1alpha1Validator,
  Group: groupEntityV1alpha1Validator,
  Location: locationEntityV1alpha1Validator,
  Resource: resourceEntityV1alpha1Validator,
  System: systemEntityV1alpha1Validator,
  User: userEntityV1alpha1Validator,
};

/** The only Template version this catalog stores; the scaffolder of Backstage 1.x reads no other. */
export const TEMPLATE_API_VERSION = 'scaffolder.backstage.io/v1beta3';

/** Spec fields whose schema type is a list, so a placeholder for them must be one. */
const LIST_FIELDS = new Set(['memberOf', 'children', 'members', 'targets']);

/** Upper bound on faults collected from one entity; each round removes one fault. */
const MAX_FAULTS = 25;

export interface EntityFault extends FieldFault {
  code: IssueCode;
}

const defaultNamespacePolicy = new DefaultNamespaceEntityPolicy();
const noForeignRootFieldsPolicy = new NoForeignRootFieldsEntityPolicy();
const fieldFormatPolicy = new FieldFormatEntityPolicy();
const schemaValidPolicy = new SchemaValidEntityPolicy();

/**
 * Validates one entity with the policies Backstage's catalog applies
 * (default namespace, no foreign root fields, field formats, envelope schema)
 * and, for the built-in kinds, the kind's validator. Kinds the library does
 * not know are accepted when the envelope is valid.
 *
 * The library stops at the first fault. To report every fault at once, each
 * fault found is set aside in a scratch copy, by removing the field or giving
 * it a valid stand-in, and the checks run again. The returned entity is the input
 * with its namespace defaulted, and only when there is no fault.
 */
export async function validateEntity(
  input: Record<string, unknown>,
): Promise<{ entity?: Entity; faults: EntityFault[] }> {
  const faults: EntityFault[] = [];
  const metadata = input.metadata;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    faults.push({
      code: ISSUE_CODES.entityInvalid,
      path: ['metadata'],
      message:
        metadata === undefined
          ? "metadata is missing: add a metadata mapping with at least 'name'"
          : `metadata ${quoteValue(metadata)} is invalid: it must be a mapping with at least 'name'`,
    });
    return { faults };
  }

  // The policy merges into a new object with metadata first; keep the
  // author's key order and take only the namespace from it. Without a
  // namespace that merge, a deep copy of the entity, yields the default.
  const namespace =
    (metadata as { namespace?: unknown }).namespace === undefined
      ? DEFAULT_NAMESPACE
      : (await defaultNamespacePolicy.enforce(input as unknown as Entity)).metadata.namespace;
  const entity = {
    ...input,
    metadata: { ...metadata, namespace },
  } as unknown as Entity;
  if (await passesEveryCheck(entity)) {
    return { entity, faults };
  }

  const scratch = structuredClone(entity) as unknown as Record<string, unknown>;
  await collectEnvelopeFaults(scratch, faults);
  if (!faults.some((fault) => blocksKindValidation(fault.path))) {
    await collectKindFaults(scratch, faults);
  }

  return faults.length === 0 ? { entity, faults } : { faults };
}

/**
 * Runs the same checks once on the entity itself, which they only read, so a
 * valid entity, the usual case, needs no scratch copy.
 */
async function passesEveryCheck(entity: Entity): Promise<boolean> {
  try {
    await noForeignRootFieldsPolicy.enforce(entity);
    await fieldFormatPolicy.enforce(entity);
    await schemaValidPolicy.enforce(entity);
  } catch {
    return false;
  }

  const { kind, apiVersion } = entity;
  if (kind === 'Template') {
    return apiVersion === TEMPLATE_API_VERSION;
  }
  const validator = KIND_VALIDATORS[kind];
  if (!validator) {
    return !Object.keys(KIND_VALIDATORS).some((name) => name.toLowerCase() === kind.toLowerCase());
  }
  try {
    return await validator.check(entity);
  } catch {
    return false;
  }
}

/** Faults after which the kind's schema has nothing sound to check. */
function blocksKindValidation(path: ReadonlyArray<string | number>): boolean {
  return path.length === 1 && ['apiVersion', 'kind', 'metadata', 'spec'].includes(String(path[0]));
}

async function collectEnvelopeFaults(scratch: Record<string, unknown>, faults: EntityFault[]) {
  const seen = new Set<string>();
  while (faults.length < MAX_FAULTS) {
    let fault: FieldFault | undefined;
    try {
      await noForeignRootFieldsPolicy.enforce(scratch as unknown as Entity);
      await fieldFormatPolicy.enforce(scratch as unknown as Entity);
      await schemaValidPolicy.enforce(scratch as unknown as Entity);
      return;
    } catch (error) {
      fault = envelopeFault(errorMessage(error), scratch);
    }

    const key = JSON.stringify(fault.path);
    if (seen.has(key)) {
      return;
    }
    seen.add(key);
    faults.push({ ...fault, code: ISSUE_CODES.entityInvalid });
    if (!setAside(scratch, fault.path)) {
      return;
    }
  }
}

function envelopeFault(message: string, scratch: Record<string, unknown>): FieldFault {
  const foreign = /^Unknown field (.+)$/.exec(message)?.[1];
  if (foreign !== undefined) {
    return {
      path: [foreign],
      message: `${foreign} is not allowed at the top level of an entity, where only apiVersion, kind, metadata and spec may stand: move it under spec or remove it`,
    };
  }
  if (message.startsWith('Malformed envelope')) {
    return schemaFault(message, scratch, undefined);
  }
  return (
    fieldFormatFault(message, scratch) ?? { path: [], message: `the entity is invalid: ${message}` }
  );
}

async function collectKindFaults(scratch: Record<string, unknown>, faults: EntityFault[]) {
  const kind = scratch.kind;
  const apiVersion = scratch.apiVersion;
  if (typeof kind !== 'string') {
    return;
  }

  if (kind === 'Template') {
    if (apiVersion !== TEMPLATE_API_VERSION) {
      faults.push({
        code: ISSUE_CODES.kindUnsupported,
        path: ['apiVersion'],
        message: `Template apiVersion ${quoteValue(apiVersion)} is no longer supported: migrate the template to '${TEMPLATE_API_VERSION}' (parameters and steps use \${{ }} expressions instead of {{ }})`,
      });
    }
    return;
  }

  const validator = KIND_VALIDATORS[kind];
  if (!validator) {
    const builtin = Object.keys(KIND_VALIDATORS).find(
      (name) => name.toLowerCase() === kind.toLowerCase(),
    );
    if (builtin) {
      faults.push({
        code: ISSUE_CODES.entityInvalid,
        path: ['kind'],
        message: `kind '${kind}' is not spelled as the built-in kind: write '${builtin}'`,
      });
    }
    return;
  }

  const seen = new Set<string>();
  while (faults.length < MAX_FAULTS) {
    let fault: FieldFault & { missingProperty?: string };
    try {
      if (await validator.check(scratch as unknown as Entity)) {
        return;
      }
      faults.push({
        code: ISSUE_CODES.entityInvalid,
        path: ['apiVersion'],
        message: `apiVersion ${quoteValue(apiVersion)} is not supported for kind ${kind}: use 'backstage.io/v1alpha1'`,
      });
      return;
    } catch (error) {
      fault = schemaFault(errorMessage(error), scratch, kind);
    }

    const key = JSON.stringify(fault.path);
    if (seen.has(key)) {
      return;
    }
    seen.add(key);
    faults.push({ code: ISSUE_CODES.entityInvalid, path: fault.path, message: fault.message });

    const standIn = fault.missingProperty
      ? fillMissing(scratch, fault.path, fault.missingProperty)
      : setAside(scratch, fault.path);
    if (!standIn) {
      return;
    }
  }
}

/**
 * Removes the value at `path` from the scratch copy, or replaces it with a
 * valid stand-in where the policies require a value. Returns false when the
 * fault concerns the whole entity, so the checks cannot go on.
 */
function setAside(scratch: Record<string, unknown>, path: ReadonlyArray<string | number>): boolean {
  if (path.length === 0) {
    return false;
  }
  const parent = valueAt(scratch, path.slice(0, -1));
  const last = path[path.length - 1] as string | number;
  if (parent === null || typeof parent !== 'object') {
    return false;
  }

  const standIn = standInFor(path);
  if (standIn !== undefined) {
    (parent as Record<string | number, unknown>)[last] = standIn;
    return true;
  }
  if (path.length === 1 && ['apiVersion', 'kind', 'metadata', 'spec'].includes(String(last))) {
    return false;
  }
  if (Array.isArray(parent) && typeof last === 'number') {
    // Keep the indexes of later items, so their faults name the right position.
    parent[last] = standInForItem(path);
    return true;
  }
  delete (parent as Record<string, unknown>)[String(last)];
  return true;
}

function standInFor(path: ReadonlyArray<string | number>): unknown {
  const field = path.join('.');
  switch (field) {
    case 'apiVersion':
      return 'backstage.io/v1alpha1';
    case 'kind':
      return 'StandIn';
    case 'metadata.name':
      return 'stand-in';
    case 'metadata.namespace':
      return 'default';
    default:
      return undefined;
  }
}

function standInForItem(path: ReadonlyArray<string | number>): unknown {
  if (path[0] === 'metadata' && path[1] === 'tags') {
    return 'stand-in';
  }
  if (path[0] === 'metadata' && path[1] === 'links') {
    return { url: 'https://stand-in.invalid' };
  }
  return 'stand-in';
}

function fillMissing(
  scratch: Record<string, unknown>,
  path: ReadonlyArray<string | number>,
  property: string,
): boolean {
  const parent = valueAt(scratch, path.slice(0, -1));
  if (parent === null || typeof parent !== 'object') {
    return false;
  }
  const value = property === 'spec' ? {} : LIST_FIELDS.has(property) ? [] : 'stand-in';
  (parent as Record<string, unknown>)[property] = value;
  return true;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
