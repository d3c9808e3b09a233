import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/index.js';
import type { PermissionService } from '../permissions/index.js';

// NOTE: placeholder with the final signatures; the Luigi shell replaces it.

export interface Shell {
  registerRoutes(app: FastifyInstance): Promise<void>;
}

/** Validates `shell.nodes` (throwing a ConfigError with every fault) and returns the shell. */
export function createShell(_options: {
  config: AppConfig;
  logger: Logger;
  permissions: PermissionService;
}): Shell {
  return { registerRoutes: async () => {} };
}
