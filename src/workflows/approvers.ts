import type { Entity } from '@backstage/catalog-model';
import { CATALOG_ENTITY_READ } from '../catalog/api/index.js';
import type { Decision, Principal } from '../permissions/index.js';
import { isOwner } from './rule-matching.js';
import type { ApprovalRule, ApproverMinimum, ApproverSource } from './rules-file.js';

/** The part of the permission service the engine uses. */
export interface RequestAuthorizer {
  authorize(principal: Principal, permission: string, resource?: unknown): Decision;
}

/**
 * Whether an approver may decide a request now, and why not. `sources` are
 * the keys of the rule's sources that the approver belongs to (`owners` or
 * a group reference), which minimums count against.
 */
export type ApproverCheck =
  | { allowed: true; sources: string[] }
  | { allowed: false; reason: string };

/**
 * Checks one approver against a request at this moment: never the requester,
 * the approve permission must allow them for the entity, and the rule must
 * name them (owner of the entity or member of a named group).
 */
export function checkApprover(options: {
  principal: Principal;
  requester: string;
  rule: ApprovalRule | null;
  entity: Entity | undefined;
  approvePermission: string;
  permissions: RequestAuthorizer;
}): ApproverCheck {
  const { principal, rule, entity } = options;

  if (principal.userEntityRef === options.requester) {
    return {
      allowed: false,
      reason: 'the requester never counts as an approver of their own request',
    };
  }
  if (!rule?.approvals) {
    return { allowed: false, reason: 'the request needs no approvals' };
  }

  const decision = options.permissions.authorize(principal, options.approvePermission, entity);
  if (decision.result !== 'ALLOW') {
    // The entity is named only to those who may read it, so a caller who
    // guesses a request id learns nothing about a hidden entity.
    const readable =
      entity !== undefined &&
      options.permissions.authorize(principal, CATALOG_ENTITY_READ, entity).result === 'ALLOW';
    return {
      allowed: false,
      reason: `permission ${options.approvePermission} is not granted to ${principal.userEntityRef}${readable ? ` for ${entityRefOf(entity)}` : ''}`,
    };
  }

  const sources = rule.approvals.from.filter((source) => isInSource(principal, source, entity));
  if (sources.length === 0) {
    return {
      allowed: false,
      reason: `rule ${rule.id} takes approvals only from ${describeApprovers(rule.approvals.from)}`,
    };
  }
  return { allowed: true, sources: [...new Set(sources.map(sourceKey))] };
}

/** Returns the key of a source as approvals store it: `owners` or the group reference. */
export function sourceKey(source: ApproverSource): string {
  return source === 'owners' ? 'owners' : source.group;
}

/**
 * Returns the minimums that the approvals do not meet, with how many more
 * each needs; empty when they are all met. Each approval is the list of
 * source keys its approver belonged to, and counts for one source only, so
 * this looks for an assignment of approvers to sources (a bipartite
 * matching) that fills every minimum.
 */
export function unmetMinimums(
  minimums: readonly ApproverMinimum[],
  approvals: ReadonlyArray<readonly string[]>,
): Array<{ source: ApproverSource; missing: number }> {
  const slots = minimums.flatMap((minimum, index) =>
    Array.from({ length: minimum.count }, () => ({ index, key: sourceKey(minimum.source) })),
  );
  // slotOwner[slot] is the approval filling it; augmenting paths move earlier approvals.
  const slotOwner: Array<number | undefined> = slots.map(() => undefined);
  const assign = (approval: number, visited: Set<number>): boolean => {
    for (let slot = 0; slot < slots.length; slot += 1) {
      if (visited.has(slot) || !approvals[approval]?.includes(slots[slot]?.key ?? '')) {
        continue;
      }
      visited.add(slot);
      const current = slotOwner[slot];
      if (current === undefined || assign(current, visited)) {
        slotOwner[slot] = approval;
        return true;
      }
    }
    return false;
  };
  approvals.forEach((_, approval) => {
    assign(approval, new Set());
  });

  return minimums
    .map((minimum, index) => ({
      source: minimum.source,
      missing: slots.filter((slot, at) => slot.index === index && slotOwner[at] === undefined)
        .length,
    }))
    .filter((item) => item.missing > 0);
}

/**
 * Returns whether one more approval, from an approver in the sources with
 * these keys, moves a request forward: the rule's count leaves room beyond
 * what the unmet minimums still need, or the approval fills an unmet minimum.
 */
export function approvalWouldCount(
  minimums: readonly ApproverMinimum[],
  count: number,
  approvals: ReadonlyArray<readonly string[]>,
  sources: readonly string[],
): boolean {
  const missingBefore = totalMissing(unmetMinimums(minimums, approvals));
  if (approvals.length + missingBefore < count) {
    return true;
  }
  return totalMissing(unmetMinimums(minimums, [...approvals, sources])) < missingBefore;
}

function totalMissing(unmet: ReadonlyArray<{ missing: number }>): number {
  return unmet.reduce((sum, item) => sum + item.missing, 0);
}

function isInSource(
  principal: Principal,
  source: ApproverSource,
  entity: Entity | undefined,
): boolean {
  if (source === 'owners') {
    return isOwner(principal, entity);
  }
  return principal.groupEntityRefs.some((ref) => ref.toLocaleLowerCase('en-US') === source.group);
}

/** Names the approvers of a rule for messages: `the owners of the entity or group:default/sre-team`. */
export function describeApprovers(sources: readonly ApproverSource[]): string {
  return sources
    .map((source) => (source === 'owners' ? 'the owners of the entity' : source.group))
    .join(' or ');
}

function entityRefOf(entity: Entity): string {
  return `${entity.kind}:${entity.metadata.namespace ?? 'default'}/${entity.metadata.name}`.toLocaleLowerCase(
    'en-US',
  );
}
