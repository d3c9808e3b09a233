import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { type CatalogIssue, formatField, ISSUE_CODES } from './issues.js';
import { createKindPolicy, type KindRule } from './kind-rules.js';
import { KEPT_ENTITIES, readCatalogFile } from './read-file.js';
import { KEPT_UNTIL_CREATED, resolveTargetFiles } from './target-files.js';
import { createTargetScope, type TargetScope } from './target-scope.js';

/** The entities and faults of one file, as `catalog validate` prints them. */
export interface FileValidation {
  file: string;
  entities: Array<{ ref: string; kind: string; docIndex: number; line: number }>;
  /** Faults of the file, its rejected documents and the targets its Location entities declare. */
  issues: CatalogIssue[];
}

export interface ValidationReport {
  files: FileValidation[];
  /** Faults of the paths given, such as a path that does not exist. */
  issues: CatalogIssue[];
  /** Number of faults of severity error, over all files and paths. */
  errors: number;
}

interface PendingTarget {
  target: string;
  optional: boolean;
  /** Targets of the locations that led here, to stop cycles. */
  chain: string[];
  /** The tree of the path given that led here, whose folder every target must stay in. */
  scope: TargetScope;
  /** Declaration of the target, copied into faults about it; undefined for a path given. */
  declaredBy?: CatalogIssue;
}

/**
 * Validates catalog files without a database: each path (a file, a glob, or a
 * folder, whose *.yaml and *.yml files are read) and every target of the
 * Location entities found, as the ingestion would with each path as a config
 * location and `rules` as `catalog.rules`. A reference defined twice is
 * reported on its second definition. References to entities outside the
 * files read are not checked, because they may live in other locations.
 */
export async function validateCatalogFiles(
  paths: readonly string[],
  options: { rules?: readonly KindRule[] } = {},
): Promise<ValidationReport> {
  const kindPolicy = createKindPolicy(options.rules, undefined);
  const report: ValidationReport = { files: [], issues: [], errors: 0 };
  const visited = new Set<string>();
  const definedIn = new Map<string, string>();
  const pending: PendingTarget[] = [];

  for (const given of paths) {
    const absolute = path.resolve(given);
    const targets = await expandFolder(absolute);
    if (targets.length === 0) {
      report.issues.push({
        severity: 'warning',
        code: ISSUE_CODES.locationEmpty,
        file: absolute,
        message: `folder ${absolute} has no *.yaml or *.yml file`,
      });
    }
    for (const target of targets) {
      pending.push({ target, optional: false, chain: [], scope: createTargetScope(target) });
    }
  }

  while (pending.length > 0) {
    const next = pending.shift() as PendingTarget;
    const resolved = await resolveTargetFiles(next.target, {
      optional: next.optional,
      scope: next.scope,
    });
    for (const resolvedIssue of resolved.issues) {
      const issue = forValidation(resolvedIssue);
      const fault = next.declaredBy
        ? { ...next.declaredBy, severity: issue.severity, code: issue.code, message: issue.message }
        : issue;
      const owner = next.declaredBy?.file
        ? report.files.find((file) => file.file === next.declaredBy?.file)
        : undefined;
      (owner ? owner.issues : report.issues).push(fault);
    }

    for (const file of resolved.files) {
      if (visited.has(file)) {
        continue;
      }
      visited.add(file);

      // With the annotations a stored entity gets, so keys are checked as the ingestion checks them.
      const result = await readCatalogFile(file, {
        kindPolicy,
        scope: next.scope,
        locationAnnotations: { type: 'file', originTarget: next.scope.configTarget },
      });
      const validation: FileValidation = {
        file,
        entities: [],
        issues: result.issues.map(forValidation),
      };
      report.files.push(validation);

      for (const entity of result.entities) {
        const first = definedIn.get(entity.ref);
        if (first) {
          validation.issues.push({
            severity: 'error',
            code: ISSUE_CODES.entityConflict,
            file,
            docIndex: entity.docIndex,
            line: entity.line,
            entityRef: entity.ref,
            message: `${entity.ref} is already defined in ${first}; a catalog stores only the first definition, so remove one or rename it`,
          });
          continue;
        }
        definedIn.set(entity.ref, file);
        validation.entities.push({
          ref: entity.ref,
          kind: entity.entity.kind,
          docIndex: entity.docIndex,
          line: entity.line,
        });
        validation.issues.push(...entity.issues);

        const chain = [...next.chain, next.target];
        for (const target of entity.targets) {
          const declaredBy: CatalogIssue = {
            severity: 'error',
            code: ISSUE_CODES.locationNotFound,
            file,
            docIndex: entity.docIndex,
            line: entity.lineOf(target.path),
            entityRef: entity.ref,
            field: formatField(target.path),
            message: '',
          };
          if (chain.includes(target.target) || target.target === file) {
            validation.issues.push({
              ...declaredBy,
              code: ISSUE_CODES.locationCycle,
              message: `${target.target} points back at a location that leads here (${chain.join(' → ')}); the cycle stops here, so remove this target`,
            });
            continue;
          }
          pending.push({
            target: target.target,
            optional: target.optional,
            chain,
            scope: next.scope,
            declaredBy,
          });
        }
      }
    }
  }

  report.errors =
    report.issues.filter((issue) => issue.severity === 'error').length +
    report.files.reduce(
      (sum, file) => sum + file.issues.filter((issue) => issue.severity === 'error').length,
      0,
    );
  return report;
}

/**
 * Rewords the ingestion's note on the entities that the running catalog keeps
 * from a file it could not read, which has no meaning in a one-off validation.
 */
function forValidation(issue: CatalogIssue): CatalogIssue {
  const message = issue.message
    .replace(KEPT_ENTITIES, UNCHECKED_ENTITIES)
    .replace(KEPT_UNTIL_CREATED, `${UNCHECKED_ENTITIES}.`);
  return message === issue.message ? issue : { ...issue, message };
}

const UNCHECKED_ENTITIES = 'No entity of this file was checked';

/** Expands a folder into its *.yaml and *.yml files and returns any other target as given. */
async function expandFolder(target: string): Promise<string[]> {
  const info = await stat(target).catch(() => undefined);
  if (!info?.isDirectory()) {
    return [target];
  }
  const names = await readdir(target);
  return names
    .filter((name) => /\.ya?ml$/i.test(name))
    .sort()
    .map((name) => path.join(target, name));
}
