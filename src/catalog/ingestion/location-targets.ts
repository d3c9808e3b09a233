import path from 'node:path';
import { formatField, ISSUE_CODES, type IssueCode } from './issues.js';
import { describeTargetOutside, type TargetScope } from './target-scope.js';

/** A file or glob that a Location entity declares, resolved to an absolute path. */
export interface LocationTarget {
  /** Absolute file path or glob. */
  target: string;
  /** Path of the declaration in the Location entity: `['spec', 'target']` or `['spec', 'targets', i]`. */
  path: Array<string | number>;
  /** `spec.presence: optional`: a missing file is not an error. */
  optional: boolean;
}

export interface LocationTargetFault {
  code: IssueCode;
  path: Array<string | number>;
  message: string;
}

/** Location types whose relative targets this catalog reads as files. */
const FILE_TYPES = new Set(['file', 'url']);

const URL_PATTERN = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Resolves the targets of a valid Location entity read from `file`. Relative
 * targets, with or without a leading `./`, resolve against the folder of that
 * file, also when the Location sets `type: url`, because a relative URL
 * resolves against the file's own location. Absolute URLs, location types
 * other than file and url, and targets outside the folder of `scope` are
 * faults on their target.
 */
export function resolveLocationTargets(
  spec: { type?: unknown; target?: unknown; targets?: unknown; presence?: unknown },
  file: string,
  scope?: TargetScope,
): { targets: LocationTarget[]; faults: LocationTargetFault[] } {
  const targets: LocationTarget[] = [];
  const faults: LocationTargetFault[] = [];
  const type = typeof spec.type === 'string' ? spec.type : 'file';
  const optional = spec.presence === 'optional';
  const folder = path.dirname(file);

  const declared: Array<{ value: string; path: Array<string | number> }> = [];
  if (typeof spec.target === 'string') {
    declared.push({ value: spec.target, path: ['spec', 'target'] });
  }
  if (Array.isArray(spec.targets)) {
    spec.targets.forEach((value, index) => {
      if (typeof value === 'string') {
        declared.push({ value, path: ['spec', 'targets', index] });
      }
    });
  }

  for (const { value, path: at } of declared) {
    if (!FILE_TYPES.has(type)) {
      faults.push({
        code: ISSUE_CODES.locationUnsupported,
        path: at,
        message: `${formatField(at)} '${value}' has location type '${type}', which this catalog does not read: it reads files only, so list the files as targets of a Location with type file`,
      });
      continue;
    }
    if (URL_PATTERN.test(value)) {
      faults.push({
        code: ISSUE_CODES.locationUnsupported,
        path: at,
        message: `URL locations are not supported: ${formatField(at)} '${value}' is a URL, and this catalog reads files only: check the file out beside this one and use a relative path`,
      });
      continue;
    }
    const target = path.resolve(folder, value);
    const outside = scope
      ? describeTargetOutside(target, scope, `${formatField(at)} '${value}'`)
      : undefined;
    if (outside) {
      faults.push({ code: ISSUE_CODES.locationOutsideFolder, path: at, message: outside });
      continue;
    }
    targets.push({ target, path: at, optional });
  }
  return { targets, faults };
}
