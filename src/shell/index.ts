import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { EntityFault, StoredEntity } from '../catalog/index.js';
import type { AppConfig } from '../config/index.js';
import type {
  PermissionDefinition,
  PermissionRegistry,
  PermissionService,
  Principal,
} from '../permissions/index.js';
import {
  createMicroFrontendRegistry,
  type MicroFrontendSource,
  mergeStored,
} from './micro-frontend-registry.js';
import { badgeCounterOrigins, externalViewOrigins, validateShellNodes } from './node-validation.js';
import type { MergedNavigation } from './registrations.js';
import { registerShellRoutes } from './routes.js';
import { loadJwtSigningKey } from './signing-key.js';
import { indexTokenNodes, type TokenNode } from './token.js';

export {
  buildGlobalContext,
  type GlobalContextAuthorizer,
  type ShellGlobalContext,
} from './global-context.js';
export {
  MICRO_FRONTEND_API_VERSION,
  MICRO_FRONTEND_KIND,
  REGISTRATION_CODES,
  type RegistrationFault,
} from './micro-frontend-entity.js';
export {
  createMicroFrontendRegistry,
  type MicroFrontendRegistry,
  type MicroFrontendSource,
  mergeStored,
} from './micro-frontend-registry.js';
export {
  buildUserNavigation,
  type LuigiNode,
  type NavigationAuthorizer,
  profileFromPrincipal,
  type ShellConfigResponse,
  type ShellProfile,
} from './navigation.js';
export { type DroppedNode, type ValidatedNodes, validateShellNodes } from './node-validation.js';
export { MICRO_FRONTEND_POLICY, shellPagePolicy } from './pages.js';

export interface Shell {
  registerRoutes(app: FastifyInstance): Promise<void>;
  /** Lists why MicroFrontend entities of the catalog are not served, for the catalog's error list. */
  registrationFaults(): Promise<EntityFault[]>;
}

export interface ShellOptions {
  config: AppConfig;
  logger: Logger;
  permissions: PermissionService;
  /** Finds the signed-in user of a request; without one the shell page redirects to sign-in. */
  authenticate(request: FastifyRequest): Promise<Principal | undefined>;
  /** The catalog's MicroFrontend entities; without it only `shell.nodes` are served. */
  microFrontends?: MicroFrontendSource | undefined;
  /** Folder of the built browser bundles; `dist/web` of this package by default. */
  webRoot?: string;
}

/** Validates `shell.nodes` (throwing a ConfigError with every fault) and returns the shell. */
export function createShell(options: ShellOptions): Shell {
  const { config, logger, permissions } = options;
  const { nodes, dropped } = validateShellNodes(config.shell.nodes, permissions.registry, {
    allowedOrigins: config.shell.allowedOrigins,
  });
  for (const node of dropped) {
    logger.error(
      { node: node.nodePath, field: node.field },
      `shell node leads nowhere and is left out: ${node.reason}`,
    );
  }

  const webRoot = options.webRoot ?? path.join(findPackageRoot(), 'dist', 'web');
  if (!existsSync(webRoot)) {
    logger.warn({ webRoot }, 'browser bundles are missing: run npm run build');
  }

  // Throws a ConfigError for bad audiences in shell.nodes now, before any token request.
  indexTokenNodes(nodes, permissions.registry);

  const registrations = createMicroFrontendRegistry({
    staticNodes: nodes,
    rules: {
      registry: permissions.registry,
      allowedOrigins: config.shell.allowedOrigins,
      entityPage: config.shell.entityPage,
    },
    source: options.microFrontends,
    logger,
  });

  const require = createRequire(import.meta.url);
  const luigiPackageFile = require.resolve('@luigi-project/core/package.json');
  const luigiVersion = (JSON.parse(readFileSync(luigiPackageFile, 'utf8')) as { version: string })
    .version;

  // The merged navigation is a new object only when the catalog changed, so each is indexed once.
  const tokenIndexes = new WeakMap<MergedNavigation, Map<string, TokenNode>>();
  const findTokenNode = async (nodePath: string): Promise<TokenNode | undefined> => {
    const merged = await registrations.current();
    let index = tokenIndexes.get(merged);
    if (!index) {
      index = indexTokenNodes(merged.nodes, permissions.registry);
      tokenIndexes.set(merged, index);
    }
    return index.get(nodePath);
  };

  return {
    registrationFaults: async () =>
      (await registrations.current()).faults.map((fault) => ({ severity: 'error', ...fault })),
    registerRoutes: async (app) =>
      registerShellRoutes(app, {
        title: config.shell.title,
        nodes,
        registrations,
        permissions,
        authenticate: options.authenticate,
        webRoot,
        luigiRoot: path.dirname(luigiPackageFile),
        luigiVersion,
        frameOrigins: [...new Set([...externalViewOrigins(nodes), ...config.shell.allowedOrigins])],
        connectOrigins: badgeCounterOrigins(nodes),
        tokens: {
          key: await loadJwtSigningKey({
            keyFile: config.shell.jwt.keyFile,
            database: config.database,
            logger,
          }),
          issuer: config.app.baseUrl,
          lifetimeSeconds: config.shell.jwt.lifetimeSeconds,
          permissions,
          // Nodes and entity tabs registered in the catalog are served with their audience too.
          findTokenNode,
        },
      }),
  };
}

/**
 * Checks stored MicroFrontend entities as the running shell would: it
 * returns the served entities and the faults of the others. Throws the
 * ConfigError of invalid `shell.nodes`, as start-up does.
 */
export function checkMicroFrontendRegistrations(
  config: AppConfig,
  registry: PermissionRegistry,
  stored: readonly StoredEntity[],
): MergedNavigation {
  const { nodes } = validateShellNodes(config.shell.nodes, registry, {
    allowedOrigins: config.shell.allowedOrigins,
  });
  return mergeStored(nodes, stored, {
    registry,
    allowedOrigins: config.shell.allowedOrigins,
    entityPage: config.shell.entityPage,
  });
}

/**
 * Returns the basic permissions of `shell.permissions`, which guard micro
 * frontends registered in the catalog. They must be registered before the
 * roles file is loaded, so that roles can grant them.
 */
export function shellPermissions(config: AppConfig): PermissionDefinition[] {
  return config.shell.permissions.map((permission) => ({
    name: permission.name,
    action: 'use',
    description: permission.description,
  }));
}

/** Finds the folder of this package's package.json, above src/shell/ or dist/server/shell/. */
function findPackageRoot(): string {
  let folder = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(folder, 'package.json'))) {
    const parent = path.dirname(folder);
    if (parent === folder) {
      throw new Error(`No package.json above ${fileURLToPath(import.meta.url)}`);
    }
    folder = parent;
  }
  return folder;
}
