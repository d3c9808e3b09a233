/**
 * A fault about a stored entity that another capability finds, such as a
 * MicroFrontend entity that the shell does not serve. The catalog lists it
 * with the ingestion errors of the entity's location.
 */
export interface EntityFault {
  severity: 'error' | 'warning';
  /** Id of the catalog location that stores the entity. */
  locationId: string;
  /** Absolute path of the file the entity was read from, and its document index there. */
  file: string;
  docIndex?: number;
  /** Lowercase reference of the stored entity. */
  entityRef: string;
  /** Dotted field path such as `spec.viewUrl`. */
  field: string;
  message: string;
  /** Stable kind of fault, such as `micro-frontend-origin-not-allowed`. */
  code: string;
}

/** Returns the current faults of one capability; called on each request for the error list. */
export type EntityFaultSource = () => Promise<readonly EntityFault[]>;
