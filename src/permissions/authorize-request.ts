import { z } from 'zod';
import { detailsFromZodIssues, formatFieldPath } from '../config/index.js';
import { InputError } from '../errors/index.js';

/** Items per request; a larger batch is rejected with a 400 that names the limit. */
export const MAX_AUTHORIZE_ITEMS = 1_000;
/** Resource references per request, summed over all items. */
export const MAX_AUTHORIZE_RESOURCE_REFS = 1_000;
/** Characters in an id, a permission name, a resource type or a resource reference. */
const MAX_TEXT_LENGTH = 1_000;

const text = z.string().min(1).max(MAX_TEXT_LENGTH);

// Backstage accepts create, read, update and delete; `use` is this portal's own action.
const attributesSchema = z.object({
  action: z.enum(['create', 'read', 'update', 'delete', 'use']).optional(),
});

const permissionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('basic'), name: text, attributes: attributesSchema }),
  z.object({
    type: z.literal('resource'),
    name: text,
    attributes: attributesSchema,
    resourceType: text,
  }),
]);

/**
 * One item of Backstage's `POST /authorize` body. `resourceRef` is one
 * reference, or a list of them when PermissionClient batches requests
 * (`permission.EXPERIMENTAL_enableBatchedRequests`). Unknown keys are
 * ignored, as Backstage's permission backend ignores them.
 */
const itemSchema = z.object({
  id: text,
  permission: permissionSchema,
  resourceRef: z.union([text, z.array(text)]).optional(),
});

const requestSchema = z.object({
  items: z.array(itemSchema).max(MAX_AUTHORIZE_ITEMS),
});

export type AuthorizeRequestItem = z.infer<typeof itemSchema>;

/** The request body's shape, for messages. */
const EXPECTED_BODY =
  '{ "items": [{ "id": string, "permission": { "type": "basic" | "resource", "name": string, "attributes": {}, "resourceType"?: string }, "resourceRef"?: string | string[] }] }';

/**
 * Parses the body of `POST /api/permission/authorize`. Throws an InputError
 * that names every field at fault, a repeated id, or a batch over the limits.
 */
export function parseAuthorizeRequest(body: unknown): AuthorizeRequestItem[] {
  const parsed = requestSchema.safeParse(body);
  if (!parsed.success) {
    const details = detailsFromZodIssues(parsed.error.issues, body);
    const first = details[0];
    const subject =
      first?.path === undefined || first.path === formatFieldPath([])
        ? 'Authorize request body'
        : `Authorize request field ${first.path}`;
    throw new InputError(
      `${subject} ${first?.message ?? 'is invalid'}. The body must be ${EXPECTED_BODY}`,
      { details },
    );
  }
  const items = parsed.data.items;

  const seen = new Map<string, number>();
  for (const [index, item] of items.entries()) {
    const earlier = seen.get(item.id);
    if (earlier !== undefined) {
      const path = formatFieldPath(['items', index, 'id']);
      throw new InputError(
        `Authorize request field ${path} '${item.id}' repeats the id of items[${earlier}]: give each item its own id`,
        { details: [{ path, value: item.id, message: 'repeats the id of an earlier item' }] },
      );
    }
    seen.set(item.id, index);
  }

  const refs = items.reduce((total, item) => total + countRefs(item.resourceRef), 0);
  if (refs > MAX_AUTHORIZE_RESOURCE_REFS) {
    throw new InputError(
      `Authorize request names ${refs} resource references: send at most ${MAX_AUTHORIZE_RESOURCE_REFS} per request, and split larger batches`,
      {
        details: [{ path: 'items', message: `at most ${MAX_AUTHORIZE_RESOURCE_REFS} references` }],
      },
    );
  }
  return items;
}

function countRefs(resourceRef: string | string[] | undefined): number {
  if (resourceRef === undefined) {
    return 0;
  }
  return Array.isArray(resourceRef) ? resourceRef.length : 1;
}
