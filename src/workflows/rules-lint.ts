import { readYamlWithSchema } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import type { Organisation } from '../permissions/organisation.js';
import {
  type ApprovalRulesFile,
  approvalRulesFileSchema,
  parseApprovalRules,
  type RuleMatch,
} from './rules-file.js';

export interface RulesLintFinding {
  severity: 'error' | 'warning';
  /** The rule's id, when the finding is about one rule. */
  rule?: string | undefined;
  /** `file:line: field`, when known. */
  path?: string | undefined;
  message: string;
}

export interface RulesLintReport {
  errors: number;
  warnings: number;
  findings: RulesLintFinding[];
}

/**
 * Checks an approval rules file: its schema, unknown request types, and named
 * groups missing from the catalog or without members. It also reports rules
 * that can never match, because a list is empty or an earlier rule matches
 * everything they match, and request types that no rule matches.
 */
export function lintApprovalRules(
  file: string,
  text: string,
  options: { knownTypes: readonly string[]; organisation: Organisation },
): RulesLintReport {
  const findings: RulesLintFinding[] = [];
  let rules: ApprovalRulesFile;
  try {
    rules = parseApprovalRules(file, text, options.knownTypes);
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
    for (const detail of error.details) {
      findings.push({ severity: 'error', path: detail.path, message: detail.message });
    }
    return summarize(findings);
  }
  const { yaml } = readYamlWithSchema(file, text, approvalRulesFileSchema, 'Approval rules file');
  const lineOf = (index: number) => {
    const node = yaml.document.getIn(['rules', index], true) as { range?: [number] } | undefined;
    return node?.range ? `${file}:${yaml.lineCounter.linePos(node.range[0]).line}` : file;
  };

  rules.rules.forEach((rule, index) => {
    for (const source of rule.approvals?.from ?? []) {
      if (source === 'owners') continue;
      if (!options.organisation.groupAndAncestors.has(source.group)) {
        findings.push({
          severity: 'error',
          rule: rule.id,
          path: lineOf(index),
          message: `approver group ${source.group} is not in the catalog: correct the reference or add the group`,
        });
      } else if ((options.organisation.usersOfGroup.get(source.group)?.size ?? 0) === 0) {
        findings.push({
          severity: 'warning',
          rule: rule.id,
          path: lineOf(index),
          message: `approver group ${source.group} has no users, so no one can approve through it: add members or name another group`,
        });
      }
    }

    for (const minimum of rule.approvals?.minimums ?? []) {
      if (minimum.source === 'owners') continue;
      const users = options.organisation.usersOfGroup.get(minimum.source.group)?.size ?? 0;
      if (users > 0 && users < minimum.count) {
        findings.push({
          severity: 'error',
          rule: rule.id,
          path: lineOf(index),
          message: `approver group ${minimum.source.group} has ${users} ${users === 1 ? 'user' : 'users'}, fewer than its min ${minimum.count}, so no request under this rule can be approved: lower min or add members`,
        });
      }
    }

    const empty = emptyListsOf(rule.match);
    if (empty.length > 0) {
      findings.push({
        severity: 'warning',
        rule: rule.id,
        path: lineOf(index),
        message: `rule never matches: match.${empty.join(', match.')} is an empty list; remove the field to match any value`,
      });
      return;
    }
    const earlier = rules.rules
      .slice(0, index)
      .find((candidate) => covers(candidate.match, rule.match));
    if (earlier) {
      findings.push({
        severity: 'warning',
        rule: rule.id,
        path: lineOf(index),
        message: `rule never matches: the earlier rule ${earlier.id} matches every request it matches; move it above ${earlier.id} or narrow ${earlier.id}`,
      });
    }
  });

  for (const type of options.knownTypes) {
    if (
      !rules.rules.some((rule) => rule.match.types === undefined || rule.match.types.includes(type))
    ) {
      findings.push({
        severity: 'warning',
        message: `no rule matches ${type} requests, so every one is rejected`,
      });
    }
  }
  return summarize(findings);
}

/** Formats a report for a terminal, one finding a line. */
export function formatRulesLintReport(file: string, report: RulesLintReport): string {
  const lines = report.findings.map((finding) => {
    const where = finding.path ?? file;
    const rule = finding.rule ? ` rule ${finding.rule}:` : '';
    return `${finding.severity} ${where}:${rule} ${finding.message}`;
  });
  lines.push(`${file}: ${report.errors} errors, ${report.warnings} warnings`);
  return `${lines.join('\n')}\n`;
}

/** True when every request that `later` matches is also matched by `earlier`. */
export function covers(earlier: RuleMatch, later: RuleMatch): boolean {
  const lists = ['types', 'environments', 'lifecycles', 'kinds', 'systems'] as const;
  for (const field of lists) {
    const wide = earlier[field];
    const narrow = later[field];
    if (wide === undefined) continue;
    if (narrow === undefined || !narrow.every((value) => wide.includes(value))) {
      return false;
    }
  }
  for (const [key, value] of Object.entries(earlier.labels ?? {})) {
    if (later.labels?.[key] !== value) {
      return false;
    }
  }
  if (
    earlier.requesterOwnsEntity !== undefined &&
    earlier.requesterOwnsEntity !== later.requesterOwnsEntity
  ) {
    return false;
  }
  return true;
}

function emptyListsOf(match: RuleMatch): string[] {
  return (['types', 'environments', 'lifecycles', 'kinds', 'systems'] as const).filter(
    (field) => match[field]?.length === 0,
  );
}

function summarize(findings: RulesLintFinding[]): RulesLintReport {
  return {
    errors: findings.filter((finding) => finding.severity === 'error').length,
    warnings: findings.filter((finding) => finding.severity === 'warning').length,
    findings,
  };
}
