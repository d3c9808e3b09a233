import type { Organisation } from '../permissions/organisation.js';
import { formatDuration } from './duration.js';
import type { ApprovalRule, ApprovalRulesFile } from './rules-file.js';

/** The decision of one rule: auto-approve, or the approvals it needs and from whom. */
export interface RuleApprovers {
  autoApprove: boolean;
  count: number;
  owners: boolean;
  groups: string[];
  /** Approvals that must come from one source, such as `1 from group:default/security-team`. */
  minimums: string[];
  /** Users of the named groups, lowercase references, sorted. */
  users: string[];
  breakGlass: boolean;
  maxDuration: string | null;
}

export interface RuleChange {
  rule: string;
  change: 'added' | 'removed' | 'changed';
  /** The position of the rule in the proposed file, from 1; null for a removed rule. */
  position: number | null;
  match: { from: unknown; to: unknown } | null;
  from: RuleApprovers | null;
  to: RuleApprovers | null;
  /** Users who may approve under the proposed file and could not before, through named groups. */
  approversGained: string[];
  approversLost: string[];
}

export interface RulesPlan {
  changes: RuleChange[];
  /** True when the order of the rules that both files share has changed, which changes which rule wins. */
  reordered: boolean;
}

/** Compares two approval rules files by rule id: who may approve what, before and after. */
/** The sign that the text plan prints before each kind of rule change. */
const CHANGE_SIGNS: Record<string, string> = { added: '+', removed: '-', changed: '~' };

export function planApprovalRules(
  from: ApprovalRulesFile,
  to: ApprovalRulesFile,
  organisation: Organisation,
): RulesPlan {
  const before = new Map(from.rules.map((rule) => [rule.id, rule]));
  const after = new Map(to.rules.map((rule, index) => [rule.id, { rule, index }]));
  const changes: RuleChange[] = [];

  for (const [id, { rule, index }] of after) {
    const old = before.get(id);
    const next = approversOf(rule, organisation);
    if (!old) {
      changes.push({
        rule: id,
        change: 'added',
        position: index + 1,
        match: { from: null, to: rule.match },
        from: null,
        to: next,
        approversGained: next.users,
        approversLost: [],
      });
      continue;
    }
    const previous = approversOf(old, organisation);
    const matchChanged = JSON.stringify(old.match) !== JSON.stringify(rule.match);
    if (!matchChanged && JSON.stringify(previous) === JSON.stringify(next)) {
      continue;
    }
    changes.push({
      rule: id,
      change: 'changed',
      position: index + 1,
      match: matchChanged ? { from: old.match, to: rule.match } : null,
      from: previous,
      to: next,
      approversGained: next.users.filter((user) => !previous.users.includes(user)),
      approversLost: previous.users.filter((user) => !next.users.includes(user)),
    });
  }
  for (const [id, rule] of before) {
    if (after.has(id)) continue;
    const previous = approversOf(rule, organisation);
    changes.push({
      rule: id,
      change: 'removed',
      position: null,
      match: { from: rule.match, to: null },
      from: previous,
      to: null,
      approversGained: [],
      approversLost: previous.users,
    });
  }

  const shared = (rules: readonly ApprovalRule[]) =>
    rules.map((rule) => rule.id).filter((id) => before.has(id) && after.has(id));
  const reordered = JSON.stringify(shared(from.rules)) !== JSON.stringify(shared(to.rules));
  return { changes, reordered };
}

function approversOf(rule: ApprovalRule, organisation: Organisation): RuleApprovers {
  const groups = (rule.approvals?.from ?? []).flatMap((source) =>
    source === 'owners' ? [] : [source.group],
  );
  const users = new Set<string>();
  for (const group of groups) {
    for (const user of organisation.usersOfGroup.get(group) ?? []) {
      users.add(user);
    }
  }
  return {
    autoApprove: rule.autoApprove,
    count: rule.approvals?.count ?? 0,
    owners: (rule.approvals?.from ?? []).includes('owners'),
    groups,
    minimums: (rule.approvals?.minimums ?? []).map(
      (minimum) =>
        `${minimum.count} from ${minimum.source === 'owners' ? 'the owners' : minimum.source.group}`,
    ),
    users: [...users].sort(),
    breakGlass: rule.breakGlass,
    maxDuration: rule.maxDuration === undefined ? null : formatDuration(rule.maxDuration),
  };
}

/** Formats a plan for a terminal. */
export function formatRulesPlan(plan: RulesPlan): string {
  if (plan.changes.length === 0 && !plan.reordered) {
    return 'Approval rules: no change in who may approve what.\n';
  }
  const lines = ['Approval rules:'];
  for (const change of plan.changes) {
    const sign = CHANGE_SIGNS[change.change] ?? '~';
    lines.push(`  ${sign} rule ${change.rule} (${change.change})`);
    if (change.match) {
      lines.push(
        `      match: ${JSON.stringify(change.match.from)} -> ${JSON.stringify(change.match.to)}`,
      );
    }
    lines.push(`      decides: ${describe(change.from)} -> ${describe(change.to)}`);
    if (change.approversGained.length > 0) {
      lines.push(`      may now approve: ${change.approversGained.join(', ')}`);
    }
    if (change.approversLost.length > 0) {
      lines.push(`      may no longer approve: ${change.approversLost.join(', ')}`);
    }
  }
  if (plan.reordered) {
    lines.push(
      '  ! the order of existing rules changed: the first matching rule may differ for some requests',
    );
  }
  return `${lines.join('\n')}\n`;
}

function describe(approvers: RuleApprovers | null): string {
  if (!approvers) {
    return '(none)';
  }
  const limit = approvers.maxDuration ? `, at most ${approvers.maxDuration}` : '';
  if (approvers.autoApprove) {
    return `auto-approve${limit}`;
  }
  const sources = [...(approvers.owners ? ['the owners'] : []), ...approvers.groups].join(' or ');
  const glass = approvers.breakGlass ? ', break-glass allowed' : '';
  const minimums =
    approvers.minimums.length > 0 ? ` (at least ${approvers.minimums.join(' and ')})` : '';
  return `${approvers.count} approval${approvers.count === 1 ? '' : 's'} from ${sources}${minimums}${limit}${glass}`;
}
