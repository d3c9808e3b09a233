import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type ErrorDetail } from '../errors/index.js';
import { countFaults, detailsFromZodIssues } from './issues.js';
import { type AppConfig, appConfigSchema, CONFIG_PATH_FIELDS } from './schema.js';
import { locateInYamlFiles, parseYamlFile, type YamlFile, yamlToJs } from './yaml-file.js';

interface ConfigFile extends YamlFile {
  data: Record<string, unknown>;
}

export interface LoadConfigOptions {
  /** Environment used for `${VAR}` substitution; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Values merged over the files, last; paths in them must be absolute. */
  overrides?: Record<string, unknown>;
}

export interface LoadedConfig {
  config: AppConfig;
  /** Absolute paths of the files read, in merge order. */
  files: string[];
}

/**
 * Reads config files in order, substitutes `${VAR}` from the environment,
 * merges them (later files win; objects merge, arrays and scalars replace),
 * resolves relative paths against the declaring file, and validates the result.
 * Throws a ConfigError that lists every fault found, not only the first.
 */
export function loadConfig(
  files: readonly string[],
  options: LoadConfigOptions = {},
): LoadedConfig {
  const env = options.env ?? process.env;
  const faults: ErrorDetail[] = [];
  // Reported together with the schema's faults, which need the merged result.
  const substitution: SubstitutionFaults = { faults: [], fieldPaths: [] };
  const parsed: ConfigFile[] = [];

  if (files.length === 0) {
    throw new ConfigError('No configuration file given', [
      { message: 'pass at least one file with --config, for example --config app-config.yaml' },
    ]);
  }

  for (const file of files) {
    const loaded = readConfigFile(path.resolve(file), env, faults, substitution);
    if (loaded) {
      parsed.push(loaded);
    }
  }

  if (faults.length > 0) {
    faults.push(...substitution.faults);
    throw new ConfigError(`Configuration is invalid (${countFaults(faults.length)})`, faults);
  }

  let merged: Record<string, unknown> = {};
  for (const entry of parsed) {
    merged = mergeConfig(merged, entry.data);
  }
  if (options.overrides) {
    merged = mergeConfig(merged, options.overrides);
  }

  const result = appConfigSchema.safeParse(merged);
  const schemaIssues = result.success
    ? []
    : // A field whose variable is unset keeps its `${NAME}` text, and its fault is already reported.
      result.error.issues.filter(
        (issue) => !substitution.fieldPaths.some((fieldPath) => startsWith(issue.path, fieldPath)),
      );
  const details = [
    ...substitution.faults,
    ...detailsFromZodIssues(schemaIssues, merged, (fieldPath) =>
      locateInYamlFiles(parsed, fieldPath),
    ),
  ];
  if (details.length > 0 || !result.success) {
    throw new ConfigError(`Configuration is invalid (${countFaults(details.length)})`, details);
  }

  return { config: result.data, files: parsed.map((entry) => entry.file) };
}

/** Faults of `${NAME}` references, and the fields they are in. */
interface SubstitutionFaults {
  faults: ErrorDetail[];
  fieldPaths: PropertyKey[][];
}

function startsWith(fieldPath: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.every((key, index) => fieldPath[index] === key);
}

function readConfigFile(
  file: string,
  env: Record<string, string | undefined>,
  faults: ErrorDetail[],
  substitution: SubstitutionFaults,
): ConfigFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    faults.push({ path: file, message: `cannot be read: ${(error as Error).message}` });
    return undefined;
  }

  const { yaml, faults: parseFaults } = parseYamlFile(file, text);
  if (parseFaults.length > 0) {
    faults.push(...parseFaults);
    return undefined;
  }

  const converted = yamlToJs(yaml);
  if ('fault' in converted) {
    faults.push(converted.fault);
    return undefined;
  }
  const data: unknown = converted.value ?? {};
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    faults.push({ path: file, message: 'must contain a YAML mapping at the top level' });
    return undefined;
  }

  const substituted = substituteEnv(data, [], env, (fieldPath, message) => {
    substitution.faults.push({ path: locateInYamlFiles([yaml], fieldPath), message });
    substitution.fieldPaths.push(fieldPath);
  }) as Record<string, unknown>;
  resolvePathFields(substituted, path.dirname(file));
  return { ...yaml, data: substituted };
}

const ENV_REFERENCE = /\$(\$?)\{([^}]*)\}/g;

function substituteEnv(
  value: unknown,
  fieldPath: PropertyKey[],
  env: Record<string, string | undefined>,
  report: (fieldPath: PropertyKey[], message: string) => void,
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (whole, escaped: string, name: string) => {
      if (escaped) {
        // `$${VAR}` is the escape for a literal `${VAR}`.
        return whole.slice(1);
      }
      const trimmed = name.trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(trimmed)) {
        report(
          fieldPath,
          `'\${${name}}' is not a valid environment variable reference: use \${NAME}`,
        );
        return whole;
      }
      const replacement = env[trimmed];
      if (replacement === undefined) {
        report(
          fieldPath,
          `environment variable ${trimmed} is not set: set it or remove the reference`,
        );
        return whole;
      }
      return replacement;
    });
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => substituteEnv(item, [...fieldPath, index], env, report));
  }
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      result[key] = substituteEnv(item, [...fieldPath, key], env, report);
    }
    return result;
  }
  return value;
}

function resolvePathFields(data: Record<string, unknown>, baseDir: string): void {
  for (const field of CONFIG_PATH_FIELDS) {
    resolvePathField(data, field.split('.'), baseDir);
  }
}

function resolvePathField(node: unknown, parts: string[], baseDir: string): void {
  if (node === null || typeof node !== 'object') {
    return;
  }
  const [head, ...rest] = parts;
  if (head === undefined) {
    return;
  }
  if (head === '*') {
    if (Array.isArray(node)) {
      for (const item of node) {
        resolvePathField(item, rest, baseDir);
      }
    }
    return;
  }

  const record = node as Record<string, unknown>;
  if (rest.length > 0) {
    resolvePathField(record[head], rest, baseDir);
    return;
  }
  const value = record[head];
  if (typeof value === 'string' && value !== '' && !path.isAbsolute(value)) {
    record[head] = path.resolve(baseDir, value);
  }
}

/** Merges `override` into `base` the way Backstage merges app-config files. */
export function mergeConfig(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const existing = result[key];
    if (isPlainObject(existing) && isPlainObject(value)) {
      result[key] = mergeConfig(existing, value);
    } else {
      result[key] = value;
    }
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
