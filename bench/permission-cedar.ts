import type { Entity } from '@backstage/catalog-model';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type {
  ConditionCriteria,
  PermissionCondition,
  RolesFile,
} from '../src/permissions/index.js';
import type { Organisation } from '../src/permissions/organisation.js';

/**
 * The roles, users and groups in Cedar 4 (@cedar-policy/cedar-wasm 4.x).
 * Roles are entities, and a role member has the role among its parents, as
 * a `g` line makes it a member in casbin. Each grant becomes one `permit` or
 * `forbid` policy on `principal in Role::"<name>"`. Catalog entities carry
 * the attributes the conditions read, in lowercase because the catalog rules
 * compare without case. Basic permissions use one `Portal` resource.
 */
export const CEDAR_SCHEMA = `
entity Role;
entity Group in [Group, Role];
entity User in [Group, Role];
entity Portal;
entity CatalogEntity = {
  kind: String,
  owner?: Group,
  lifecycle?: String,
  specType?: String,
  tags: Set<String>,
  tier?: String,
};
action "catalog.entity.read" appliesTo { principal: [User], resource: [CatalogEntity] };
action "catalog.location.read" appliesTo { principal: [User], resource: [Portal] };
action "permission.policy.read" appliesTo { principal: [User], resource: [Portal] };
`;

const POLICY_SET_ID = 'bench-roles';
const SCHEMA_NAME = 'bench-schema';
const PORTAL = { type: 'Portal', id: 'portal' };

type CedarEntity = cedar.EntityJson;

/** Translates the catalog-entity conditions that the benchmark roles use into a Cedar expression. */
export function toCedarExpression(criteria: ConditionCriteria): string {
  if ('allOf' in criteria) {
    return `(${criteria.allOf.map(toCedarExpression).join(' && ')})`;
  }
  if ('anyOf' in criteria) {
    return `(${criteria.anyOf.map(toCedarExpression).join(' || ')})`;
  }
  if ('not' in criteria) {
    return `!${toCedarExpression(criteria.not)}`;
  }
  return conditionToCedar(criteria as PermissionCondition);
}

function conditionToCedar(condition: PermissionCondition): string {
  const params = condition.params ?? {};
  const text = (value: unknown) => JSON.stringify(String(value).toLowerCase());

  switch (condition.rule) {
    case 'IS_ENTITY_OWNER': {
      const claims = params.claims as string[];
      const parts: string[] = [];
      // `$ownerRefs` is the user and every group above them, which is what Cedar's `in` walks.
      if (claims.includes('$ownerRefs')) {
        parts.push('(resource has owner && principal in resource.owner)');
      }
      const named = claims.filter((claim) => claim !== '$ownerRefs');
      if (named.length > 0) {
        const groups = named.map((claim) => `Group::${text(claim)}`).join(', ');
        parts.push(`(resource has owner && [${groups}].contains(resource.owner))`);
      }
      return parts.length === 1 ? parts[0]! : `(${parts.join(' || ')})`;
    }
    case 'IS_ENTITY_KIND':
      return `[${(params.kinds as string[]).map(text).join(', ')}].contains(resource.kind)`;
    case 'HAS_SPEC': {
      const attribute = { lifecycle: 'lifecycle', type: 'specType' }[String(params.key)];
      if (!attribute) {
        throw new Error(`HAS_SPEC key '${String(params.key)}' has no Cedar attribute`);
      }
      return params.value === undefined
        ? `resource has ${attribute}`
        : `(resource has ${attribute} && resource.${attribute} == ${text(params.value)})`;
    }
    case 'HAS_METADATA':
      if (params.key !== 'tags' || params.value === undefined) {
        throw new Error(`HAS_METADATA key '${String(params.key)}' has no Cedar attribute`);
      }
      return `resource.tags.contains(${text(params.value)})`;
    case 'HAS_LABEL':
      if (params.label !== 'tier') {
        throw new Error(`HAS_LABEL label '${String(params.label)}' has no Cedar attribute`);
      }
      return 'resource has tier';
    default:
      throw new Error(`Rule ${condition.rule} has no Cedar translation`);
  }
}

/** Translates each grant into one Cedar policy with the id `<role>.<grant index>`. */
export function toCedarPolicies(roles: RolesFile): Record<string, string> {
  const policies: Record<string, string> = {};
  for (const role of roles.roles) {
    role.grants.forEach((grant, index) => {
      const effect = grant.effect === 'deny' ? 'forbid' : 'permit';
      const scope = `principal in Role::${JSON.stringify(role.name)}, action == Action::${JSON.stringify(grant.permission)}, resource`;
      const when = grant.conditions ? ` when { ${toCedarExpression(grant.conditions)} }` : '';
      policies[`${role.name}.${index}`] = `${effect} (${scope})${when};`;
    });
  }
  return policies;
}

/** Builds the Cedar entity of a catalog entity, with the attributes the conditions read. */
export function toCedarResource(entity: Entity): CedarEntity {
  const spec = entity.spec ?? {};
  const owner = entity.relations?.find((relation) => relation.type === 'ownedBy')?.targetRef;
  const attrs: Record<string, cedar.CedarValueJson> = {
    kind: entity.kind.toLowerCase(),
    tags: (entity.metadata.tags ?? []).map((tag) => tag.toLowerCase()),
  };
  if (owner) attrs.owner = { __entity: { type: 'Group', id: owner } };
  if (typeof spec.lifecycle === 'string') attrs.lifecycle = spec.lifecycle.toLowerCase();
  if (typeof spec.type === 'string') attrs.specType = spec.type.toLowerCase();
  const tier = entity.metadata.labels?.tier;
  if (tier !== undefined) attrs.tier = tier.toLowerCase();
  return { uid: { type: 'CatalogEntity', id: resourceId(entity) }, attrs, parents: [] };
}

function resourceId(entity: Entity): string {
  return `${entity.kind}:${entity.metadata.namespace ?? 'default'}/${entity.metadata.name}`.toLowerCase();
}

/** A prepared Cedar request: the call object is built once, as a caller would cache it. */
export type CedarRequest = cedar.StatefulAuthorizationCall;

/**
 * Cedar's stateful API: the policy set and schema are parsed once into the
 * module's cache, and each call names them by id. Entities have no cached
 * form in cedar-wasm 4.x, so every call carries the principal's user, groups
 * and roles and the resource.
 */
export class CedarAuthorizer {
  private readonly rolesOfMember = new Map<string, string[]>();
  private readonly principalEntities = new Map<string, CedarEntity[]>();

  constructor(
    roles: RolesFile,
    private readonly organisation: Organisation,
    private readonly groupParents: ReadonlyMap<string, readonly string[]>,
  ) {
    for (const role of roles.roles) {
      for (const member of role.members) {
        const ref = member.toLowerCase();
        this.rolesOfMember.set(ref, [...(this.rolesOfMember.get(ref) ?? []), role.name]);
      }
    }
    const schema = cedar.preparseSchema(SCHEMA_NAME, CEDAR_SCHEMA);
    if (schema.type !== 'success') {
      throw new Error(`Cedar schema is invalid: ${schema.errors.map((e) => e.message).join('; ')}`);
    }
    const policies = cedar.preparsePolicySet(POLICY_SET_ID, {
      staticPolicies: toCedarPolicies(roles),
    });
    if (policies.type !== 'success') {
      throw new Error(
        `Cedar policies are invalid: ${policies.errors.map((e) => e.message).join('; ')}`,
      );
    }
  }

  /** Builds the call for one request; `withSchema` names the preparsed schema, which validates the request and entities. */
  prepare(
    userRef: string,
    permission: string,
    entity: Entity | undefined,
    withSchema: boolean,
  ): CedarRequest {
    const resource = entity ? toCedarResource(entity) : undefined;
    const entities = [...this.entitiesOfPrincipal(userRef), ...(resource ? [resource] : [])];
    return {
      principal: { type: 'User', id: userRef },
      action: { type: 'Action', id: permission },
      resource: resource ? resource.uid : PORTAL,
      context: {},
      preparsedPolicySetId: POLICY_SET_ID,
      ...(withSchema
        ? { preparsedSchemaName: SCHEMA_NAME, validateRequest: true }
        : { validateRequest: false }),
      entities,
    };
  }

  /** Returns true for allow; an evaluation error in any policy is an exception, so it cannot pass as a deny. */
  authorize(request: CedarRequest): boolean {
    const answer = cedar.statefulIsAuthorized(request);
    if (answer.type !== 'success') {
      throw new Error(`Cedar failed: ${answer.errors.map((e) => e.message).join('; ')}`);
    }
    if (answer.response.diagnostics.errors.length > 0) {
      const first = answer.response.diagnostics.errors[0]!;
      throw new Error(`Cedar policy ${first.policyId} failed: ${first.error.message}`);
    }
    return answer.response.decision === 'allow';
  }

  private entitiesOfPrincipal(userRef: string): CedarEntity[] {
    const known = this.principalEntities.get(userRef);
    if (known) {
      return known;
    }
    const roleParents = (ref: string) =>
      (this.rolesOfMember.get(ref) ?? []).map((name) => ({ type: 'Role', id: name }));
    const groups = this.organisation.groupsOfUser.get(userRef) ?? [];
    const direct = this.organisation.directGroupsOfUser.get(userRef) ?? [];
    const roleNames = new Set<string>();
    const entities: CedarEntity[] = [
      {
        uid: { type: 'User', id: userRef },
        attrs: {},
        parents: [...direct.map((id) => ({ type: 'Group', id })), ...roleParents(userRef)],
      },
    ];
    for (const ref of [userRef, ...groups]) {
      for (const name of this.rolesOfMember.get(ref) ?? []) roleNames.add(name);
    }
    for (const group of groups) {
      entities.push({
        uid: { type: 'Group', id: group },
        attrs: {},
        parents: [
          ...(this.groupParents.get(group) ?? []).map((id: string) => ({ type: 'Group', id })),
          ...roleParents(group),
        ],
      });
    }
    for (const name of roleNames) {
      entities.push({ uid: { type: 'Role', id: name }, attrs: {}, parents: [] });
    }
    this.principalEntities.set(userRef, entities);
    return entities;
  }
}
