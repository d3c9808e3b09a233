import { z } from 'zod';
import { InputError } from '../../errors/index.js';
import { entityFilterSchema } from './entity-filter.js';

/**
 * State of a by-query listing, carried between pages in `cursor` as in
 * Backstage. It holds the query itself (filter, order, full-text search), the
 * position next to which the page starts, and the total counted on the first
 * page. The caller's permissions are not in it, because each page applies the
 * decision of its own request.
 *
 * NOTE: @backstage/catalog-client 1.16 sends a cursor with a top-level `query`
 * key to its predicate endpoint, so that key must never appear here.
 */
const cursorSchema = z
  .object({
    orderFields: z.array(
      z.object({ field: z.string().min(1), order: z.enum(['asc', 'desc']) }).strict(),
    ),
    filter: entityFilterSchema.optional(),
    fullTextFilter: z
      .object({ term: z.string(), fields: z.array(z.string()).optional() })
      .strict()
      .optional(),
    /** Sort value (null for entities without one) and reference of the row next to the page. */
    position: z.object({ value: z.string().nullable(), ref: z.string() }).strict().optional(),
    /** True when the page lies before `position` (a prevCursor). */
    isPrevious: z.boolean(),
    /** Position of the first row of the first page, which has no prevCursor. */
    first: z.object({ value: z.string().nullable(), ref: z.string() }).strict().optional(),
    totalItems: z.number().int().min(0),
  })
  .strict();

export type Cursor = z.infer<typeof cursorSchema>;
export type CursorPosition = NonNullable<Cursor['position']>;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64');
}

export function decodeCursor(text: string): Cursor {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    data = undefined;
  }

  const parsed = cursorSchema.safeParse(data);
  if (!parsed.success) {
    const excerpt = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    throw new InputError(
      `cursor '${excerpt}' is invalid: pass the nextCursor or prevCursor of an earlier response unchanged`,
      { details: [{ path: 'query.cursor', message: 'not a cursor issued by this server' }] },
    );
  }
  return parsed.data;
}
