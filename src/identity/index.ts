import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { CatalogDirectory } from '../catalog/index.js';
import type { AppConfig } from '../config/index.js';
import type { DatabaseHandle, MigrationSet } from '../database/index.js';
import type { Principal } from '../permissions/index.js';

// NOTE: placeholder with the final signatures; sign-in and sessions replace it.

export const identityMigrations: MigrationSet = { name: 'identity', migrations: () => ({}) };

export interface Identity {
  /** Finds the signed-in user of a request from its session cookie. */
  authenticate(request: FastifyRequest): Promise<Principal | undefined>;
  registerRoutes(app: FastifyInstance): Promise<void>;
  close(): Promise<void>;
}

export async function createIdentity(_options: {
  config: AppConfig;
  database: DatabaseHandle;
  logger: Logger;
  directory: CatalogDirectory;
}): Promise<Identity> {
  return {
    authenticate: async () => undefined,
    registerRoutes: async () => {},
    close: async () => {},
  };
}
