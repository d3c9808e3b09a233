import {
  KubernetesValidatorFunctions,
  parseEntityRef,
  RELATION_API_CONSUMED_BY,
  RELATION_API_PROVIDED_BY,
  RELATION_CHILD_OF,
  RELATION_CONSUMES_API,
  RELATION_DEPENDENCY_OF,
  RELATION_DEPENDS_ON,
  RELATION_HAS_MEMBER,
  RELATION_HAS_PART,
  RELATION_MEMBER_OF,
  RELATION_OWNED_BY,
  RELATION_OWNER_OF,
  RELATION_PARENT_OF,
  RELATION_PART_OF,
  RELATION_PROVIDES_API,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { formatField } from './ingestion/issues.js';

/** A spec field that holds entity references, and the relations it produces. */
export interface RelationField {
  /** Key under `spec`, such as `owner`. */
  key: string;
  /** Kind assumed when a reference names none; without it, the kind is required. */
  defaultKind?: string;
  /** Relation from the entity to the target, such as `ownedBy`. */
  forward: string;
  /** Relation from the target back to the entity, such as `ownerOf`. */
  reverse: string;
}

const owner: RelationField = {
  key: 'owner',
  defaultKind: 'Group',
  forward: RELATION_OWNED_BY,
  reverse: RELATION_OWNER_OF,
};
const system: RelationField = {
  key: 'system',
  defaultKind: 'System',
  forward: RELATION_PART_OF,
  reverse: RELATION_HAS_PART,
};
const dependsOn: RelationField = {
  key: 'dependsOn',
  forward: RELATION_DEPENDS_ON,
  reverse: RELATION_DEPENDENCY_OF,
};
const dependencyOf: RelationField = {
  key: 'dependencyOf',
  forward: RELATION_DEPENDENCY_OF,
  reverse: RELATION_DEPENDS_ON,
};

/**
 * The reference fields of each kind and their relations, as Backstage's
 * BuiltinKindsEntityProcessor (plugins/catalog-backend) emits them. Template
 * follows the scaffolder backend's ScaffolderEntitiesProcessor, which emits
 * ownership only. NOTE: this catalog stores v1beta3 Templates even without a
 * scaffolder, unlike a Backstage catalog without the scaffolder module, so
 * their owners also get `ownerOf` relations such a Backstage would not show.
 */
export const RELATION_FIELDS: Readonly<Record<string, readonly RelationField[]>> = {
  Component: [
    owner,
    {
      key: 'subcomponentOf',
      defaultKind: 'Component',
      forward: RELATION_PART_OF,
      reverse: RELATION_HAS_PART,
    },
    {
      key: 'providesApis',
      defaultKind: 'API',
      forward: RELATION_PROVIDES_API,
      reverse: RELATION_API_PROVIDED_BY,
    },
    {
      key: 'consumesApis',
      defaultKind: 'API',
      forward: RELATION_CONSUMES_API,
      reverse: RELATION_API_CONSUMED_BY,
    },
    dependsOn,
    dependencyOf,
    system,
  ],
  API: [owner, system],
  Resource: [owner, dependsOn, dependencyOf, system],
  User: [
    {
      key: 'memberOf',
      defaultKind: 'Group',
      forward: RELATION_MEMBER_OF,
      reverse: RELATION_HAS_MEMBER,
    },
  ],
  Group: [
    {
      key: 'parent',
      defaultKind: 'Group',
      forward: RELATION_CHILD_OF,
      reverse: RELATION_PARENT_OF,
    },
    {
      key: 'children',
      defaultKind: 'Group',
      forward: RELATION_PARENT_OF,
      reverse: RELATION_CHILD_OF,
    },
    {
      key: 'members',
      defaultKind: 'User',
      forward: RELATION_HAS_MEMBER,
      reverse: RELATION_MEMBER_OF,
    },
  ],
  System: [
    owner,
    { key: 'domain', defaultKind: 'Domain', forward: RELATION_PART_OF, reverse: RELATION_HAS_PART },
  ],
  Domain: [
    owner,
    {
      key: 'subdomainOf',
      defaultKind: 'Domain',
      forward: RELATION_PART_OF,
      reverse: RELATION_HAS_PART,
    },
  ],
  Template: [owner],
};

/** One relation row, emitted while processing `sourceRef` or its target. */
export interface DerivedRelation {
  sourceRef: string;
  type: string;
  targetRef: string;
  /** Path of the reference in the entity that emitted it, such as `['spec', 'dependsOn', 0]`. */
  path: Array<string | number>;
}

/** A reference that could not become a relation, or that can never match an entity. */
export interface ReferenceProblem {
  severity: 'error' | 'warning';
  path: Array<string | number>;
  value: unknown;
  message: string;
}

/** The parts of an entity that relations are derived from. */
export interface RelationSource {
  apiVersion?: unknown;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: unknown;
}

/**
 * Derives the relations of an entity in both directions. A reference that does
 * not parse is an error on that field: a bare name where the field has no
 * default kind, an empty string, or a value that is not a string. A reference
 * whose name breaks the naming rules is kept as a relation and reported as a
 * warning, because Backstage stores it too.
 */
export function deriveRelations(entity: RelationSource): {
  relations: DerivedRelation[];
  problems: ReferenceProblem[];
} {
  const relations: DerivedRelation[] = [];
  const problems: ReferenceProblem[] = [];
  const fields = relationFieldsOf(entity);
  const spec = entity.spec;
  if (fields.length === 0 || spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    return { relations, problems };
  }

  const namespace = entity.metadata.namespace ?? 'default';
  const selfRef = stringifyEntityRef({ kind: entity.kind, namespace, name: entity.metadata.name });

  for (const field of fields) {
    const value = (spec as Record<string, unknown>)[field.key];
    if (value === undefined || value === null || value === '') {
      // Backstage skips a falsy value; the kind's schema reports an empty string.
      continue;
    }

    const items: Array<{ value: unknown; path: Array<string | number> }> = Array.isArray(value)
      ? value.map((item, index) => ({ value: item, path: ['spec', field.key, index] }))
      : [{ value, path: ['spec', field.key] }];

    for (const item of items) {
      const target = parseReference(item.value, field, namespace, item.path, problems);
      if (!target) {
        continue;
      }
      relations.push({
        sourceRef: selfRef,
        type: field.forward,
        targetRef: target,
        path: item.path,
      });
      relations.push({
        sourceRef: target,
        type: field.reverse,
        targetRef: selfRef,
        path: item.path,
      });
    }
  }
  return { relations, problems };
}

/** Returns the reference fields that apply to an entity of this kind and apiVersion. */
export function relationFieldsOf(entity: {
  apiVersion?: unknown;
  kind: string;
}): readonly RelationField[] {
  if (entity.kind === 'Template' && entity.apiVersion !== 'scaffolder.backstage.io/v1beta3') {
    return [];
  }
  return RELATION_FIELDS[entity.kind] ?? [];
}

function parseReference(
  value: unknown,
  field: RelationField,
  namespace: string,
  path: Array<string | number>,
  problems: ReferenceProblem[],
): string | undefined {
  const fieldName = formatField(path);
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push({
      severity: 'error',
      path,
      value,
      message: `${fieldName} ${JSON.stringify(value)} is not an entity reference: write it as [<kind>:][<namespace>/]<name>, such as 'group:default/team-a'`,
    });
    return undefined;
  }

  let parsed: { kind: string; namespace: string; name: string };
  try {
    parsed = parseEntityRef(value, {
      ...(field.defaultKind ? { defaultKind: field.defaultKind } : {}),
      defaultNamespace: namespace,
    });
  } catch {
    problems.push({
      severity: 'error',
      path,
      value,
      message: field.defaultKind
        ? `${fieldName} '${value}' is not an entity reference: write it as [<kind>:][<namespace>/]<name>, such as '${field.defaultKind.toLowerCase()}:default/name'`
        : `${fieldName} '${value}' names no kind, and spec.${field.key} has no default kind: write the kind in front, such as 'component:${value}' or 'resource:${value}'`,
    });
    return undefined;
  }

  const targetRef = stringifyEntityRef(parsed);
  if (
    !KubernetesValidatorFunctions.isValidObjectName(parsed.name) ||
    !KubernetesValidatorFunctions.isValidNamespace(parsed.namespace) ||
    !KubernetesValidatorFunctions.isValidKind(parsed.kind)
  ) {
    problems.push({
      severity: 'warning',
      path,
      value,
      message: `${fieldName} '${value}' refers to ${targetRef}, which breaks the entity naming rules, so no entity can ever match it: replace it with the reference of an existing entity`,
    });
  }
  return targetRef;
}
