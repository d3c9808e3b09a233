import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import {
  type AuditEvent,
  type AuditTrail,
  type BatchedAppender,
  requestContext,
} from './audit/index.js';
import { type LocationRefreshReport, readOrganisation } from './catalog/index.js';
import type { DatabaseHandle } from './database/index.js';
import { PortalError } from './errors/index.js';
import type { AccessDenial } from './http/index.js';
import type { Policy } from './permissions/index.js';
import { buildOrganisation } from './permissions/organisation.js';
import { type PolicyPlan, planPolicyChange, type SubjectChanges } from './permissions/plan.js';
import type { PermissionRegistry } from './permissions/registry.js';
import type { RolesChangeListener } from './permissions/service.js';

/**
 * The actor of what the portal does on its own, such as reading its config,
 * reloading the roles file or refreshing the catalog. `portal` is not one of
 * Backstage's entity kinds, so the reference names no entity.
 */
export const PORTAL_ACTOR = 'portal:backstage-luigi';

/** Users and groups of a roles plan that a record lists by name; the rest are only counted. */
export const MAX_PLAN_SUBJECTS = 100;

/** Errors and warnings of a location refresh that a record lists; the rest are only counted. */
export const MAX_REFRESH_FAULTS = 20;

// biome-ignore lint/suspicious/noExplicitAny: the audit trail appends to its own tables.
type AnyDatabase = Kysely<any>;

/**
 * Appends a standalone record; an error is logged and not thrown, because
 * the portal's own events must not stop the work they describe.
 */
async function appendLogged(
  audit: AuditTrail,
  db: AnyDatabase,
  logger: Logger,
  event: AuditEvent,
): Promise<void> {
  try {
    await audit.append(db, event);
  } catch (error) {
    logger.error({ err: error, action: event.action }, 'audit record could not be appended');
  }
}

/** Records which configuration files the portal read. The values are never recorded. */
export async function recordConfigLoaded(
  audit: AuditTrail,
  database: DatabaseHandle,
  logger: Logger,
  files: readonly string[],
): Promise<void> {
  await appendLogged(audit, database.db, logger, {
    actor: PORTAL_ACTOR,
    action: 'config.loaded',
    outcome: 'succeeded',
    details: { files: [...files], database: database.dialect },
  });
}

/** Records the roles file read at start-up, with the names of its roles. */
export async function recordPolicyLoaded(
  audit: AuditTrail,
  database: DatabaseHandle,
  logger: Logger,
  rolesFile: string,
  policy: Policy,
): Promise<void> {
  await appendLogged(audit, database.db, logger, {
    actor: PORTAL_ACTOR,
    action: 'policy.loaded',
    target: rolesFile,
    outcome: 'succeeded',
    details: { roles: policy.roles.roles.map((role) => role.name) },
  });
}

/** Records a roles file that failed its checks at start-up, which stops the portal. */
export async function recordPolicyRejectedAtStart(
  audit: AuditTrail,
  database: DatabaseHandle,
  logger: Logger,
  rolesFile: string,
  error: unknown,
): Promise<void> {
  await appendLogged(audit, database.db, logger, {
    actor: PORTAL_ACTOR,
    action: 'policy.loaded',
    target: rolesFile,
    outcome: 'failed',
    reason: errorMessage(error),
    details: { faults: faultsOf(error) },
  });
}

export interface RolesChangeRecorderOptions {
  audit: AuditTrail;
  database: DatabaseHandle;
  logger: Logger;
  rolesFile: string;
  registry: PermissionRegistry;
  transitiveGroupOwnership: boolean;
}

/**
 * Creates the listener that records each reload of the watched roles file
 * as `policy.reloaded`. A reload that succeeded carries the plan: who
 * gained, lost or changed which permission, over the users and groups of
 * the catalog. A failed one carries the faults that kept the last valid
 * roles in force.
 */
export function createRolesChangeRecorder(
  options: RolesChangeRecorderOptions,
): RolesChangeListener {
  const { audit, database, logger, rolesFile } = options;
  return async (change) => {
    if (change.result === 'rejected') {
      await appendLogged(audit, database.db, logger, {
        actor: PORTAL_ACTOR,
        action: 'policy.reloaded',
        target: rolesFile,
        outcome: 'failed',
        reason: `${errorMessage(change.error)}; the last valid roles stay in force`,
        details: { faults: faultsOf(change.error) },
      });
      return;
    }

    const organisation = buildOrganisation(await readOrganisation(database));
    const plan = planPolicyChange(change.before, change.after, {
      registry: options.registry,
      organisation,
      transitiveGroupOwnership: options.transitiveGroupOwnership,
    });
    await appendLogged(audit, database.db, logger, {
      actor: PORTAL_ACTOR,
      action: 'policy.reloaded',
      target: rolesFile,
      outcome: 'succeeded',
      details: {
        roles: change.after.roles.roles.map((role) => role.name),
        plan: summarisePlan(plan),
      },
    });
  };
}

/**
 * Summarises a plan per user and group: the names of the permissions gained,
 * lost and changed, without their conditions, so that a record stays small.
 * At most MAX_PLAN_SUBJECTS users and as many groups are listed.
 */
export function summarisePlan(plan: PolicyPlan): Record<string, unknown> {
  return {
    usersCompared: plan.usersCompared,
    groupsCompared: plan.groupsCompared,
    usersChanged: plan.users.length,
    groupsChanged: plan.groups.length,
    users: plan.users.slice(0, MAX_PLAN_SUBJECTS).map(summariseSubject),
    groups: plan.groups.slice(0, MAX_PLAN_SUBJECTS).map(summariseSubject),
  };
}

function summariseSubject(changes: SubjectChanges): Record<string, unknown> {
  const summary: Record<string, unknown> = { subject: changes.subject };
  for (const key of ['gained', 'lost', 'changed'] as const) {
    if (changes[key].length > 0) {
      summary[key] = changes[key].map((change) => change.permission);
    }
  }
  return summary;
}

/**
 * Creates the catalog's `onLocationRefreshed` hook, which records
 * `catalog.location.refreshed` for every location refresh with its counts
 * and where its first errors and warnings are.
 *
 * NOTE: The record is appended after the location's transaction has
 * committed, in a transaction of its own, because on SQLite the ingestion
 * writes through a raw connection and not a Kysely transaction. A crash
 * between the two commits loses the record of that refresh.
 */
export function createLocationRefreshRecorder(options: {
  audit: AuditTrail;
  database: DatabaseHandle;
  logger: Logger;
}): (report: LocationRefreshReport) => Promise<void> {
  const { audit, database, logger } = options;
  return async (report) => {
    const { location } = report;
    const base = {
      actor: PORTAL_ACTOR,
      action: 'catalog.location.refreshed',
      target: `${location.type}:${location.target}`,
    };
    const where = { locationId: location.id, declaredBy: location.parentEntityRef };

    if ('error' in report) {
      await appendLogged(audit, database.db, logger, {
        ...base,
        outcome: 'failed',
        reason: errorMessage(report.error),
        details: where,
      });
      return;
    }

    const { outcome } = report;
    const faults = [...outcome.issues].sort(
      (a, b) => Number(b.severity === 'error') - Number(a.severity === 'error'),
    );
    await appendLogged(audit, database.db, logger, {
      ...base,
      outcome: 'succeeded',
      details: {
        ...where,
        entities: outcome.entities,
        added: outcome.derived.appeared.length,
        removed: outcome.derived.disappeared.length,
        errors: outcome.errors,
        warnings: outcome.warnings,
        // Messages quote values from the files, which may hold a secret that
        // the append-only trail could never drop, so only their place and
        // code are recorded; GET /api/catalog/ingestion-errors has the text.
        faults: faults.slice(0, MAX_REFRESH_FAULTS).map((issue) => ({
          severity: issue.severity,
          code: issue.code,
          file: issue.file,
          line: issue.line,
          field: issue.field,
          entityRef: issue.entityRef,
        })),
      },
    });
  };
}

/**
 * Creates the HTTP server's `onAccessDenied` hook: one record per rejected
 * request. A 401 (no valid session or token) is `auth.unauthenticated`, with
 * an anonymous actor. A 403 is `permission.denied` when the route's
 * permission is denied, and `auth.rejected` when the credentials were
 * refused for another reason, such as a session request from another
 * origin. The appender shares transactions among denials that arrive
 * together, so a flood of them costs one commit per batch.
 */
export function createAccessDenialRecorder(options: {
  appender: BatchedAppender;
  /** The session cookie's name, to tell a missing session from an unknown or expired one. */
  cookieName: string;
}): (request: FastifyRequest, denial: AccessDenial) => Promise<void> {
  return async (request, denial) => {
    const details: Record<string, unknown> = {
      method: request.method,
      route: request.routeOptions.url,
    };
    if (denial.permission) {
      details.permission = denial.permission;
    }
    const authorization = request.headers.authorization;
    if (typeof authorization === 'string') {
      details.authScheme = authSchemeOf(authorization);
    } else if (denial.status === 401) {
      details.session = request.cookies?.[options.cookieName] ? 'unknown or expired' : 'missing';
    }

    await options.appender.append({
      actor: request.principal?.userEntityRef,
      action: actionOf(denial),
      target: request.url.split('?')[0],
      outcome: 'denied',
      reason: denial.reason,
      request: requestContext(request),
      details,
    });
  };
}

/** Authorization schemes that a record names; any other value is recorded as `other`. */
const KNOWN_AUTH_SCHEMES = ['Basic', 'Bearer', 'Digest', 'DPoP', 'Negotiate', 'OAuth'];

/**
 * Returns the scheme of an Authorization header value, such as `Bearer`,
 * or `other`. Only a known scheme is recorded, because a client that sends
 * a bare token has no scheme, and its first word is the credential itself.
 */
function authSchemeOf(authorization: string): string {
  const [first = '', credentials] = authorization.trim().split(/\s+/, 2);
  const scheme = KNOWN_AUTH_SCHEMES.find((known) => known.toLowerCase() === first.toLowerCase());
  return scheme !== undefined && credentials !== undefined ? scheme : 'other';
}

function actionOf(denial: AccessDenial): string {
  if (denial.status === 401) {
    return 'auth.unauthenticated';
  }
  return denial.permission === undefined ? 'auth.rejected' : 'permission.denied';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Returns the path and message of each fault of a PortalError, without the values, which may be anything. */
function faultsOf(error: unknown): Array<{ path?: string; message: string }> {
  if (!(error instanceof PortalError)) {
    return [];
  }
  return error.details.map((detail) =>
    detail.path === undefined
      ? { message: detail.message }
      : { path: detail.path, message: detail.message },
  );
}
