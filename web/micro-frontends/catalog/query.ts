/** An entity as the list shows it: only the fields requested with `fields`. */
export interface ListedEntity {
  kind: string;
  metadata: { name: string; namespace?: string; title?: string; description?: string };
  spec?: { type?: unknown; owner?: unknown; lifecycle?: unknown; system?: unknown };
}

/** Body of `GET /api/catalog/entities/by-query`, as in Backstage. */
export interface QueryResponse {
  items: ListedEntity[];
  totalItems: number;
  pageInfo: { nextCursor?: string; prevCursor?: string };
}

/** Body of `GET /api/catalog/entity-facets`, as in Backstage. */
export interface FacetsResponse {
  facets: Record<string, Array<{ value: string; count: number }>>;
}

export interface CatalogFilters {
  kind: string;
  owner: string;
  text: string;
}

export interface CatalogSort {
  /** Entity field path, such as `metadata.name`. */
  field: string;
  direction: 'asc' | 'desc';
}

export const PAGE_SIZE = 25;

const API = '/api/catalog';

/** Only the fields the table shows, so a page stays small. */
const LIST_FIELDS = [
  'kind',
  'metadata.name',
  'metadata.namespace',
  'metadata.title',
  'metadata.description',
  'spec.type',
  'spec.owner',
  'spec.lifecycle',
  'spec.system',
];

/** Fields the search box matches, case-insensitively, anywhere in the value. */
const FULL_TEXT_FIELDS = ['metadata.name', 'metadata.title', 'metadata.description'];

/** URL of the first page for the filters and sort order. */
export function firstPageUrl(filters: CatalogFilters, sort: CatalogSort): string {
  const params = new URLSearchParams();
  const conditions: string[] = [];
  if (filters.kind) conditions.push(`kind=${filters.kind}`);
  if (filters.owner) conditions.push(`spec.owner=${filters.owner}`);
  if (conditions.length > 0) params.append('filter', conditions.join(','));

  const text = filters.text.trim();
  if (text) {
    params.set('fullTextFilterTerm', text);
    params.set('fullTextFilterFields', FULL_TEXT_FIELDS.join(','));
  }
  params.set('orderField', `${sort.field},${sort.direction}`);
  params.set('limit', String(PAGE_SIZE));
  params.set('fields', LIST_FIELDS.join(','));
  return `${API}/entities/by-query?${params}`;
}

/** URL of a later page: the cursor carries the filters and the order. */
export function cursorPageUrl(cursor: string): string {
  const params = new URLSearchParams({
    cursor,
    limit: String(PAGE_SIZE),
    fields: LIST_FIELDS.join(','),
  });
  return `${API}/entities/by-query?${params}`;
}

export function facetsUrl(): string {
  return `${API}/entity-facets?facet=kind&facet=spec.owner`;
}
