import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isStatementTimeout } from '../database/index.js';
import {
  AuthenticationError,
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '../errors/index.js';
import { ScimError, type ScimErrorType } from './errors.js';
import {
  type AttributeSelection,
  excludesMembers,
  groupResource,
  parseAttributeSelection,
  selectAttributes,
  userResource,
} from './render.js';
import {
  resourceTypeDocuments,
  SCIM_CONTENT_TYPE,
  SCIM_SCHEMAS,
  schemaDocuments,
  serviceProviderConfig,
} from './schemas.js';
import type { ScimChangeContext, ScimListQuery, ScimService } from './service.js';
import type { ScimClient, ScimTokens } from './tokens.js';

/** Path under which the SCIM endpoints are served. */
export const SCIM_PATH = '/scim/v2';

declare module 'fastify' {
  interface FastifyRequest {
    /** The SCIM client whose provisioning token the request carries; set on every SCIM route. */
    scimClient?: ScimClient;
  }
}

export interface ScimRoutesOptions {
  service: ScimService;
  tokens: ScimTokens;
  /** `app.baseUrl` without a trailing slash; resource locations are absolute URLs under it. */
  baseUrl: string;
  logger: Logger;
}

/** Every SCIM route is served only with a valid provisioning token; the session layer skips them. */
const scimAccess = { config: { access: { scimToken: true as const } } };

/** How often a rejected token is logged, at most, per reason. */
const REJECTION_LOG_INTERVAL_MS = 60_000;

/**
 * Registers the SCIM 2.0 endpoints (RFC 7644) under /scim/v2: Users, Groups,
 * ServiceProviderConfig, ResourceTypes and Schemas. They accept
 * application/scim+json and application/json bodies, respond with
 * application/scim+json, and send every error in SCIM's error schema.
 */
export async function registerScimRoutes(
  app: FastifyInstance,
  options: ScimRoutesOptions,
): Promise<void> {
  const { service } = options;
  const base = `${options.baseUrl}${SCIM_PATH}`;
  const authenticate = createAuthenticator(options);
  // Sends a user with the attributes that the request's query selects.
  const sendUser = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    view: Parameters<typeof userResource>[0],
  ) =>
    sendScim(
      reply,
      status,
      selectAttributes(userResource(view, base), parseAttributeSelection(queryOf(request))),
    );

  await app.register(
    async (scope) => {
      // Only JSON bodies: any other media type gets 415 before a handler runs.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        ['application/scim+json', 'application/json'],
        { parseAs: 'string' },
        scope.getDefaultJsonParser('error', 'error'),
      );
      scope.setErrorHandler(handleScimError);
      scope.addHook('onRequest', authenticate);

      scope.get('/ServiceProviderConfig', scimAccess, async (_request, reply) =>
        sendScim(reply, 200, serviceProviderConfig(base)),
      );
      scope.get('/ResourceTypes', scimAccess, async (_request, reply) =>
        sendScim(reply, 200, listResponse(resourceTypeDocuments(base), 1, 2)),
      );
      scope.get<{ Params: { id: string } }>(
        '/ResourceTypes/:id',
        scimAccess,
        async (request, reply) =>
          sendScim(
            reply,
            200,
            findDocument(resourceTypeDocuments(base), request.params.id, 'ResourceType'),
          ),
      );
      scope.get('/Schemas', scimAccess, async (_request, reply) =>
        sendScim(reply, 200, listResponse(schemaDocuments(base), 1, 3)),
      );
      scope.get<{ Params: { id: string } }>('/Schemas/:id', scimAccess, async (request, reply) =>
        sendScim(reply, 200, findDocument(schemaDocuments(base), request.params.id, 'Schema')),
      );

      scope.get('/Users', scimAccess, async (request, reply) => {
        const selection = parseAttributeSelection(queryOf(request));
        const page = await service.listUsers(listQuery(request));
        const resources = page.resources.map((view) =>
          selectAttributes(userResource(view, base), selection),
        );
        return sendScim(reply, 200, listResponse(resources, page.startIndex, page.totalResults));
      });
      scope.post('/Users', scimAccess, async (request, reply) => {
        const view = await service.createUser(request.body, changeContext(request));
        void reply.header('location', `${base}/Users/${view.user.id}`);
        return sendUser(request, reply, 201, view);
      });
      scope.get<{ Params: { id: string } }>('/Users/:id', scimAccess, async (request, reply) => {
        const view = await service.getUser(request.params.id);
        return sendUser(request, reply, 200, view);
      });
      scope.put<{ Params: { id: string } }>('/Users/:id', scimAccess, async (request, reply) => {
        const view = await service.replaceUser(
          request.params.id,
          request.body,
          changeContext(request),
        );
        return sendUser(request, reply, 200, view);
      });
      scope.patch<{ Params: { id: string } }>('/Users/:id', scimAccess, async (request, reply) => {
        const view = await service.patchUser(
          request.params.id,
          request.body,
          changeContext(request),
        );
        return sendUser(request, reply, 200, view);
      });
      scope.delete<{ Params: { id: string } }>('/Users/:id', scimAccess, async (request, reply) => {
        await service.deleteUser(request.params.id, changeContext(request));
        return reply.status(204).send();
      });

      scope.get('/Groups', scimAccess, async (request, reply) => {
        const selection = parseAttributeSelection(queryOf(request));
        const page = await service.listGroups(listQuery(request), !excludesMembers(selection));
        const resources = page.resources.map((view) =>
          selectAttributes(groupResource(view, base), selection),
        );
        return sendScim(reply, 200, listResponse(resources, page.startIndex, page.totalResults));
      });
      scope.post('/Groups', scimAccess, async (request, reply) => {
        const view = await service.createGroup(request.body, changeContext(request));
        void reply.header('location', `${base}/Groups/${view.group.id}`);
        return sendScim(
          reply,
          201,
          selectAttributes(groupResource(view, base), parseAttributeSelection(queryOf(request))),
        );
      });
      scope.get<{ Params: { id: string } }>('/Groups/:id', scimAccess, async (request, reply) => {
        const selection = parseAttributeSelection(queryOf(request));
        const view = await service.getGroup(request.params.id, !excludesMembers(selection));
        return sendScim(reply, 200, selectAttributes(groupResource(view, base), selection));
      });
      scope.put<{ Params: { id: string } }>('/Groups/:id', scimAccess, async (request, reply) => {
        const view = await service.replaceGroup(
          request.params.id,
          request.body,
          changeContext(request),
        );
        return sendScim(
          reply,
          200,
          selectAttributes(groupResource(view, base), parseAttributeSelection(queryOf(request))),
        );
      });
      scope.patch<{ Params: { id: string } }>('/Groups/:id', scimAccess, async (request, reply) => {
        const selection = parseAttributeSelection(queryOf(request));
        const view = await service.patchGroup(
          request.params.id,
          request.body,
          changeContext(request),
        );
        // A group's member list can be long, so a PATCH returns 204 (RFC 7644,
        // 3.5.2) unless the request asks for attributes.
        if (!selection.attributes && !selection.excludedAttributes) {
          return reply.status(204).send();
        }
        return sendScim(reply, 200, selectAttributes(groupResource(view, base), selection));
      });
      scope.delete<{ Params: { id: string } }>(
        '/Groups/:id',
        scimAccess,
        async (request, reply) => {
          await service.deleteGroup(request.params.id, changeContext(request));
          return reply.status(204).send();
        },
      );
    },
    { prefix: SCIM_PATH },
  );
}

/** Creates the hook that admits a request only with a live provisioning token. */
function createAuthenticator(options: ScimRoutesOptions) {
  const rejections = new Map<string, { loggedAt: number; suppressed: number }>();

  const reject = (request: FastifyRequest, reason: string, message: string): never => {
    const now = Date.now();
    const entry = rejections.get(reason);
    if (!entry || now - entry.loggedAt >= REJECTION_LOG_INTERVAL_MS) {
      options.logger.warn(
        {
          ip: request.ip,
          url: request.routeOptions.url,
          reason,
          suppressed: entry?.suppressed ?? 0,
        },
        'SCIM request rejected: no valid provisioning token',
      );
      rejections.set(reason, { loggedAt: now, suppressed: 0 });
    } else {
      entry.suppressed += 1;
    }
    throw new ScimError(401, message);
  };

  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const token = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
    if (!token) {
      reject(
        request,
        'missing',
        'The request has no Authorization: Bearer header: send the provisioning token that `backstage-luigi scim token create` printed',
      );
      return;
    }
    const client = await options.tokens.verify(token);
    if (!client) {
      reject(
        request,
        'invalid',
        'The bearer token is not a live SCIM provisioning token (malformed, unknown or revoked): create one with `backstage-luigi scim token create --name <client>`',
      );
      return;
    }
    request.scimClient = client;
  };
}

function queryOf(request: FastifyRequest): Record<string, unknown> {
  return (request.query ?? {}) as Record<string, unknown>;
}

function readInteger(query: Record<string, unknown>, name: string): number | undefined {
  const value = query[name];
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string' || !/^-?\d{1,9}$/.test(value.trim())) {
    throw new ScimError(
      400,
      `${name} ${JSON.stringify(value)} is not an integer: send ${name} once, as a whole number`,
      {
        scimType: 'invalidValue',
      },
    );
  }
  return Number(value);
}

function listQuery(request: FastifyRequest): ScimListQuery {
  const query = queryOf(request);
  const filter = query.filter;
  if (filter !== undefined && typeof filter !== 'string') {
    throw new ScimError(400, 'filter must be given once', { scimType: 'invalidFilter' });
  }
  return {
    filter,
    startIndex: readInteger(query, 'startIndex'),
    count: readInteger(query, 'count'),
  };
}

function changeContext(request: FastifyRequest): ScimChangeContext {
  const userAgent = request.headers['user-agent'];
  return {
    client: request.scimClient as ScimClient,
    request: {
      ip: request.ip,
      userAgent: typeof userAgent === 'string' ? userAgent : undefined,
      requestId: String(request.id),
    },
  };
}

function listResponse(resources: unknown[], startIndex: number, totalResults: number) {
  return {
    schemas: [SCIM_SCHEMAS.listResponse],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

function findDocument(
  documents: Array<Record<string, unknown>>,
  id: string,
  kind: string,
): Record<string, unknown> {
  const found = documents.find(
    (document) => String(document.id).toLowerCase() === id.toLowerCase(),
  );
  if (!found) {
    throw new ScimError(
      404,
      `${kind} ${JSON.stringify(id)} not found: GET ${SCIM_PATH}/${kind}s lists them`,
    );
  }
  return found;
}

function sendScim(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.status(status).type(SCIM_CONTENT_TYPE).send(JSON.stringify(body));
}

function sendScimError(
  reply: FastifyReply,
  status: number,
  detail: string,
  scimType?: ScimErrorType,
): void {
  if (status === 401) {
    void reply.header('www-authenticate', 'Bearer realm="scim"');
  }
  void sendScim(reply, status, {
    schemas: [SCIM_SCHEMAS.error],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    detail,
  });
}

/** Sends every error of a SCIM route in SCIM's error schema (RFC 7644, section 3.12). */
function handleScimError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof ScimError) {
    if (error.status >= 500) {
      request.log.error({ err: error }, 'SCIM request failed');
    }
    sendScimError(reply, error.status, error.message, error.scimType);
    return;
  }
  if (error instanceof InputError) {
    sendScimError(reply, 400, error.message, 'invalidValue');
    return;
  }
  if (error instanceof AuthenticationError) {
    sendScimError(reply, 401, error.message);
    return;
  }
  if (error instanceof NotAllowedError) {
    sendScimError(reply, 403, error.message);
    return;
  }
  if (error instanceof NotFoundError) {
    sendScimError(reply, 404, error.message);
    return;
  }
  if (error instanceof ConflictError) {
    sendScimError(reply, 409, error.message, 'uniqueness');
    return;
  }

  const fastifyError = error as FastifyError;
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    const status = fastifyError.statusCode;
    if (status === 415) {
      sendScimError(
        reply,
        415,
        `Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')} is not accepted: send application/scim+json or application/json`,
      );
      return;
    }
    const syntax = status === 400 && fastifyError.code?.startsWith('FST_ERR_CTP');
    sendScimError(
      reply,
      status,
      syntax || error instanceof SyntaxError
        ? `The request body is not valid JSON: ${fastifyError.message}`
        : fastifyError.message,
      status === 400 ? 'invalidSyntax' : undefined,
    );
    return;
  }

  if (isStatementTimeout(error)) {
    request.log.warn({ err: error, url: request.routeOptions.url }, 'database statement timed out');
    sendScimError(reply, 503, 'The database query timed out: try again later');
    return;
  }

  request.log.error({ err: error }, 'SCIM request failed');
  sendScimError(reply, 500, 'Internal server error; the server log has the details');
}

export type { AttributeSelection };
