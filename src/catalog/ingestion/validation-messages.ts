import { KubernetesValidatorFunctions } from '@backstage/catalog-model';
import { formatField, quoteValue } from './issues.js';

/**
 * Messages for the faults that `@backstage/catalog-model` reports. The library
 * decides whether an entity is valid; these functions only restate its verdict
 * with the field, the value, the rule and a fix.
 */

const NAME_RULE = "1 to 63 characters made of runs of [A-Za-z0-9] joined by '-', '_' or '.'";
const NAMESPACE_RULE = "1 to 63 characters made of runs of [a-z0-9] joined by '-'";
const TAG_RULE = "1 to 63 characters made of runs of [a-z0-9:+#] joined by '-'";
const KEY_RULE = `an optional DNS name and '/' as prefix, then ${NAME_RULE}`;

/** Example values for required spec fields, used in "add it, such as ..." hints. */
const REQUIRED_EXAMPLES: Readonly<Record<string, string>> = {
  type: "'type: service'",
  lifecycle: "'lifecycle: production'",
  owner: "'owner: team-a' (a Group or User reference)",
  definition: "'definition: { $text: ./openapi.yaml }'",
  memberOf: "'memberOf: [team-a]' or 'memberOf: []'",
  children: "'children: []'",
  spec: 'a spec mapping with the fields of the kind',
};

/** A fault reported by a policy of the entity envelope, with the path it concerns. */
export interface FieldFault {
  path: Array<string | number>;
  message: string;
}

/**
 * Translates a FieldFormatEntityPolicy error into a fault on the entity path.
 * The policy names fields as `metadata.name`, `labels.<key>`, `tags.<index>`
 * or `links.<index>.url`; its messages start with the field.
 */
export function fieldFormatFault(
  message: string,
  entity: Record<string, unknown>,
): FieldFault | undefined {
  const field =
    /^"([^"]+)" is not valid;/.exec(message)?.[1] ??
    /^(\S+) must have a value$/.exec(message)?.[1] ??
    /^(\S+) could not be validated,/.exec(message)?.[1];
  if (!field) {
    return undefined;
  }
  const missing = message.endsWith('must have a value');
  const metadata = (entity.metadata ?? {}) as Record<string, unknown>;

  if (field === 'apiVersion') {
    return {
      path: ['apiVersion'],
      message: missing
        ? "apiVersion is missing: add it, such as 'apiVersion: backstage.io/v1alpha1'"
        : `apiVersion ${quoteValue(entity.apiVersion)} is invalid: use '<group>/<version>', such as 'backstage.io/v1alpha1'`,
    };
  }
  if (field === 'kind') {
    return {
      path: ['kind'],
      message: missing
        ? "kind is missing: add the entity's kind, such as 'kind: Component'"
        : `kind ${quoteValue(entity.kind)} is invalid: use 1 to 63 letters and digits starting with a letter, such as 'Component'`,
    };
  }
  if (field === 'metadata.name') {
    return {
      path: ['metadata', 'name'],
      message: missing
        ? `metadata.name is missing: every entity needs a name of ${NAME_RULE}`
        : `metadata.name ${quoteValue(metadata.name)} is invalid: use ${NAME_RULE}${suggestion(metadata.name, suggestName)}`,
    };
  }
  if (field === 'metadata.namespace') {
    return {
      path: ['metadata', 'namespace'],
      message: `metadata.namespace ${quoteValue(metadata.namespace)} is invalid: use ${NAMESPACE_RULE}${suggestion(metadata.namespace, suggestNamespace)}`,
    };
  }

  const mapField = /^(labels|annotations)\.(.+)$/.exec(field);
  if (mapField) {
    const section = mapField[1] as 'labels' | 'annotations';
    const key = mapField[2] as string;
    return keyValueFault(section, key, (metadata[section] ?? {}) as Record<string, unknown>);
  }

  const tag = /^tags\.(\d+)$/.exec(field);
  if (tag) {
    const index = Number(tag[1]);
    const value = (metadata.tags as unknown[] | undefined)?.[index];
    return {
      path: ['metadata', 'tags', index],
      message: `${formatField(['metadata', 'tags', index])} ${quoteValue(value)} is invalid: use ${TAG_RULE}${suggestion(value, suggestTag)}`,
    };
  }

  const link = /^links\.(\d+)\.(url|title|icon)$/.exec(field);
  if (link) {
    const index = Number(link[1]);
    const property = link[2] as string;
    const path = ['metadata', 'links', index, property];
    const value = (
      (metadata.links as unknown[] | undefined)?.[index] as Record<string, unknown> | undefined
    )?.[property];
    if (property === 'url') {
      return {
        path,
        message: missing
          ? `${formatField(path)} is missing: every link needs a url, such as 'https://example.com/docs'`
          : `${formatField(path)} ${quoteValue(value)} is invalid: use an absolute URL, such as 'https://example.com/docs'`,
      };
    }
    return {
      path,
      message: `${formatField(path)} ${quoteValue(value)} is invalid: use a non-empty string or leave the ${property} out`,
    };
  }

  return { path: field.split('.'), message: `${field} is invalid: ${message}` };
}

function keyValueFault(
  section: 'labels' | 'annotations',
  key: string,
  values: Record<string, unknown>,
): FieldFault {
  const path = ['metadata', section, key];
  const validKey =
    section === 'labels'
      ? KubernetesValidatorFunctions.isValidLabelKey(key)
      : KubernetesValidatorFunctions.isValidAnnotationKey(key);
  if (!validKey) {
    return {
      path,
      message: `metadata.${section} key ${quoteValue(key)} is invalid: use ${KEY_RULE}${suggestion(key, suggestKey)}`,
    };
  }

  const value = values[key];
  if (section === 'annotations') {
    return {
      path,
      message: `${formatField(path)} ${quoteValue(value)} is invalid: annotation values must be strings, so quote it, such as '${key}: "${String(value)}"'`,
    };
  }
  return {
    path,
    message: `${formatField(path)} ${quoteValue(value)} is invalid: use an empty string or ${NAME_RULE}${suggestion(value, suggestName)}`,
  };
}

/**
 * Translates an error of the JSON schemas (SchemaValidEntityPolicy and the
 * kind validators), written by the library as `<instancePath> <message>` and,
 * for the kind validators, ` - <param>: <value>`.
 */
export function schemaFault(
  message: string,
  entity: Record<string, unknown>,
  kind: string | undefined,
): FieldFault & { missingProperty?: string } {
  const text = message.replace(/^Malformed envelope, /, '');
  const match = /^(\S+) (.*?)(?: - (.*))?$/.exec(text);
  if (!match) {
    return { path: [], message: `the entity is invalid: ${text}` };
  }

  const basePath = instancePathToPath(match[1] === '<root>' ? '' : (match[1] as string), entity);
  const ajvMessage = match[2] as string;
  const params = parseParams(match[3]);
  const ofKind = kind ? ` for kind ${kind}` : '';

  const required =
    /^must have required property '(.+)'$/.exec(ajvMessage)?.[1] ?? params.missingProperty;
  if (ajvMessage.startsWith('must have required property') && required) {
    const path = [...basePath, required];
    const example = REQUIRED_EXAMPLES[required];
    return {
      path,
      missingProperty: required,
      message: `${formatField(path)} is required${ofKind}: add it${example ? `, such as ${example}` : ''}`,
    };
  }

  if (ajvMessage === 'must NOT have additional properties' && params.additionalProperty) {
    const path = [...basePath, params.additionalProperty];
    return {
      path,
      message: `${formatField(path)} is not a field of ${kind ? `kind ${kind}` : 'an entity'}: remove it or check its spelling`,
    };
  }

  const value = valueAt(entity, basePath);
  const field = basePath.length > 0 ? formatField(basePath) : 'the entity';
  if (ajvMessage === 'must be equal to one of the allowed values' && params.allowedValues) {
    return {
      path: basePath,
      message: `${field} ${quoteValue(value)} is invalid${ofKind}: use one of ${params.allowedValues.split(',').join(', ')}`,
    };
  }
  if (/^must NOT have fewer than 1 characters$/.test(ajvMessage)) {
    return {
      path: basePath,
      message: `${field} must not be empty${ofKind}: give it a value or leave it out`,
    };
  }
  return {
    path: basePath,
    message: `${field} ${quoteValue(value)} is invalid${ofKind}: it ${ajvMessage}`,
  };
}

function parseParams(text: string | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  if (!text) {
    return params;
  }
  for (const part of text.split(/, (?=\w+: )/)) {
    const index = part.indexOf(': ');
    if (index > 0) {
      params[part.slice(0, index)] = part.slice(index + 2);
    }
  }
  return params;
}

/** Converts a JSON pointer such as `/spec/dependsOn/0` into a path, with array indexes as numbers. */
function instancePathToPath(pointer: string, root: unknown): Array<string | number> {
  const path: Array<string | number> = [];
  let current: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current) && /^\d+$/.test(key)) {
      path.push(Number(key));
      current = current[Number(key)];
    } else {
      path.push(key);
      current =
        current !== null && typeof current === 'object'
          ? (current as Record<string, unknown>)[key]
          : undefined;
    }
  }
  return path;
}

/** Reads the value at a path, or undefined when a step is missing. */
export function valueAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let current: unknown = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object') {
      return undefined;
    }
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}

function suggestion(value: unknown, suggest: (text: string) => string): string {
  if (typeof value !== 'string') {
    return '';
  }
  const suggested = suggest(value);
  return suggested !== '' && suggested !== value ? `, such as '${suggested}'` : '';
}

function trimToRule(text: string, edge: RegExp): string {
  return text.replace(edge, '').slice(0, 63).replace(edge, '');
}

function suggestName(value: string): string {
  return trimToRule(value.replace(/[^A-Za-z0-9_.-]+/g, '-'), /^[-_.]+|[-_.]+$/g);
}

function suggestNamespace(value: string): string {
  return trimToRule(value.toLowerCase().replace(/[^a-z0-9]+/g, '-'), /^-+|-+$/g);
}

function suggestTag(value: string): string {
  return trimToRule(value.toLowerCase().replace(/[^a-z0-9:+#]+/g, '-'), /^-+|-+$/g);
}

function suggestKey(value: string): string {
  const slash = value.lastIndexOf('/');
  const prefix = slash >= 0 ? value.slice(0, slash + 1).toLowerCase() : '';
  return `${prefix}${suggestName(value.slice(slash + 1))}`;
}
