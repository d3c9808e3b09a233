import type { JsonSchema, RequestType } from '../common/workflow-api.js';

/** One input of the request form, derived from a property of the type's JSON Schema. */
export interface FormField {
  /** The parameter name, such as `environment`. */
  name: string;
  label: string;
  kind: 'text' | 'integer' | 'number' | 'select' | 'checkbox';
  required: boolean;
  /** The allowed values of an `enum` property, as text. */
  options: string[];
  /** Format hint from the schema's limits, such as `900 to 43200`. */
  hint: string | undefined;
}

/** Labels of the built-in types' parameters; other names are split at capitals. */
const KNOWN_LABELS: Record<string, string> = {
  entity: 'Entity',
  environment: 'Environment',
  version: 'Version',
  gitRef: 'Git ref',
  account: 'AWS account id',
  role: 'Role',
  durationSeconds: 'Duration (seconds)',
};

/** Builds the form fields of a request type from its parameters' JSON Schema, in schema order. */
export function fieldsOf(type: RequestType): FormField[] {
  const properties = type.parameters.properties ?? {};
  const required = new Set(type.parameters.required ?? []);
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    label: KNOWN_LABELS[name] ?? labelOf(name),
    kind: kindOf(schema),
    required: required.has(name),
    options: (schema.enum ?? []).map((value) => String(value)),
    hint: hintOf(schema),
  }));
}

function labelOf(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function kindOf(schema: JsonSchema): FormField['kind'] {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return 'select';
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'integer') return 'integer';
  if (type === 'number') return 'number';
  if (type === 'boolean') return 'checkbox';
  return 'text';
}

function hintOf(schema: JsonSchema): string | undefined {
  if (schema.minimum !== undefined && schema.maximum !== undefined) {
    return `${schema.minimum} to ${schema.maximum}`;
  }
  if (schema.pattern === '^\\d{12}$') {
    return '12 digits';
  }
  if (schema.pattern === '^[a-z0-9]+(-[a-z0-9]+)*$') {
    return 'such as production or staging';
  }
  return undefined;
}

/**
 * Reads the request parameters from the form's values. Empty fields are left
 * out, so the API reports a missing required one. A number field that does
 * not parse is sent as typed, so the API's message names it.
 */
export function readParameters(
  fields: readonly FormField[],
  values: Readonly<Record<string, string | boolean>>,
): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (field.kind === 'checkbox') {
      if (value === true) parameters[field.name] = true;
      continue;
    }
    if (typeof value !== 'string' || value.trim() === '') {
      continue;
    }
    const text = value.trim();
    if (field.kind === 'integer' || field.kind === 'number') {
      const number = Number(text);
      parameters[field.name] = Number.isFinite(number) ? number : text;
    } else {
      parameters[field.name] = text;
    }
  }
  return parameters;
}

/**
 * Maps a 400 detail path to the form field it names: `parameters.environment`
 * to `environment`, `reason` to `reason`. Returns undefined for a path that
 * names no field, such as `type` or `parameters`.
 */
export function fieldOfErrorPath(path: string, fields: readonly FormField[]): string | undefined {
  if (path === 'reason') {
    return 'reason';
  }
  const match = /^parameters\.([^.[]+)/.exec(path);
  const name = match?.[1];
  if (name && fields.some((field) => field.name === name)) {
    return name;
  }
  return undefined;
}

/**
 * Picks the type to show first: the one the route names. Given an entity, it
 * is the first type that requires one, then the first that accepts one.
 */
export function initialType(
  types: readonly RequestType[],
  requested: string | undefined,
  entity: string | undefined,
): RequestType | undefined {
  const named = types.find((type) => type.name === requested);
  if (named) {
    return named;
  }
  if (entity) {
    return (
      types.find((type) => type.entity === 'required') ??
      types.find((type) => type.entity === 'optional') ??
      types[0]
    );
  }
  return types[0];
}
