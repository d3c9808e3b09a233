import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ProvidedEntities } from '../catalog/index.js';
import type { AppConfig } from '../config/index.js';
import type { DatabaseHandle } from '../database/index.js';
import { registerScimRoutes } from './routes.js';
import { type ScimAuditAppend, ScimService } from './service.js';
import { ScimTokens } from './tokens.js';

export { registerScimCommands } from './cli.js';
export {
  SCIM_ENTITY_PROVIDER,
  SCIM_EXTERNAL_ID_ANNOTATION,
  SCIM_ID_ANNOTATION,
  toEntityName,
} from './entities.js';
export { ScimError, type ScimErrorType } from './errors.js';
export { scimMigrations } from './migrations.js';
export { SCIM_PATH } from './routes.js';
export { SCIM_CONTENT_TYPE, SCIM_SCHEMAS } from './schemas.js';
export type { ScimAuditAppend, ScimAuditEvent, ScimService } from './service.js';
export type { ScimTables } from './tables.js';
export { type ScimClient, type ScimTokenInfo, ScimTokens } from './tokens.js';

export interface Scim {
  service: ScimService;
  tokens: ScimTokens;
  /** Registers the /scim/v2 routes. */
  registerRoutes(app: FastifyInstance): Promise<void>;
  /** Writes every provisioned user and group to the catalog, as at start-up. */
  syncCatalog(): Promise<void>;
}

export interface CreateScimOptions {
  config: AppConfig;
  database: DatabaseHandle;
  logger: Logger;
  /** The catalog's store of provided entities: `catalog.providedEntities`. */
  providedEntities: ProvidedEntities;
  /** Makes the sessions of these users resolve their principal again at their next request. */
  onPrincipalsChanged(userRefs: string[]): Promise<unknown>;
  /** Appends an audit record inside the transaction of each change. */
  audit?: ScimAuditAppend | undefined;
  clock?: () => Date;
}

/**
 * Composes SCIM 2.0 provisioning: its tokens, the service that turns users
 * and groups into catalog User and Group entities, and the /scim/v2 routes.
 */
export function createScim(options: CreateScimOptions): Scim {
  const logger = options.logger.child({ capability: 'scim' });
  const tokens = new ScimTokens(options.database, options.clock);
  const service = new ScimService({
    database: options.database,
    logger,
    providedEntities: options.providedEntities,
    mapping: {
      groupType: options.config.scim.groupType,
      groupExternalIdAnnotation: options.config.scim.groupExternalIdAnnotation,
    },
    onPrincipalsChanged: options.onPrincipalsChanged,
    audit: options.audit,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    service,
    tokens,
    registerRoutes: (app) =>
      registerScimRoutes(app, {
        service,
        tokens,
        baseUrl: options.config.app.baseUrl.replace(/\/+$/, ''),
        logger,
      }),
    syncCatalog: () => service.syncCatalog(),
  };
}
