import type { Entity } from '@backstage/catalog-model';
import type { Decision, Principal } from '../permissions/index.js';
import { isOwner } from './rule-matching.js';
import type { ApprovalRule, ApproverSource } from './rules-file.js';

/** The part of the permission service the engine uses. */
export interface RequestAuthorizer {
  authorize(principal: Principal, permission: string, resource?: unknown): Decision;
}

/** Whether an approver may decide a request now, and why not. */
export type ApproverCheck = { allowed: true } | { allowed: false; reason: string };

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
    return {
      allowed: false,
      reason: `permission ${options.approvePermission} is not granted to ${principal.userEntityRef}${entity ? ` for ${entityRefOf(entity)}` : ''}`,
    };
  }

  if (!rule.approvals.from.some((source) => isInSource(principal, source, entity))) {
    return {
      allowed: false,
      reason: `rule ${rule.id} takes approvals only from ${describeApprovers(rule.approvals.from)}`,
    };
  }
  return { allowed: true };
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
