import type { Entity } from '@backstage/catalog-model';
import type { Principal } from '../permissions/index.js';
import { normalizeEntityRef } from './entity-ref.js';
import type { ApprovalRule, ApprovalRulesFile, RuleMatch } from './rules-file.js';

/** The facts of a request that approval rules match on. */
export interface RequestFacts {
  type: string;
  environment: string | undefined;
  /** The request's entity as the catalog stores it; undefined for a type without one. */
  entity: Entity | undefined;
  requester: Principal;
}

/** Returns the first rule that matches, or undefined when none does. */
export function findMatchingRule(
  rules: ApprovalRulesFile,
  facts: RequestFacts,
): ApprovalRule | undefined {
  return rules.rules.find((rule) => matchesRule(rule.match, facts));
}

/** True when every field that the match sets agrees with the request. */
export function matchesRule(match: RuleMatch, facts: RequestFacts): boolean {
  const entity = facts.entity;

  if (match.types && !match.types.includes(facts.type)) {
    return false;
  }
  if (match.environments && !includesValue(match.environments, facts.environment)) {
    return false;
  }

  if (match.lifecycles && !includesValue(match.lifecycles, stringField(entity?.spec?.lifecycle))) {
    return false;
  }
  if (match.kinds && !includesValue(match.kinds, entity?.kind)) {
    return false;
  }
  if (match.systems && !includesValue(match.systems, systemOf(entity))) {
    return false;
  }
  if (match.labels) {
    const labels = entity?.metadata.labels ?? {};
    for (const [key, value] of Object.entries(match.labels)) {
      if (labels[key] !== value) {
        return false;
      }
    }
  }

  if (match.requesterOwnsEntity !== undefined) {
    const owns = isOwner(facts.requester, entity);
    if (owns !== match.requesterOwnsEntity) {
      return false;
    }
  }
  return true;
}

/**
 * Returns the owner references of an entity, lowercase: the targets of its ownedBy
 * relations, or spec.owner when the entity carries no relations.
 */
export function ownersOf(entity: Entity | undefined): string[] {
  if (!entity) {
    return [];
  }
  const fromRelations = (entity.relations ?? [])
    .filter((relation) => relation.type === 'ownedBy')
    .map((relation) => relation.targetRef.toLocaleLowerCase('en-US'));
  if (fromRelations.length > 0) {
    return [...new Set(fromRelations)];
  }
  const owner = stringField(entity.spec?.owner);
  const ref = owner ? normalizeEntityRef(owner, { defaultKind: 'group' }) : undefined;
  return ref ? [ref] : [];
}

/** True when one of the principal's ownership references owns the entity. */
export function isOwner(principal: Principal, entity: Entity | undefined): boolean {
  const owners = ownersOf(entity);
  return principal.ownershipEntityRefs.some((ref) =>
    owners.includes(ref.toLocaleLowerCase('en-US')),
  );
}

function systemOf(entity: Entity | undefined): string | undefined {
  const system = stringField(entity?.spec?.system);
  return system ? normalizeEntityRef(system, { defaultKind: 'system' }) : undefined;
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function includesValue(values: readonly string[], value: string | undefined): boolean {
  return value !== undefined && values.includes(value.toLocaleLowerCase('en-US'));
}
