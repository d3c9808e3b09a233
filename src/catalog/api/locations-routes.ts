import { stringifyEntityRef } from '@backstage/catalog-model';
import type { FastifyInstance } from 'fastify';
import { type Kysely, type Selectable, sql } from 'kysely';
import { NotFoundError } from '../../errors/index.js';
import type { PermissionRegistry } from '../../permissions/index.js';
import type { EntityFault, EntityFaultSource } from '../entity-faults.js';
import type { CatalogErrorRow, CatalogTables } from '../tables.js';
import type { EntityFilter } from './entity-filter.js';
import { entityColumns, type SqlCondition } from './filter-sql.js';
import { CATALOG_LOCATION_READ } from './permissions.js';
import { type QueryParams, singleParam } from './query-params.js';
import { checkSelection, type QueryContext } from './query-plan.js';
import { decideReadableEntities, type PermissionAuthorizer } from './read-access.js';
import { rejectControlCharacters } from './request-text.js';

type CatalogErrorSelection = Selectable<CatalogErrorRow>;

const readLocations = {
  config: { access: { permission: CATALOG_LOCATION_READ } },
  preValidation: rejectControlCharacters,
};

export interface LocationRouteContext extends QueryContext {
  registry: PermissionRegistry;
  /** Decides catalog.entity.read, which the routes that name entities also apply. */
  permissions: PermissionAuthorizer;
  /** Other capabilities' faults about stored entities, listed with the ingestion errors. */
  faultSources?: readonly EntityFaultSource[] | undefined;
}

export interface LocationItem {
  id: string;
  type: string;
  target: string;
}

/** One location with the errors and warnings of its last refresh. */
export interface LocationIngestionReport extends LocationItem {
  refreshedAt: string | null;
  /** Errors and warnings; a field that does not apply (no line, no entity) is left out. */
  errors: Array<{
    severity: CatalogErrorRow['severity'];
    file?: string;
    docIndex?: number;
    line?: number;
    entityRef?: string;
    field?: string;
    message: string;
    /** Stable kind of fault from the ingestion, such as `entity-invalid`. */
    code?: string;
  }>;
}

/**
 * Registers the location routes: Backstage's `GET /locations`,
 * `GET /locations/:id` and `GET /locations/by-entity/...`, and this product's
 * `GET /ingestion-errors`. They require catalog.location.read, and what they
 * show about an entity also requires catalog.entity.read on that entity.
 */
export function registerLocationRoutes(app: FastifyInstance, context: LocationRouteContext): void {
  const db = context.db as Kysely<CatalogTables>;

  app.get('/api/catalog/locations', readLocations, async () => {
    const rows = await db
      .selectFrom('catalog_locations')
      .select(['id', 'type', 'target'])
      .orderBy('created_at')
      .orderBy('position')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({ data: row }));
  });

  app.get('/api/catalog/locations/:id', readLocations, async (request) => {
    const { id } = request.params as { id: string };
    const row = await db
      .selectFrom('catalog_locations')
      .select(['id', 'type', 'target'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) {
      throw new NotFoundError(`Location ${id} was not found`);
    }
    return row;
  });

  // An entity the caller may not read is not found, exactly like a missing one.
  app.get(
    '/api/catalog/locations/by-entity/:kind/:namespace/:name',
    readLocations,
    async (request) => {
      const { kind, namespace, name } = request.params as Record<string, string>;
      const ref = stringifyEntityRef({
        kind: kind!,
        namespace: namespace!,
        name: name!,
      }).toLocaleLowerCase('en-US');
      const readable = decideReadableEntities(request, context.permissions, context.registry);
      const result = await sql<LocationItem>`
        select l.id as id, l.type as type, l.target as target
        from catalog_entities e join catalog_locations l on l.id = e.location_id
        where e.entity_ref = ${ref}
          and ${checkSelection(context, { filter: readable }, entityColumns('e'))}
      `.execute(context.db);
      const row = result.rows[0];
      if (!row) {
        throw new NotFoundError(`Entity ${ref} was not found`);
      }
      return row;
    },
  );

  app.get('/api/catalog/ingestion-errors', readLocations, async (request) => {
    const query = request.query as QueryParams;
    const entityRef = singleParam(query, 'entityRef')?.trim().toLocaleLowerCase('en-US');
    const location = singleParam(query, 'location')?.trim();
    const readable = decideReadableEntities(request, context.permissions, context.registry);
    const entityFaults: EntityFault[] = [];
    for (const source of context.faultSources ?? []) {
      try {
        entityFaults.push(...(await source()));
      } catch (error) {
        // One failing capability must not hide the ingestion errors.
        request.log.error({ err: error }, 'reading entity faults of another capability failed');
      }
    }
    return {
      items: await listIngestionReports(context, { entityRef, location, readable, entityFaults }),
    };
  });
}

/**
 * Lists locations with their current errors and warnings. `entityRef` keeps
 * the location that stores the entity and any location with an error about
 * it; `location` keeps the location with that id or target.
 *
 * With `readable` (the entities the caller may read; undefined when every
 * entity is readable), an error that names an entity is kept only when that
 * entity is stored and readable. An error about an entity that was not
 * stored, because it failed validation, is kept only for callers who may
 * read every entity: no stored entity exists to check the conditions on.
 * Errors that name no entity are always kept.
 *
 * `entityFaults` are merged into the locations that store their entities,
 * and are kept only when the entity is readable.
 */
export async function listIngestionReports(
  context: QueryContext,
  options: {
    entityRef?: string | undefined;
    location?: string | undefined;
    readable?: EntityFilter | undefined;
    entityFaults?: readonly EntityFault[] | undefined;
  },
): Promise<LocationIngestionReport[]> {
  const db = context.db as Kysely<CatalogTables>;
  const { entityRef, location, readable } = options;
  const entityFaults = await keepReadableFaults(context, options.entityFaults ?? [], readable);
  const faultLocationsOfRef = [
    ...new Set(
      entityFaults.filter((fault) => fault.entityRef === entityRef).map((f) => f.locationId),
    ),
  ];
  const isReadable = (ref: SqlCondition) =>
    readable === undefined
      ? sql<boolean>`1 = 1`
      : sql<boolean>`exists (select 1 from catalog_entities re where re.entity_ref = ${ref} and ${checkSelection(context, { filter: readable }, entityColumns('re'))})`;
  const errorVisible = sql<boolean>`(ce.entity_ref is null or ${isReadable(sql.ref('ce.entity_ref'))})`;

  let locations = db
    .selectFrom('catalog_locations as l')
    .select(['l.id', 'l.type', 'l.target', 'l.refreshed_at'])
    .orderBy('l.created_at')
    .orderBy('l.position')
    .orderBy('l.id');

  if (location) {
    locations = locations.where((eb) =>
      eb.or([eb('l.id', '=', location), eb('l.target', '=', location)]),
    );
  }
  if (entityRef) {
    locations = locations.where(sql<boolean>`(
      l.id in (
        select se.location_id from catalog_entities se
        where se.entity_ref = ${entityRef} and ${isReadable(sql.ref('se.entity_ref'))}
      )
      or l.id in (
        select ce.location_id from catalog_errors ce
        where ce.entity_ref = ${entityRef} and ${errorVisible}
      )
      ${faultLocationsOfRef.length > 0 ? sql`or l.id in (${sql.join(faultLocationsOfRef)})` : sql``}
    )`);
  }

  const rows = await locations.execute();
  if (rows.length === 0) {
    return [];
  }

  const ids = rows.map((row) => row.id);
  const errors: CatalogErrorSelection[] = [];
  for (let start = 0; start < ids.length; start += 500) {
    const chunk = await db
      .selectFrom('catalog_errors as ce')
      .selectAll()
      .where('ce.location_id', 'in', ids.slice(start, start + 500))
      .where(errorVisible)
      .orderBy('ce.file')
      .orderBy('ce.doc_index')
      .orderBy('ce.line')
      .orderBy('ce.id')
      .execute();
    errors.push(...chunk);
  }

  const byLocation = new Map<string, LocationIngestionReport['errors']>();
  for (const error of errors) {
    const list = byLocation.get(error.location_id) ?? [];
    list.push({
      severity: error.severity,
      ...(error.file === null ? {} : { file: error.file }),
      ...(error.doc_index === null ? {} : { docIndex: error.doc_index }),
      ...(error.line === null ? {} : { line: error.line }),
      ...(error.entity_ref === null ? {} : { entityRef: error.entity_ref }),
      ...(error.field === null ? {} : { field: error.field }),
      message: error.message,
      ...(error.code === null ? {} : { code: error.code }),
    });
    byLocation.set(error.location_id, list);
  }
  mergeEntityFaults(byLocation, entityFaults);

  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    target: row.target,
    refreshedAt: row.refreshed_at,
    errors: byLocation.get(row.id) ?? [],
  }));
}

/** Keeps the faults whose entity is stored and readable; every fault when `readable` is undefined. */
async function keepReadableFaults(
  context: QueryContext,
  faults: readonly EntityFault[],
  readable: EntityFilter | undefined,
): Promise<readonly EntityFault[]> {
  if (readable === undefined || faults.length === 0) {
    return faults;
  }
  const refs = [...new Set(faults.map((fault) => fault.entityRef))];
  const kept = new Set<string>();
  for (let start = 0; start < refs.length; start += 500) {
    const result = await sql<{ entity_ref: string }>`
      select re.entity_ref as entity_ref from catalog_entities re
      where re.entity_ref in (${sql.join(refs.slice(start, start + 500))})
        and ${checkSelection(context, { filter: readable }, entityColumns('re'))}
    `.execute(context.db);
    for (const row of result.rows) {
      kept.add(row.entity_ref);
    }
  }
  return faults.filter((fault) => kept.has(fault.entityRef));
}

/**
 * Adds each fault to its location's list: after the errors of the same file
 * up to its document, or at the end when its file has none, so the stored
 * errors keep the database's order.
 */
function mergeEntityFaults(
  byLocation: Map<string, LocationIngestionReport['errors']>,
  faults: readonly EntityFault[],
): void {
  for (const fault of faults) {
    const list = byLocation.get(fault.locationId) ?? [];
    const docIndex = fault.docIndex ?? Number.MAX_SAFE_INTEGER;
    const after = list.findLastIndex(
      (error) => error.file === fault.file && (error.docIndex ?? -1) <= docIndex,
    );
    list.splice(after === -1 ? list.length : after + 1, 0, {
      severity: fault.severity,
      file: fault.file,
      ...(fault.docIndex === undefined ? {} : { docIndex: fault.docIndex }),
      entityRef: fault.entityRef,
      field: fault.field,
      message: fault.message,
      code: fault.code,
    });
    byLocation.set(fault.locationId, list);
  }
}
