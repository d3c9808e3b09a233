import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/index.js';
import type { PermissionService, Principal } from '../permissions/index.js';
import { externalViewOrigins, validateShellNodes } from './node-validation.js';
import { registerShellRoutes } from './routes.js';

export {
  buildGlobalContext,
  type GlobalContextAuthorizer,
  type ShellGlobalContext,
} from './global-context.js';
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
}

export interface ShellOptions {
  config: AppConfig;
  logger: Logger;
  permissions: PermissionService;
  /** Finds the signed-in user of a request; without one the shell page redirects to sign-in. */
  authenticate(request: FastifyRequest): Promise<Principal | undefined>;
  /** Folder of the built browser bundles; `dist/web` of this package by default. */
  webRoot?: string;
}

/** Validates `shell.nodes` (throwing a ConfigError with every fault) and returns the shell. */
export function createShell(options: ShellOptions): Shell {
  const { config, logger, permissions } = options;
  const { nodes, dropped } = validateShellNodes(config.shell.nodes, permissions.registry);
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

  const require = createRequire(import.meta.url);
  const luigiPackageFile = require.resolve('@luigi-project/core/package.json');
  const luigiVersion = (JSON.parse(readFileSync(luigiPackageFile, 'utf8')) as { version: string })
    .version;

  return {
    registerRoutes: (app) =>
      registerShellRoutes(app, {
        title: config.shell.title,
        nodes,
        permissions,
        authenticate: options.authenticate,
        webRoot,
        luigiRoot: path.dirname(luigiPackageFile),
        luigiVersion,
        frameOrigins: externalViewOrigins(nodes),
      }),
  };
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
