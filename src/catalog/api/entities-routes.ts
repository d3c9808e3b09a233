import { Readable } from 'node:stream';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { InputError, NotFoundError } from '../../errors/index.js';
import type { PermissionRegistry } from '../../permissions/index.js';
import { type Cursor, type CursorPosition, decodeCursor, encodeCursor } from './cursor.js';
import { allOfFilters, type EntityFilter } from './entity-filter.js';
import { jsonArray, renderEntityJson } from './entity-json.js';
import {
  countEntities,
  type EntityRow,
  findEntitiesByRefs,
  findEntity,
  listEntityRefs,
  loadBodies,
  loadRelations,
} from './entity-queries.js';
import { countFacets } from './facets.js';
import { fieldsNeedRelations } from './fields.js';
import { excerpt } from './input-limits.js';
import { CATALOG_ENTITY_READ } from './permissions.js';
import { fetchQueryPage, type PageRow } from './query-page.js';
import {
  listParam,
  MAX_PAGE_SIZE,
  parseFacetParams,
  parseFields,
  parseFilterParams,
  parseFullTextParams,
  parseLimit,
  parseOffset,
  parseOrderFieldParams,
  parseOrderParams,
  parseTotalItems,
  type QueryParams,
  singleParam,
} from './query-params.js';
import type { EntitySelection, QueryContext } from './query-plan.js';
import { readableEntityFilter } from './read-access.js';
import { rejectControlCharacters } from './request-text.js';

/**
 * Page size of GET /entities/by-query when the request gives no limit, as
 * DEFAULT_LIMIT in Backstage's plugins/catalog-backend/src/service/DefaultEntitiesCatalog.ts.
 */
export const DEFAULT_QUERY_LIMIT = 200;

/** Entities loaded per round trip when GET /entities streams a whole listing. */
const STREAM_CHUNK = 500;

const readEntities = {
  config: { access: { permission: CATALOG_ENTITY_READ } },
  preValidation: rejectControlCharacters,
};

const byRefsBodySchema = z
  .object({
    entityRefs: z.array(z.string()).max(MAX_PAGE_SIZE),
    fields: z.array(z.string()).optional(),
  })
  .strict();

interface RouteContext extends QueryContext {
  registry: PermissionRegistry;
}

/** Registers the entity read routes of Backstage's catalog API under /api/catalog. */
export function registerEntityRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get('/api/catalog/entities', readEntities, (request, reply) =>
    listEntities(context, request, reply),
  );
  app.get('/api/catalog/entities/by-query', readEntities, (request, reply) =>
    queryEntities(context, request, reply),
  );
  app.get('/api/catalog/entities/by-name/:kind/:namespace/:name', readEntities, (request, reply) =>
    getEntityByName(context, request, reply),
  );
  app.get('/api/catalog/entities/by-uid/:uid', readEntities, (request, reply) =>
    getEntityByUid(context, request, reply),
  );
  app.post('/api/catalog/entities/by-refs', readEntities, (request, reply) =>
    getEntitiesByRefs(context, request, reply),
  );
  app.get('/api/catalog/entity-facets', readEntities, async (request) => {
    const query = request.query as QueryParams;
    const facets = parseFacetParams(query);
    const readable = readableEntityFilter(request, context.registry);
    const selection = selectionOf(parseFilterParams(query), readable);
    return { facets: await countFacets(context, facets, selection) };
  });
}

/** Combines the caller's filter with the entities the caller may read. */
function selectionOf(
  filter: EntityFilter | undefined,
  readable: EntityFilter | undefined,
): EntitySelection {
  return { filter: allOfFilters(filter, readable) };
}

/** Renders rows with their relations when the output keeps them. */
async function renderRows(
  context: QueryContext,
  rows: readonly EntityRow[],
  fields: string[] | undefined,
): Promise<string[]> {
  const relations = fieldsNeedRelations(fields)
    ? await loadRelations(
        context,
        rows.map((row) => row.ref),
      )
    : undefined;
  return rows.map((row) => renderEntityJson(row, relations?.get(row.ref) ?? [], fields));
}

function sendJson(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}

/** GET /entities: filter, fields, order, limit, offset and after; the whole list without a limit. */
async function listEntities(
  context: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const query = request.query as QueryParams;
  const fields = parseFields(listParam(query, 'fields'));
  const order = parseOrderParams(query) ?? [];
  let limit = parseLimit(query);
  let offset = parseOffset(query);
  const after = singleParam(query, 'after');
  if (after !== undefined) {
    ({ limit, offset } = decodeAfter(after));
  }

  const readable = readableEntityFilter(request, context.registry);
  const selection = selectionOf(parseFilterParams(query), readable);

  if (limit === undefined) {
    const refs = await listEntityRefs(context, selection, { order, offset });
    return streamEntities(context, reply, refs, selection, fields);
  }

  const refs = await listEntityRefs(context, selection, { order, limit: limit + 1, offset });
  if (refs.length > limit) {
    refs.length = limit;
    const next = new URL(request.url, 'http://placeholder');
    next.searchParams.delete('offset');
    next.searchParams.set('after', encodeAfter(limit, (offset ?? 0) + limit));
    reply.header('link', `<${next.pathname}${next.search}>; rel="next"`);
  }
  const rows = await loadBodies(context, refs, selection);
  return sendJson(reply, jsonArray(await renderRows(context, rows, fields)));
}

/**
 * Sends every listed entity as one JSON array, loading STREAM_CHUNK entities
 * at a time as the client reads. The stream waits while the socket is full,
 * so memory holds the references and one chunk, never the whole response.
 * NOTE: a database error after the first chunk can no longer change the
 * status, so the connection is closed and the client sees a cut-off array.
 */
function streamEntities(
  context: QueryContext,
  reply: FastifyReply,
  refs: readonly string[],
  selection: EntitySelection,
  fields: string[] | undefined,
): FastifyReply {
  async function* chunks(): AsyncGenerator<string> {
    yield '[';
    let first = true;
    for (let start = 0; start < refs.length; start += STREAM_CHUNK) {
      const rows = await loadBodies(context, refs.slice(start, start + STREAM_CHUNK), selection);
      const rendered = await renderRows(context, rows, fields);
      if (rendered.length > 0) {
        yield `${first ? '' : ','}${rendered.join(',')}`;
        first = false;
      }
    }
    yield ']';
  }
  return reply.type('application/json; charset=utf-8').send(Readable.from(chunks()));
}

/** Encodes the `after` token of GET /entities: Backstage's base64 JSON of limit and offset. */
function encodeAfter(limit: number, offset: number): string {
  return Buffer.from(JSON.stringify({ limit, offset }), 'utf8').toString('base64');
}

function decodeAfter(after: string): { limit: number | undefined; offset: number | undefined } {
  const schema = z
    .object({
      limit: z.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
      offset: z.number().int().min(0).optional(),
    })
    .strict();
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(after, 'base64').toString('utf8'));
  } catch {
    data = undefined;
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new InputError(
      `after '${excerpt(after, 40)}' is invalid: pass the after value from the Link header of an earlier response unchanged`,
      { details: [{ path: 'query.after', message: 'not a page token issued by this server' }] },
    );
  }
  return { limit: parsed.data.limit, offset: parsed.data.offset };
}

function positionOf(row: PageRow): CursorPosition {
  return { value: row.value, ref: row.ref, id: row.id };
}

function samePosition(a: CursorPosition | undefined, b: CursorPosition | undefined): boolean {
  return (
    a !== undefined && b !== undefined && a.value === b.value && a.ref === b.ref && a.id === b.id
  );
}

/** Builds the cursor state of a first request from its parameters. */
function initialCursor(query: QueryParams): Cursor {
  const filter = parseFilterParams(query);
  const fullTextFilter = parseFullTextParams(query);
  return {
    orderFields: parseOrderFieldParams(query) ?? [],
    ...(filter ? { filter } : {}),
    ...(fullTextFilter ? { fullTextFilter } : {}),
    isPrevious: false,
    totalItems: 0,
  };
}

/**
 * GET /entities/by-query: a page of entities with cursors to the next and
 * previous pages and the total, as Backstage's queryEntities. A request with
 * a cursor takes the query from it and ignores filter, order and full-text
 * parameters. Only the first orderField is applied, as in Backstage.
 */
async function queryEntities(
  context: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const query = request.query as QueryParams;
  const fields = parseFields(listParam(query, 'fields'));
  const limit = parseLimit(query, { allowZero: true }) ?? DEFAULT_QUERY_LIMIT;
  const cursorText = singleParam(query, 'cursor');
  const isInitial = cursorText === undefined;
  const cursor = isInitial ? initialCursor(query) : decodeCursor(cursorText);
  const offset = isInitial ? parseOffset(query) : undefined;
  const countTotal = isInitial && parseTotalItems(query) === 'include';

  const sort = cursor.orderFields[0];
  if (cursor.orderFields.length > 1) {
    request.log.warn(
      { orderFields: cursor.orderFields.map((order) => order.field) },
      'only the first orderField is applied',
    );
  }
  const readable = readableEntityFilter(request, context.registry);
  const selection: EntitySelection = {
    ...selectionOf(cursor.filter, readable),
    ...(cursor.fullTextFilter
      ? {
          fullText: {
            term: cursor.fullTextFilter.term.toLocaleLowerCase('en-US'),
            fields: (cursor.fullTextFilter.fields ?? [sort?.field ?? 'metadata.uid']).map((field) =>
              field.toLocaleLowerCase('en-US'),
            ),
          },
        }
      : {}),
  };

  const backward = cursor.isPrevious;
  const [found, counted] = await Promise.all([
    limit === 0
      ? Promise.resolve([])
      : fetchQueryPage(context, {
          selection,
          sort,
          position: cursor.position,
          backward,
          offset,
          count: backward ? limit : limit + 1,
        }),
    countTotal ? countEntities(context, selection) : Promise.resolve(undefined),
  ]);

  const rows = found.slice(0, limit);
  const totalItems = counted ?? cursor.totalItems;
  const hasMore = limit > 0 && (backward || found.length > limit);
  const firstRow = rows[0];
  const lastRow = rows.at(-1);
  const first = cursor.first ?? (firstRow ? positionOf(firstRow) : undefined);

  const pageInfo: { nextCursor?: string; prevCursor?: string } = {};
  if (hasMore && lastRow) {
    pageInfo.nextCursor = encodeCursor({
      ...cursor,
      position: positionOf(lastRow),
      isPrevious: false,
      ...(first ? { first } : {}),
      totalItems,
    });
  }
  if (!isInitial && firstRow && !samePosition(positionOf(firstRow), cursor.first)) {
    pageInfo.prevCursor = encodeCursor({
      ...cursor,
      position: positionOf(firstRow),
      isPrevious: true,
      totalItems,
    });
  }

  const items = await renderRows(context, rows, fields);
  return sendJson(
    reply,
    `{"items":${jsonArray(items)},"totalItems":${totalItems},"pageInfo":${JSON.stringify(pageInfo)}}`,
  );
}

async function sendOneEntity(
  context: RouteContext,
  reply: FastifyReply,
  row: EntityRow | undefined,
  notFound: string,
): Promise<FastifyReply> {
  if (!row) {
    throw new NotFoundError(notFound);
  }
  const [json] = await renderRows(context, [row], undefined);
  return sendJson(reply, json!);
}

/** GET /entities/by-name/:kind/:namespace/:name; an entity the caller may not read is not found. */
async function getEntityByName(
  context: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { kind, namespace, name } = request.params as Record<string, string>;
  const ref = stringifyEntityRef({
    kind: kind!,
    namespace: namespace!,
    name: name!,
  }).toLocaleLowerCase('en-US');
  const readable = readableEntityFilter(request, context.registry);
  const row = await findEntity(context, { ref }, { filter: readable });
  return sendOneEntity(context, reply, row, `Entity ${ref} was not found`);
}

/** GET /entities/by-uid/:uid; an entity the caller may not read is not found. */
async function getEntityByUid(
  context: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { uid } = request.params as Record<string, string>;
  const readable = readableEntityFilter(request, context.registry);
  const row = await findEntity(context, { uid: uid! }, { filter: readable });
  return sendOneEntity(context, reply, row, `No entity has uid ${uid}`);
}

/** Returns the lowercase reference of a by-refs item, or undefined when it is not a reference. */
function normalizeRef(ref: string): string | undefined {
  try {
    return stringifyEntityRef(parseEntityRef(ref)).toLocaleLowerCase('en-US');
  } catch {
    return undefined;
  }
}

/**
 * POST /entities/by-refs: the entities in request order, null where a
 * reference is unknown, malformed or not readable by the caller.
 */
async function getEntitiesByRefs(
  context: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const parsed = byRefsBodySchema.safeParse(request.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new InputError(
      `request body is invalid${where}: send { "entityRefs": string[] (at most ${MAX_PAGE_SIZE}), "fields"?: string[] }`,
      {
        details: parsed.error.issues.map((item) => ({
          path: ['body', ...item.path].join('.'),
          message: item.message,
        })),
      },
    );
  }

  const query = request.query as QueryParams;
  const fields =
    parseFields(parsed.data.fields, 'fields') ?? parseFields(listParam(query, 'fields'));
  const refs = parsed.data.entityRefs.map(normalizeRef);
  const readable = readableEntityFilter(request, context.registry);
  const selection = selectionOf(parseFilterParams(query), readable);
  const bodies = await findEntitiesByRefs(
    context,
    refs.filter((ref): ref is string => ref !== undefined),
    selection,
  );

  const foundRows = [...bodies].map(([ref, body]) => ({ ref, body }));
  const rendered = await renderRows(context, foundRows, fields);
  const byRef = new Map(foundRows.map((row, index) => [row.ref, rendered[index]!]));
  const items = refs.map((ref) => (ref === undefined ? 'null' : (byRef.get(ref) ?? 'null')));
  return sendJson(reply, `{"items":${jsonArray(items)}}`);
}
