import type { FastifyRequest } from 'fastify';
import {
  type ConditionCriteria,
  type Decision,
  type PermissionCondition,
  type PermissionRegistry,
  type Principal,
  parseRuleParams,
  reduceCriteria,
} from '../../permissions/index.js';
import type { EntityFilter } from './entity-filter.js';
import { CATALOG_ENTITY_READ, CATALOG_ENTITY_RESOURCE_TYPE } from './permissions.js';

/** The part of the permission service that decides a permission for a principal. */
export interface PermissionAuthorizer {
  authorize(principal: Principal, permission: string): Decision;
}

/** Nothing is readable: the filter of a denied request. */
const NOTHING: EntityFilter = { anyOf: [] };

/** Turns permission criteria into a filter through each rule's `toQuery`. */
export function criteriaToEntityFilter(
  criteria: ConditionCriteria,
  registry: PermissionRegistry,
): EntityFilter {
  return reduceCriteria<PermissionCondition, EntityFilter>(criteria, {
    condition(condition) {
      const rule = registry.getRule(CATALOG_ENTITY_RESOURCE_TYPE, condition.rule);
      if (!rule) {
        // Roles are validated when they load, so this is a programming error, and failing closed is safe.
        throw new Error(
          `Rule ${condition.rule} is not registered for ${CATALOG_ENTITY_RESOURCE_TYPE}`,
        );
      }
      return rule.toQuery(parseRuleParams(rule, condition.params)) as EntityFilter;
    },
    allOf: (items) => ({ allOf: items }),
    anyOf: (items) => ({ anyOf: items }),
    not: (item) => ({ not: item }),
  });
}

/**
 * Returns the filter that limits a request to the entities its principal may
 * read, or undefined when every entity is readable. The HTTP layer has already
 * rejected an outright DENY with 403 and put the decision on the request.
 */
export function readableEntityFilter(
  request: FastifyRequest,
  registry: PermissionRegistry,
): EntityFilter | undefined {
  const decision = request.decision;
  if (!decision) {
    throw new Error(
      `Route ${request.routeOptions.url} has no permission decision: declare config.access.permission`,
    );
  }
  return filterOfDecision(decision, registry);
}

/**
 * Decides catalog.entity.read for the signed-in user of a route that requires
 * another permission (the location routes), and returns the filter as
 * readableEntityFilter does: undefined when every entity is readable.
 */
export function decideReadableEntities(
  request: FastifyRequest,
  permissions: PermissionAuthorizer,
  registry: PermissionRegistry,
): EntityFilter | undefined {
  const principal = request.principal;
  if (!principal) {
    throw new Error(`Route ${request.routeOptions.url} has no principal: it must not be public`);
  }
  return filterOfDecision(permissions.authorize(principal, CATALOG_ENTITY_READ), registry);
}

function filterOfDecision(
  decision: Decision,
  registry: PermissionRegistry,
): EntityFilter | undefined {
  if (decision.result === 'ALLOW') {
    return undefined;
  }
  if (decision.result === 'DENY') {
    return NOTHING;
  }
  if (decision.resourceType !== CATALOG_ENTITY_RESOURCE_TYPE) {
    throw new Error(
      `Decision for resource type ${decision.resourceType} cannot filter catalog entities`,
    );
  }
  return criteriaToEntityFilter(decision.conditions, registry);
}
