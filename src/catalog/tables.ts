import type { Generated } from 'kysely';

/**
 * The catalog's own tables. Entity references in every `*_ref` column are
 * lowercase (`component:default/orders`), as `stringifyEntityRef` writes them,
 * so that comparisons ignore case.
 */
export interface CatalogTables {
  catalog_locations: CatalogLocationRow;
  catalog_entities: CatalogEntityRow;
  catalog_relations: CatalogRelationRow;
  catalog_search: CatalogSearchRow;
  catalog_errors: CatalogErrorRow;
}

/** A registered location: a file or glob from config, or a target of a Location entity. */
export interface CatalogLocationRow {
  id: string;
  type: string;
  /** Absolute file path or glob. */
  target: string;
  /** The location whose Location entity declared this one; null for config locations. */
  parent_id: string | null;
  /** Reference of the Location entity that declared it; null for config locations. */
  parent_entity_ref: string | null;
  /** Position among the config locations, or among the parent's targets; refresh follows it. */
  position: number;
  created_at: string;
  /** When the last refresh finished, successful or not. */
  refreshed_at: string | null;
}

export interface CatalogEntityRow {
  /**
   * Integer id that the relation and search rows use. A changed entity keeps
   * its id, and a new one gets one above every id in use (SQLite) or the next
   * value of the column's identity sequence (PostgreSQL).
   */
  id: Generated<number>;
  entity_ref: string;
  uid: string;
  kind: string;
  namespace: string;
  name: string;
  /** The location that owns the entity; a refresh of another location cannot replace it. */
  location_id: string;
  /** Absolute path of the file the entity was read from, and its document index there. */
  file: string;
  doc_index: number;
  /** The entity as stored, without `relations`, as JSON. */
  body: string;
  etag: string;
  created_at: string;
  updated_at: string;
}

/** One relation emitted while processing an entity; both directions are separate rows. */
export interface CatalogRelationRow {
  /** Id of the entity that emitted the relation. Deleting the entity deletes its rows. */
  originating_id: number;
  source_ref: string;
  type: string;
  target_ref: string;
}

/**
 * Flattened entity fields for filtering, as Backstage's search table:
 * lowercase dotted keys, lowercase values, null when the value is too long.
 */
export interface CatalogSearchRow {
  entity_id: number;
  /**
   * The entity's kind as its reference starts with it (lowercase), so a scan
   * of the key and value index checks kinds without reading the entity.
   */
  entity_kind: string;
  key: string;
  /**
   * Position of the row among its entity's rows, from 0. With the entity and
   * the key it makes the primary key on SQLite, which cannot include a
   * value that may be null.
   */
  ordinal: number;
  value: string | null;
}

export interface CatalogErrorRow {
  id: Generated<number>;
  location_id: string;
  severity: 'error' | 'warning';
  /** Absolute file path, when the fault is in a file. */
  file: string | null;
  /** Index of the YAML document in the file, from 0. */
  doc_index: number | null;
  /** Line in the file, from 1. */
  line: number | null;
  entity_ref: string | null;
  /** Dotted field path such as `spec.lifecycle`. */
  field: string | null;
  message: string;
  /**
   * Stable kind of fault, such as `entity-invalid`, `entity-conflict` or
   * `dangling-reference` (see ISSUE_CODES in ingestion/issues.ts); null when
   * the writer gives none.
   */
  code: string | null;
  created_at: string;
}
