import { readFileSync } from 'node:fs';
import { InputError } from '../../errors/index.js';
import type { PermissionRegistry } from '../registry.js';
import { parseConditionalPolicies } from './conditional-policy.js';
import { convertRbacPolicies, type RbacImportResult } from './convert.js';
import { parseRbacCsv } from './csv-policy.js';

export interface RbacPolicyFiles {
  /** The RBAC plugin's policy CSV (`permission.rbac.policies-csv-file`). */
  csv: string;
  /** The conditional-policy YAML (`permission.rbac.conditionalPoliciesFile`). */
  conditions?: string;
}

/**
 * Reads RBAC policy files and converts them into a roles file; see
 * convertRbacPolicies. Throws an InputError when a file cannot be read.
 */
export function importRbacFiles(
  files: RbacPolicyFiles,
  registry: PermissionRegistry,
): RbacImportResult {
  const csv = parseRbacCsv(files.csv, readInput(files.csv, '--csv'));
  const conditions =
    files.conditions === undefined
      ? undefined
      : parseConditionalPolicies(files.conditions, readInput(files.conditions, '--conditions'));
  return convertRbacPolicies(conditions ? { csv, conditions } : { csv }, registry);
}

function readInput(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(
      `Cannot read ${file}: ${(error as Error).message}: check the path given to ${option}`,
      { cause: error },
    );
  }
}
