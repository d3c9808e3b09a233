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
