import { z } from 'zod';
import { InputError } from '../../errors/index.js';
import type { EntityFilter } from './entity-filter.js';
import { checkFilterSets, excerpt, INPUT_LIMITS } from './input-limits.js';
import { filterOfSets, setsOfFilter } from './query-params.js';
import { findControlCharacter } from './request-text.js';

/** Free text such as a value: no NUL, which PostgreSQL cannot store or compare. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => findControlCharacter(value, true) === -1, 'contains a control character');
/** A key or an entity reference, which never contain control characters. */
const name = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => findControlCharacter(value, false) === -1, 'contains a control character');

/** A stored sort value may hold any character that PostgreSQL can store. */
const sortValue = z
  .string()
  .max(1_000)
  .refine((value) => !value.includes('\u0000'), 'contains a NUL character');

/**
 * A row's place in a listing: its sort value (null for entities without
 * one), its reference, which orders the rows without a value, and its id,
 * which orders rows of equal value.
 */
const positionSchema = z
  .object({ value: sortValue.nullable(), ref: name(1_000), id: z.number().int().min(0) })
  .strict();

/** One `filter` parameter as parseFilterParams builds it; the cursor accepts no other shape. */
const filterSetSchema = z
  .object({
    allOf: z
      .array(
        z
          .object({
            key: name(INPUT_LIMITS.keyLength),
            values: z.array(text(INPUT_LIMITS.valueLength)).optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

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
    orderFields: z
      .array(
        z.object({ field: name(INPUT_LIMITS.keyLength), order: z.enum(['asc', 'desc']) }).strict(),
      )
      .max(INPUT_LIMITS.orderFields),
    filter: z
      .union([
        filterSetSchema,
        z.object({ anyOf: z.array(filterSetSchema).min(2).max(INPUT_LIMITS.filterSets) }).strict(),
      ])
      .optional(),
    fullTextFilter: z
      .object({
        term: text(INPUT_LIMITS.valueLength),
        fields: z.array(name(INPUT_LIMITS.keyLength)).max(INPUT_LIMITS.fullTextFields).optional(),
      })
      .strict()
      .optional(),
    /** The place of the row next to the page. */
    position: positionSchema.optional(),
    /** True when the page lies before `position` (a prevCursor). */
    isPrevious: z.boolean(),
    /** Position of the first row of the first page, which has no prevCursor. */
    first: positionSchema.optional(),
    totalItems: z.number().int().min(0),
  })
  .strict();

export type Cursor = Omit<z.infer<typeof cursorSchema>, 'filter'> & { filter?: EntityFilter };
export type CursorPosition = NonNullable<Cursor['position']>;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64');
}

/**
 * Decodes a cursor that this server issued. Its length and the nesting depth
 * of its JSON are checked before the JSON is parsed, so a forged cursor can
 * neither exhaust the stack nor reach the database with a filter larger than
 * a request may send.
 */
export function decodeCursor(cursorText: string): Cursor {
  const reject = (reason: string) =>
    new InputError(`cursor '${excerpt(cursorText, 40)}' is invalid: request the first page again`, {
      details: [{ path: 'query.cursor', message: reason }],
    });

  if (cursorText.length > INPUT_LIMITS.cursorLength) {
    throw reject(`longer than ${INPUT_LIMITS.cursorLength} characters`);
  }
  const json = Buffer.from(cursorText, 'base64').toString('utf8');
  if (jsonDepth(json) > INPUT_LIMITS.cursorDepth) {
    throw reject(`nested deeper than ${INPUT_LIMITS.cursorDepth} levels`);
  }

  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw reject('not base64-encoded JSON');
  }
  const parsed = cursorSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw reject(`${issue?.path.join('.') || 'cursor'}: ${issue?.message ?? 'wrong shape'}`);
  }

  const { filter } = parsed.data;
  if (filter) {
    const sets = setsOfFilter(filter);
    if (!sets) {
      throw reject('filter is not a list of filter sets');
    }
    try {
      checkFilterSets(sets, 'filter');
    } catch (error) {
      throw reject((error as Error).message);
    }
    return { ...parsed.data, filter: filterOfSets(sets)! };
  }
  return parsed.data;
}

/**
 * Returns the deepest nesting of objects and arrays in JSON text, without
 * parsing it; brackets inside strings do not count.
 */
export function jsonDepth(json: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < json.length; index += 1) {
    const character = json[index];
    if (inString) {
      if (character === '\\') {
        index += 1;
      } else if (character === '"') {
        inString = false;
      }
      continue;
    }
    if (character === '"') {
      inString = true;
    } else if (character === '{' || character === '[') {
      depth += 1;
      deepest = Math.max(deepest, depth);
    } else if (character === '}' || character === ']') {
      depth -= 1;
    }
  }
  return deepest;
}
