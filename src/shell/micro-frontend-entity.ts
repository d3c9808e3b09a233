import { z } from 'zod';
import type { StoredEntity } from '../catalog/index.js';

/** apiVersion of MicroFrontend entities. */
export const MICRO_FRONTEND_API_VERSION = 'backstage-luigi.io/v1';
/** Kind of the catalog entities that register a micro frontend. */
export const MICRO_FRONTEND_KIND = 'MicroFrontend';

/** Stable codes of registration faults, for filtering in CI and in the catalog's error list. */
export const REGISTRATION_CODES = {
  /** The entity breaks the MicroFrontend schema, such as a missing viewUrl. */
  invalid: 'micro-frontend-invalid',
  /** The permission that guards it is not registered. */
  permissionUnknown: 'micro-frontend-permission-unknown',
  /** Its viewUrl's origin is not in `shell.allowedOrigins`. */
  originNotAllowed: 'micro-frontend-origin-not-allowed',
  /** Its path is taken by a configured node or by another MicroFrontend entity. */
  pathConflict: 'micro-frontend-path-conflict',
  /** Its path has no parent node to hang below. */
  parentNotFound: 'micro-frontend-parent-not-found',
} as const;

export type RegistrationCode = (typeof REGISTRATION_CODES)[keyof typeof REGISTRATION_CODES];

/** One reason why a MicroFrontend entity, or one of its entity tabs, is not served. */
export interface RegistrationFault {
  code: RegistrationCode;
  /** Lowercase reference, such as `microfrontend:default/deployments`. */
  entityRef: string;
  /** The catalog location and file that store the entity, and its document index there. */
  locationId: string;
  file: string;
  docIndex?: number;
  /** Dotted field, such as `spec.viewUrl` or `spec.entityTabs[0].pathSegment`. */
  field: string;
  message: string;
}

/** A route of fixed segments: `tools/deployments`. */
const ROUTE = /^[^/:?#\s]+(\/[^/:?#\s]+)*$/;

const entityTabSchema = z
  .object({
    pathSegment: z.string().regex(/^[^/:?#\s]+$/, 'use one fixed URL segment such as deployments'),
    label: z.string().min(1),
    /** May use the entity page's parameters, such as `:kind`, `:namespace` and `:name`. */
    viewUrl: z.string().min(1),
    /** Entity kinds the tab applies to, such as Component; every kind when left out. */
    kinds: z.array(z.string().min(1)).optional(),
    /** Values of `spec.type` the tab applies to, such as service; every type when left out. */
    types: z.array(z.string().min(1)).optional(),
  })
  .strict();

const specSchema = z
  .object({
    /** Route of the node: its last segment is the node, the rest names an existing node. */
    path: z.string().regex(ROUTE, 'use fixed URL segments joined by /, such as tools/deployments'),
    label: z.string().min(1),
    viewUrl: z.string().min(1),
    /** The permission a user must hold to see the node and its tabs. */
    permission: z.string().min(1),
    /** `aud` of the tokens that the micro frontend requests for its own backend. */
    audience: z.string().min(1),
    owner: z.string().optional(),
    icon: z.string().optional(),
    category: z.string().optional(),
    hideFromNav: z.boolean().optional(),
    context: z.record(z.string(), z.unknown()).optional(),
    entityTabs: z.array(entityTabSchema).optional(),
  })
  .strict();

export type MicroFrontendSpec = z.infer<typeof specSchema>;
export type EntityTabSpec = z.infer<typeof entityTabSchema>;

/** A MicroFrontend entity whose spec passed its schema. */
export interface MicroFrontendEntity {
  entityRef: string;
  locationId: string;
  file: string;
  docIndex?: number;
  title: string;
  spec: MicroFrontendSpec;
}

/**
 * Parses the spec of a stored MicroFrontend entity. Returns the faults of
 * every field that breaks the schema instead, each with its dotted path.
 */
export function parseMicroFrontendEntity(
  stored: StoredEntity,
): MicroFrontendEntity | RegistrationFault[] {
  const where = {
    entityRef: stored.entityRef,
    locationId: stored.locationId,
    file: stored.file,
    ...(stored.docIndex === undefined ? {} : { docIndex: stored.docIndex }),
  };
  const apiVersion = stored.entity.apiVersion;
  if (apiVersion !== MICRO_FRONTEND_API_VERSION) {
    return [
      {
        ...where,
        code: REGISTRATION_CODES.invalid,
        field: 'apiVersion',
        message: `${stored.entityRef} has apiVersion '${String(apiVersion)}': MicroFrontend entities use ${MICRO_FRONTEND_API_VERSION}`,
      },
    ];
  }

  const parsed = specSchema.safeParse(stored.entity.spec);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => ({
      ...where,
      code: REGISTRATION_CODES.invalid,
      field: ['spec', ...issue.path].map(String).join('.'),
      message: `${stored.entityRef} ${describeIssue(issue)}`,
    }));
  }

  const metadata = (stored.entity.metadata ?? {}) as { name?: unknown; title?: unknown };
  const title = typeof metadata.title === 'string' ? metadata.title : String(metadata.name ?? '');
  return { ...where, title, spec: parsed.data };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = ['spec', ...issue.path].map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return `has unknown keys ${issue.keys.map((key) => `'${key}'`).join(', ')} in ${field}: remove them or check their spelling`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return `is missing ${field}: add it`;
  }
  return `has an invalid ${field}: ${issue.message}`;
}
