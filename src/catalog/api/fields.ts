type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Splits a dotted field into the keys it names in `input`. Keys may contain
 * dots themselves (`metadata.annotations.backstage.io/techdocs-ref`), so the
 * parts are joined until they name an existing key, as Backstage does.
 */
function resolvePath(input: JsonObject, field: string): string[] | undefined {
  const path: string[] = [];
  let current: unknown = input;
  let pending = '';

  for (const part of field.split('.')) {
    pending = pending ? `${pending}.${part}` : part;
    if (isObject(current) && Object.hasOwn(current, pending)) {
      path.push(pending);
      current = current[pending];
      pending = '';
    }
  }
  return pending === '' && path.length > 0 ? path : undefined;
}

/**
 * Keeps only the listed dotted fields of an entity, each with its whole
 * subtree. Keys are copied as own properties, so a stored key named
 * `__proto__` can neither change the output's prototype nor reach
 * Object.prototype.
 */
export function pickFields(input: JsonObject, fields: readonly string[]): JsonObject {
  const output: JsonObject = {};

  for (const field of fields) {
    const path = resolvePath(input, field);
    if (!path) {
      continue;
    }

    let source: unknown = input;
    let target = output;
    path.forEach((key, index) => {
      source = (source as JsonObject)[key];
      if (index === path.length - 1) {
        setOwn(target, key, source);
        return;
      }
      const existing = Object.hasOwn(target, key) ? target[key] : undefined;
      if (!isObject(existing)) {
        setOwn(target, key, {});
      }
      target = target[key] as JsonObject;
    });
  }
  return output;
}

function setOwn(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Returns true when the output needs the entity's relations: no field list, or one under `relations`. */
export function fieldsNeedRelations(fields: readonly string[] | undefined): boolean {
  return !fields || fields.some((field) => field === 'relations' || field.startsWith('relations.'));
}
