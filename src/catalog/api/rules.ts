import {
  type Entity,
  makeValidator,
  parseEntityRef,
  RELATION_OWNED_BY,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { z } from 'zod';
import {
  type CompilablePermissionRule,
  type PermissionRule,
  type PrincipalClaims,
  splitClaimAliases,
} from '../../permissions/index.js';
import type { EntityFilter } from './entity-filter.js';
import { CATALOG_ENTITY_RESOURCE_TYPE } from './permissions.js';
import { searchRowCheck } from './search-row-lookup.js';

/**
 * The catalog-entity rules under Backstage's names and parameter shapes
 * (plugins/catalog-backend/src/permissions/rules in backstage/backstage).
 *
 * Each `apply` selects the same entities as the SQL filter built from
 * `toQuery`, which reads the search table and the relations table. Backstage's own
 * `apply` differs from its SQL in places (HAS_METADATA compares the raw value
 * case-sensitively, for example); here both compare without case and see
 * arrays, long values and long keys exactly as the search table stores them.
 */

/** An entity as the API returns it: the stored body plus its outgoing relations. */
export type CatalogEntity = Entity;

/**
 * A catalog-entity rule. `compile` and `apply` share one implementation, so
 * the prepared check decides as `apply` does.
 */
export type CatalogPermissionRule<TParams> = PermissionRule<CatalogEntity, EntityFilter, TParams> &
  CompilablePermissionRule<CatalogEntity, TParams>;

type EntityCheck = (entity: CatalogEntity) => boolean;

function lower(value: string): string {
  return value.toLocaleLowerCase('en-US');
}

/**
 * Returns lower(value). ASCII text, which every locale lowercases the same
 * way, takes toLowerCase: on Node.js 20, toLocaleLowerCase with a locale took
 * about ten times as long for a new string (about 3 µs against 0.3 µs on a
 * busy 2-core Xeon).
 */
function lowercased(value: string): string {
  let capitals = false;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code >= 0x80) {
      return lower(value);
    }
    if (code >= 0x41 && code <= 0x5a) {
      capitals = true;
    }
  }
  return capitals ? value.toLowerCase() : value;
}

/**
 * Returns lower(a) === lower(b), comparing ASCII text in place instead of
 * lowercasing copies, because the rules run for every entity of a decision.
 */
function equalsIgnoringCase(a: string, b: string): boolean {
  const shorter = Math.min(a.length, b.length);
  for (let index = 0; index < shorter; index++) {
    let x = a.charCodeAt(index);
    let y = b.charCodeAt(index);
    if (x >= 0x80 || y >= 0x80) {
      return lower(a) === lower(b);
    }
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x !== y) {
      return false;
    }
  }
  if (a.length === b.length) {
    return true;
  }
  // The shorter text is ASCII. Unless the longer one has other characters
  // further on, the lowercase forms keep the different lengths.
  const longer = a.length > b.length ? a : b;
  for (let index = shorter; index < longer.length; index++) {
    if (longer.charCodeAt(index) >= 0x80) {
      return lower(a) === lower(b);
    }
  }
  return false;
}

/** Checks that the entity's search rows contain the key, with the value when one is given. */
function searchEntryCheck(key: string, value: string | undefined): EntityCheck {
  const wantedKey = lowercased(key);
  const wantedValue = value === undefined ? undefined : lowercased(value);
  return searchRowCheck(wantedKey, wantedValue);
}

function searchFilter(key: string, value: string | undefined): EntityFilter {
  return value === undefined ? { key: lower(key) } : { key: lower(key), values: [lower(value)] };
}

/** Backstage's rules for kinds, namespaces and names, which every stored entity passes. */
const validator = makeValidator();

const claimText = z.string({
  error: 'each claim must be text: write an entity reference such as group:default/team-a',
});

/**
 * An owner reference in a claim: parsed and written in full and in lowercase
 * (`group:team-a` becomes `group:default/team-a`), as relation targets are
 * stored. A claim without a kind or with an invalid part is rejected, because
 * it could never match an owner.
 */
const ownerClaim = claimText.transform((value, context) => {
  let ref: { kind: string; namespace: string; name: string };
  try {
    ref = parseEntityRef(value);
  } catch {
    context.addIssue({
      code: 'custom',
      message: `claim '${value}' is not an entity reference with a kind: write <kind>:[<namespace>/]<name> such as group:default/team-a, or use $ownerRefs or $currentUser`,
    });
    return z.NEVER;
  }
  if (
    !validator.isValidKind(ref.kind) ||
    !validator.isValidNamespace(lowercased(ref.namespace)) ||
    !validator.isValidEntityName(ref.name)
  ) {
    context.addIssue({
      code: 'custom',
      message: `claim '${value}' has an invalid kind, namespace or name: kinds are letters and digits, names and namespaces letters, digits, '-', '_' and '.' (such as group:default/team-a)`,
    });
    return z.NEVER;
  }
  return lowercased(stringifyEntityRef(ref));
});

const claimsParams = z
  .object({
    claims: z
      .array(ownerClaim, {
        error: 'claims must be a list: write [group:default/team-a] or [$ownerRefs]',
      })
      .describe('Entity references of owners, such as group:default/team-a; any one matches'),
  })
  .strict();

/** A key such as an annotation name or a dotted field path: not empty, not only spaces. */
function keyParam(what: string, example: string) {
  return z
    .string()
    .refine((value) => value.trim().length > 0, `${what} is empty: name one, such as ${example}`);
}

function ownerCheck({ claims }: z.infer<typeof claimsParams>): EntityCheck {
  const wanted = new Set(claims.map(lowercased));
  return (entity) => {
    for (const relation of entity.relations ?? []) {
      const { type, targetRef } = relation;
      if (
        (type === RELATION_OWNED_BY || equalsIgnoringCase(type, RELATION_OWNED_BY)) &&
        hasLowercased(wanted, targetRef)
      ) {
        return true;
      }
    }
    return false;
  };
}

/**
 * Returns set.has(lowercased(value)) for a set of lowercase texts. A value in
 * the set as it is needs no lowercasing, because lowercasing a lowercase text
 * changes nothing.
 */
function hasLowercased(set: ReadonlySet<string>, value: string): boolean {
  if (set.has(value)) {
    return true;
  }
  const lowercase = lowercased(value);
  return lowercase !== value && set.has(lowercase);
}

/**
 * Prepares ownerCheck for claims that may list `$ownerRefs` and
 * `$currentUser`: the written claims are parsed once, and the aliases are
 * looked up in the principal's claims for each entity. Returns undefined
 * when the parameters are not an object with a list of claims (or the lone
 * `$ownerRefs`), or when the schema rejects the written claims.
 */
function ownerCheckWithAliases(
  params: Record<string, unknown> | undefined,
): ((entity: CatalogEntity, claims: PrincipalClaims) => boolean) | undefined {
  const split = splitClaimAliases(params?.claims);
  const parsed = split && claimsParams.safeParse({ ...params, claims: split.written });
  if (!split || !parsed?.success) {
    return undefined;
  }
  const writtenClaims = new Set(parsed.data.claims.map(lowercased));
  const { ownerRefs, currentUser } = split;
  const isClaimed = (target: string, claims: PrincipalClaims) =>
    writtenClaims.has(target) ||
    (ownerRefs && claims.hasOwnershipRef(target)) ||
    (currentUser && target === claims.userEntityRef);
  return (entity, claims) => {
    for (const relation of entity.relations ?? []) {
      const { type, targetRef } = relation;
      if (type !== RELATION_OWNED_BY && !equalsIgnoringCase(type, RELATION_OWNED_BY)) {
        continue;
      }
      if (isClaimed(targetRef, claims)) {
        return true;
      }
      // A target in lowercase already needs no second look-up.
      const lowercase = lowercased(targetRef);
      if (lowercase !== targetRef && isClaimed(lowercase, claims)) {
        return true;
      }
    }
    return false;
  };
}

export const isEntityOwner: CatalogPermissionRule<z.infer<typeof claimsParams>> = {
  name: 'IS_ENTITY_OWNER',
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
  description: 'Allow entities owned by one of the claims (an ownedBy relation to it)',
  paramsSchema: claimsParams,
  apply: (entity, params) => ownerCheck(params)(entity),
  compile: ownerCheck,
  compileWithAliases: ownerCheckWithAliases,
  toQuery({ claims }) {
    return { key: `relations.${RELATION_OWNED_BY}`, values: claims.map(lower) };
  },
};

const kindsParams = z
  .object({
    kinds: z
      .array(
        z.string().superRefine((value, context) => {
          if (!validator.isValidKind(value)) {
            context.addIssue({
              code: 'custom',
              message: `kind '${value}' is invalid: use a kind such as Component or Group (letters and digits, starting with a letter)`,
            });
          }
        }),
      )
      .describe('Entity kinds such as Component or Group; any one matches'),
  })
  .strict();

function kindCheck({ kinds }: z.infer<typeof kindsParams>): EntityCheck {
  return (entity) => {
    const entityKind = entity.kind;
    for (const kind of kinds) {
      if (kind === entityKind || equalsIgnoringCase(kind, entityKind)) {
        return true;
      }
    }
    return false;
  };
}

export const isEntityKind: CatalogPermissionRule<z.infer<typeof kindsParams>> = {
  name: 'IS_ENTITY_KIND',
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
  description: 'Allow entities of one of the kinds',
  paramsSchema: kindsParams,
  apply: (entity, params) => kindCheck(params)(entity),
  compile: kindCheck,
  toQuery({ kinds }) {
    return { key: 'kind', values: kinds.map(lower) };
  },
};

const annotationParams = z
  .object({
    annotation: keyParam('annotation', 'backstage.io/techdocs-ref').describe(
      'Name of the annotation, such as backstage.io/techdocs-ref',
    ),
    value: z.string().optional().describe('Value the annotation must have'),
  })
  .strict();

function annotationCheck({ annotation, value }: z.infer<typeof annotationParams>): EntityCheck {
  return searchEntryCheck(`metadata.annotations.${annotation}`, value);
}

export const hasAnnotation: CatalogPermissionRule<z.infer<typeof annotationParams>> = {
  name: 'HAS_ANNOTATION',
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
  description: 'Allow entities with the annotation, and with its value when one is given',
  paramsSchema: annotationParams,
  apply: (entity, params) => annotationCheck(params)(entity),
  compile: annotationCheck,
  toQuery({ annotation, value }) {
    return searchFilter(`metadata.annotations.${annotation}`, value);
  },
};

const labelParams = z
  .object({ label: keyParam('label', 'tier').describe('Name of the label, such as tier') })
  .strict();

function labelCheck({ label }: z.infer<typeof labelParams>): EntityCheck {
  return searchEntryCheck(`metadata.labels.${label}`, undefined);
}

export const hasLabel: CatalogPermissionRule<z.infer<typeof labelParams>> = {
  name: 'HAS_LABEL',
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
  description: 'Allow entities with the label',
  paramsSchema: labelParams,
  apply: (entity, params) => labelCheck(params)(entity),
  compile: labelCheck,
  toQuery({ label }) {
    return searchFilter(`metadata.labels.${label}`, undefined);
  },
};

const propertyParams = z
  .object({
    key: keyParam('key', 'lifecycle or profile.email').describe(
      'Dotted path inside the section, such as lifecycle or profile.email',
    ),
    value: z.string().optional().describe('Value the field must have'),
  })
  .strict();

function createPropertyRule(
  section: 'metadata' | 'spec',
): CatalogPermissionRule<z.infer<typeof propertyParams>> {
  const propertyCheck = ({ key, value }: z.infer<typeof propertyParams>): EntityCheck =>
    searchEntryCheck(`${section}.${key}`, value);
  return {
    name: `HAS_${section.toUpperCase()}`,
    resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
    description: `Allow entities with the ${section} field, and with its value when one is given`,
    paramsSchema: propertyParams,
    apply: (entity, params) => propertyCheck(params)(entity),
    compile: propertyCheck,
    toQuery({ key, value }) {
      return searchFilter(`${section}.${key}`, value);
    },
  };
}

export const hasMetadata = createPropertyRule('metadata');
export const hasSpec = createPropertyRule('spec');

export const catalogPermissionRules = [
  isEntityOwner,
  isEntityKind,
  hasAnnotation,
  hasLabel,
  hasMetadata,
  hasSpec,
];
