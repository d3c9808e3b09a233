import type { Entity } from '@backstage/catalog-model';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type AuditTrail, requestContext } from '../audit/index.js';
import { CATALOG_ENTITY_READ, CATALOG_ENTITY_RESOURCE_TYPE } from '../catalog/api/index.js';
import type { DatabaseHandle } from '../database/index.js';
import { InputError, NotAllowedError, NotFoundError } from '../errors/index.js';
import type { AccessDenial } from '../http/index.js';
import type { PermissionService } from '../permissions/index.js';
import { RUNBOOK_READ } from './permissions.js';
import { loadRunbooks, type Runbook } from './runbooks.js';

export interface RunbookRouteOptions {
  database: DatabaseHandle;
  permissions: PermissionService;
  audit: AuditTrail;
  /**
   * Records a request that the handler rejects with 403 after deciding
   * runbook.read for the entity. Pass the HTTP layer's own recorder, so the
   * record matches those of the other denied requests.
   */
  onAccessDenied(request: FastifyRequest, denial: AccessDenial): Promise<void>;
  /** Largest runbook file or inline text, in bytes. */
  maxBytes?: number;
}

/** Body of `GET /api/runbooks/by-entity/:kind/:namespace/:name`. */
export interface EntityRunbooks {
  entityRef: string;
  runbooks: Runbook[];
}

/**
 * Registers `GET /api/runbooks/by-entity/:kind/:namespace/:name`. An entity
 * that the caller may not read is not found (404). One they may read but
 * whose runbooks they may not is 403, recorded as `permission.denied`.
 * Every successful read of at least one runbook is recorded as `runbook.read`.
 */
export async function registerRunbookRoutes(
  app: FastifyInstance,
  options: RunbookRouteOptions,
): Promise<void> {
  const { permissions, audit, database } = options;

  app.get(
    '/api/runbooks/by-entity/:kind/:namespace/:name',
    { config: { access: { permission: RUNBOOK_READ } } },
    async (request, reply) => {
      const principal = request.principal;
      if (!principal) {
        throw new Error(
          'The runbook route is not public, so the HTTP layer sets request.principal',
        );
      }
      const { kind, namespace, name } = request.params as Record<string, string>;
      const entityRef = checkEntityRef(`${kind}:${namespace}/${name}`);

      const entity = await findEntity(permissions, entityRef);
      if (
        !entity ||
        permissions.authorize(principal, CATALOG_ENTITY_READ, entity).result !== 'ALLOW'
      ) {
        throw new NotFoundError(`Entity ${entityRef} was not found`);
      }

      if (permissions.authorize(principal, RUNBOOK_READ, entity).result !== 'ALLOW') {
        const error = new NotAllowedError(
          `The runbooks of ${entityRef} are restricted: ${RUNBOOK_READ} is not granted to ${principal.userEntityRef} for this entity`,
        );
        await options.onAccessDenied(request, {
          status: 403,
          permission: RUNBOOK_READ,
          reason: error.message,
        });
        throw error;
      }

      const runbooks = await loadRunbooks(entity, {
        ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
      });
      const failed = runbooks.filter((runbook) => 'error' in runbook);
      if (failed.length > 0) {
        request.log.warn(
          { entityRef, runbooks: failed.map((runbook) => runbook.source) },
          'runbooks could not be shown',
        );
      }

      // Reading a runbook is evidence of on-call work, so the record is
      // appended before anything is sent: no record, no runbook.
      if (runbooks.length > 0) {
        await audit.append(database.db, {
          actor: principal.userEntityRef,
          action: 'runbook.read',
          target: entityRef,
          outcome: 'succeeded',
          request: requestContext(request),
          details: {
            runbooks: runbooks.map((runbook) => ({
              source: runbook.source,
              shown: 'html' in runbook,
            })),
          },
        });
      }

      const body: EntityRunbooks = { entityRef, runbooks };
      return reply.header('cache-control', 'no-store').send(body);
    },
  );
}

/** Letters, digits and `-`, `_`, `.`: the characters of Backstage kinds, namespaces and names. */
const REF_PART = /^[a-z0-9][a-z0-9._-]*$/i;

/**
 * Returns the lowercase reference of the path's kind, namespace and name,
 * or throws InputError for a part that no entity can have, such as one with
 * a NUL, which PostgreSQL would reject in a comparison.
 */
function checkEntityRef(raw: string): string {
  const [kind = '', rest = ''] = raw.split(':');
  const parts = [kind, ...rest.split('/')];
  if (parts.every((part) => REF_PART.test(part))) {
    return raw.toLocaleLowerCase('en-US');
  }
  const shown = JSON.stringify(raw.slice(0, 200));
  const message = `Entity reference ${shown} is invalid: kind, namespace and name contain only letters, digits, '-', '_' and '.', such as /api/runbooks/by-entity/component/default/orders-service`;
  throw new InputError(message, {
    details: [{ path: 'entityRef', value: raw.slice(0, 200), message }],
  });
}

async function findEntity(
  permissions: PermissionService,
  entityRef: string,
): Promise<Entity | undefined> {
  const resources = permissions.registry.getResourceType(CATALOG_ENTITY_RESOURCE_TYPE);
  if (!resources) {
    throw new Error(
      `Resource type ${CATALOG_ENTITY_RESOURCE_TYPE} is not registered: create the catalog before the runbook routes`,
    );
  }
  const [entity] = await resources.getResources([entityRef]);
  return entity as Entity | undefined;
}
