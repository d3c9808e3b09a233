import {
  type Entity,
  makeValidator,
  parseEntityRef,
  RELATION_OWNED_BY,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { z } from 'zod';
import type { PermissionRule } from '../../permissions/index.js';
import type { EntityFilter } from './entity-filter.js';
import { CATALOG_ENTITY_RESOURCE_TYPE } from './permissions.js';
import { buildSearchEntries } from './search-entries.js';

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

export type CatalogPermissionRule<TParams> = PermissionRule<CatalogEntity, EntityFilter, TParams>;

function lower(value: string): string {
  return value.toLocaleLowerCase('en-US');
}

/** True when the entity's search rows contain the key, with the value when one is given. */
function hasSearchEntry(entity: CatalogEntity, key: string, value?: string): boolean {
  const wantedKey = lower(key);
  const wantedValue = value === undefined ? undefined : lower(value);
  return buildSearchEntries(entity).some(
    (entry) =>
      entry.key === wantedKey && (wantedValue === undefined || entry.value === wantedValue),
  );
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
    !validator.isValidNamespace(ref.namespace.toLocaleLowerCase('en-US')) ||
    !validator.isValidEntityName(ref.name)
  ) {
    context.addIssue({
      code: 'custom',
      message: `claim '${value}' has an invalid kind, namespace or name: kinds are letters and digits, names and namespaces letters, digits, '-', '_' and '.' (such as group:default/team-a)`,
    });
    return z.NEVER;
  }
  return stringifyEntityRef(ref).toLocaleLowerCase('en-US');
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

export const isEntityOwner: CatalogPermissionRule<z.infer<typeof claimsParams>> = {
  name: 'IS_ENTITY_OWNER',
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
  description: 'Allow entities owned by one of the claims (an ownedBy relation to it)',
  paramsSchema: claimsParams,
  apply(entity, { claims }) {
    const wanted = new Set(claims.map(lower));
    return (entity.relations ?? []).some(
      (relation) =>
        lower(relation.type) === lower(RELATION_OWNED_BY) && wanted.has(lower(relation.targetRef)),
    );
  },
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

export const isEntityKind: CatalogPermissionRule<z.infer<typeof kindsParams>> = {
  name: 'IS_ENTITY_KIND',
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
  description: 'Allow entities of one of the kinds',
  paramsSchema: kindsParams,
  apply(entity, { kinds }) {
    return kinds.map(lower).includes(lower(entity.kind));
  },
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

export const hasAnnotation: CatalogPermissionRule<z.infer<typeof annotationParams>> = {
  name: 'HAS_ANNOTATION',
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
  description: 'Allow entities with the annotation, and with its value when one is given',
  paramsSchema: annotationParams,
  apply(entity, { annotation, value }) {
    return hasSearchEntry(entity, `metadata.annotations.${annotation}`, value);
  },
  toQuery({ annotation, value }) {
    return searchFilter(`metadata.annotations.${annotation}`, value);
  },
};

const labelParams = z
  .object({ label: keyParam('label', 'tier').describe('Name of the label, such as tier') })
  .strict();

export const hasLabel: CatalogPermissionRule<z.infer<typeof labelParams>> = {
  name: 'HAS_LABEL',
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
  description: 'Allow entities with the label',
  paramsSchema: labelParams,
  apply(entity, { label }) {
    return hasSearchEntry(entity, `metadata.labels.${label}`);
  },
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
  return {
    name: `HAS_${section.toUpperCase()}`,
    resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
    description: `Allow entities with the ${section} field, and with its value when one is given`,
    paramsSchema: propertyParams,
    apply(entity, { key, value }) {
      return hasSearchEntry(entity, `${section}.${key}`, value);
    },
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
