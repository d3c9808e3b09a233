/** One error or warning found while reading a catalog location. */
export interface IngestionFault {
  /** `error` or `warning`; a fault without one counts as an error. */
  severity?: string;
  file?: string;
  /** Index of the YAML document within the file, from 0. */
  docIndex?: number;
  line?: number;
  entityRef?: string;
  field?: string;
  message: string;
  /** Stable kind of fault, such as `entity-invalid` or `location-not-found`. */
  code?: string;
}

/** A catalog location with the faults of its last refresh, as `GET /api/catalog/ingestion-errors` lists it. */
export interface IngestionLocation {
  id?: string;
  type?: string;
  target?: string;
  refreshedAt?: string | null;
  errors?: IngestionFault[];
}

/** Reads the locations of `GET /api/catalog/ingestion-errors`, whose body is `{ items }`. */
export function readIngestionLocations(body: unknown): IngestionLocation[] {
  const items = (body as { items?: unknown } | undefined)?.items;
  return Array.isArray(items) ? (items as IngestionLocation[]) : [];
}

export function severityOf(fault: IngestionFault): string {
  return fault.severity ?? 'error';
}

/** Rank of a severity in display order: errors, then warnings, then anything else. */
export function severityRank(severity: string): number {
  if (severity === 'error') return 0;
  if (severity === 'warning') return 1;
  return 2;
}

/** Formats where a fault is: `file:line`, or the file alone when the line is unknown. */
export function formatFileLine(file: string, line: number | undefined): string {
  return line === undefined ? file : `${file}:${line}`;
}
