import type { Logger } from 'pino';
import type { StoredEntity } from '../catalog/index.js';
import type { ShellNodeConfig } from '../config/index.js';
import {
  MICRO_FRONTEND_KIND,
  type MicroFrontendEntity,
  parseMicroFrontendEntity,
  type RegistrationFault,
} from './micro-frontend-entity.js';
import {
  type MergedNavigation,
  mergeRegistrations,
  type RegistrationRules,
} from './registrations.js';

/** The catalog's read side, as the registry needs it. */
export interface MicroFrontendSource {
  /** Reads the stored entities of a kind, sorted by reference. */
  readEntitiesByKind(kind: string): Promise<StoredEntity[]>;
  /** Returns a value that changes whenever a catalog refresh commits. */
  readVersion(): Promise<string>;
}

export interface MicroFrontendRegistry {
  /**
   * Returns the configured nodes with the served registrations merged in.
   * It reads the catalog again only when its version changed.
   */
  current(): Promise<MergedNavigation>;
}

export interface MicroFrontendRegistryOptions {
  staticNodes: readonly ShellNodeConfig[];
  rules: RegistrationRules;
  /** Without a source, only the configured nodes are served. */
  source?: MicroFrontendSource | undefined;
  logger: Logger;
}

/**
 * Keeps the merged navigation of the last catalog version it saw. A reload
 * of the roles file needs no refresh here, because each request decides
 * every node's permission again.
 */
export function createMicroFrontendRegistry(
  options: MicroFrontendRegistryOptions,
): MicroFrontendRegistry {
  const { staticNodes, rules, source, logger } = options;
  const empty: MergedNavigation = { nodes: [...staticNodes], served: [], faults: [] };
  if (!source) {
    return { current: async () => empty };
  }

  let cached: { version: string; navigation: MergedNavigation } | undefined;
  let pending: Promise<MergedNavigation> | undefined;

  const reload = async (): Promise<MergedNavigation> => {
    const version = await source.readVersion();
    if (cached?.version === version) {
      return cached.navigation;
    }
    const stored = await source.readEntitiesByKind(MICRO_FRONTEND_KIND);
    const navigation = mergeStored(staticNodes, stored, rules);
    logChanges(logger, cached?.navigation, navigation);
    cached = { version, navigation };
    return navigation;
  };

  return {
    // Concurrent requests share one read, so a burst after a refresh reads the catalog once.
    current: () => {
      pending ??= reload().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}

/** Parses stored MicroFrontend entities and merges those that pass every check. */
export function mergeStored(
  staticNodes: readonly ShellNodeConfig[],
  stored: readonly StoredEntity[],
  rules: RegistrationRules,
): MergedNavigation {
  const parsed: MicroFrontendEntity[] = [];
  const faults: RegistrationFault[] = [];
  for (const entity of stored) {
    const result = parseMicroFrontendEntity(entity);
    if (Array.isArray(result)) {
      faults.push(...result);
    } else {
      parsed.push(result);
    }
  }
  const merged = mergeRegistrations(staticNodes, parsed, rules);
  return { ...merged, faults: [...faults, ...merged.faults] };
}

/** Logs each registration that starts or stops being served, and each new fault. */
function logChanges(
  logger: Logger,
  before: MergedNavigation | undefined,
  after: MergedNavigation,
): void {
  const servedBefore = new Set(before?.served ?? []);
  for (const entityRef of after.served) {
    if (!servedBefore.has(entityRef)) {
      logger.info({ entityRef }, 'micro frontend registered');
    }
  }
  const servedAfter = new Set(after.served);
  for (const entityRef of servedBefore) {
    if (!servedAfter.has(entityRef)) {
      logger.info({ entityRef }, 'micro frontend no longer served');
    }
  }
  const known = new Set(
    (before?.faults ?? []).map((fault) => `${fault.entityRef} ${fault.message}`),
  );
  for (const fault of after.faults) {
    if (!known.has(`${fault.entityRef} ${fault.message}`)) {
      logger.warn(
        { entityRef: fault.entityRef, file: fault.file, field: fault.field, code: fault.code },
        `micro frontend not served: ${fault.message}`,
      );
    }
  }
}
