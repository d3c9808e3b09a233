/** An entity as `GET /api/catalog/entities/by-name/...` returns it, with Backstage's relations. */
export interface Entity {
  apiVersion?: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    title?: string;
    description?: string;
    tags?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    links?: Array<{ url: string; title?: string; icon?: string; type?: string }>;
  };
  spec?: Record<string, unknown>;
  relations?: Array<{ type: string; targetRef: string }>;
}

/** One error or warning found while reading a catalog location. */
export interface IngestionProblem {
  severity?: string;
  file?: string;
  docIndex?: number;
  line?: number;
  entityRef?: string;
  field?: string;
  message: string;
}

/** A catalog location with the problems of its last refresh. */
export interface IngestionLocation {
  id?: string;
  type?: string;
  target?: string;
  refreshedAt?: string;
  errors?: IngestionProblem[];
}

/** Reads the locations of `GET /api/catalog/ingestion-errors`, whose body is `{ items }`. */
export function readLocations(body: unknown): IngestionLocation[] {
  const items = (body as { items?: unknown } | undefined)?.items;
  return Array.isArray(items) ? (items as IngestionLocation[]) : [];
}
