import { stringifyEntityRef } from '@backstage/catalog-model';
import type { FastifyInstance } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import { NotFoundError } from '../../errors/index.js';
import type { CatalogErrorRow, CatalogTables } from '../tables.js';
import { CATALOG_LOCATION_READ } from './permissions.js';
import { type QueryParams, singleParam } from './query-params.js';

type CatalogErrorSelection = Selectable<CatalogErrorRow>;

const readLocations = { config: { access: { permission: CATALOG_LOCATION_READ } } };

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
 * `GET /ingestion-errors`.
 */
export function registerLocationRoutes(app: FastifyInstance, db: Kysely<CatalogTables>): void {
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

  // NOTE: this returns the location of any stored entity without checking catalog.entity.read,
  // as the ingestion errors do, because a reader of locations can read every entity reference there.
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
      const row = await db
        .selectFrom('catalog_entities as e')
        .innerJoin('catalog_locations as l', 'l.id', 'e.location_id')
        .select(['l.id', 'l.type', 'l.target'])
        .where('e.entity_ref', '=', ref)
        .executeTakeFirst();
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
    return { items: await listIngestionReports(db, { entityRef, location }) };
  });
}

/**
 * Lists locations with their current errors and warnings. `entityRef` keeps
 * the location that stores the entity and any location with an error about
 * it; `location` keeps the location with that id or target.
 */
export async function listIngestionReports(
  db: Kysely<CatalogTables>,
  options: { entityRef?: string | undefined; location?: string | undefined },
): Promise<LocationIngestionReport[]> {
  let locations = db
    .selectFrom('catalog_locations as l')
    .select(['l.id', 'l.type', 'l.target', 'l.refreshed_at'])
    .orderBy('l.created_at')
    .orderBy('l.position')
    .orderBy('l.id');

  const { entityRef, location } = options;
  if (location) {
    locations = locations.where((eb) =>
      eb.or([eb('l.id', '=', location), eb('l.target', '=', location)]),
    );
  }
  if (entityRef) {
    locations = locations.where((eb) =>
      eb.or([
        eb(
          'l.id',
          'in',
          eb
            .selectFrom('catalog_entities')
            .select('location_id')
            .where('entity_ref', '=', entityRef),
        ),
        eb(
          'l.id',
          'in',
          eb.selectFrom('catalog_errors').select('location_id').where('entity_ref', '=', entityRef),
        ),
      ]),
    );
  }

  const rows = await locations.execute();
  if (rows.length === 0) {
    return [];
  }

  const ids = rows.map((row) => row.id);
  const errors: CatalogErrorSelection[] = [];
  for (let start = 0; start < ids.length; start += 500) {
    const chunk = await db
      .selectFrom('catalog_errors')
      .selectAll()
      .where('location_id', 'in', ids.slice(start, start + 500))
      .orderBy('file')
      .orderBy('doc_index')
      .orderBy('line')
      .orderBy('id')
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

  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    target: row.target,
    refreshedAt: row.refreshed_at,
    errors: byLocation.get(row.id) ?? [],
  }));
}
