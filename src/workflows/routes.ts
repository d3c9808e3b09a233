import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requestContext } from '../audit/index.js';
import { detailsFromZodIssues } from '../config/index.js';
import { InputError } from '../errors/index.js';
import type { Principal } from '../permissions/index.js';
import type { RequestAuthorizer } from './approvers.js';
import { MAX_LIST_LIMIT, type RequestEngine } from './engine.js';
import { REQUEST_READ, REQUEST_REVIEW } from './permissions.js';
import { parametersJsonSchema } from './registry.js';
import type { ExecutionRunner } from './runner.js';
import { REQUEST_STATES } from './types.js';

export interface WorkflowRouteOptions {
  engine: RequestEngine;
  runner: ExecutionRunner;
  permissions: RequestAuthorizer;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const createBodySchema = z
  .object({
    type: z.string().min(1, 'must not be empty'),
    parameters: z.record(z.string(), z.unknown()).default({}),
    reason: z.string().optional(),
  })
  .strict();

const commentBodySchema = z.object({ comment: z.string().optional() }).strict();

const listQuerySchema = z
  .object({
    state: z
      .union([
        z.enum(REQUEST_STATES as [string, ...string[]]),
        z.array(z.enum(REQUEST_STATES as [string, ...string[]])),
      ])
      .optional(),
    limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).optional(),
  })
  .strict();

const reviewQuerySchema = z
  .object({
    all: z.enum(['true', 'false']).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).optional(),
  })
  .strict();

/**
 * Registers the request API under /api/workflows. Routes that need a
 * permission of the request's type (create, approve, deny) declare signedIn
 * and the engine decides that permission for the request's entity, with a
 * 403 and an audit record on denial. docs/api.md describes every route.
 */
export async function registerWorkflowRoutes(
  app: FastifyInstance,
  options: WorkflowRouteOptions,
): Promise<void> {
  const { engine, runner } = options;
  const signedIn = { config: { access: { signedIn: true as const } } };
  const reviewer = { config: { access: { permission: REQUEST_REVIEW } } };

  app.get('/api/workflows/types', signedIn, async () => ({
    items: engine.registry.listTypes().map((type) => ({
      name: type.name,
      description: type.description,
      createPermission: type.createPermission,
      entity: type.entity ?? 'none',
      reasonRequired: type.reasonRequired ?? false,
      executor: engine.registry.getExecutor(type.name)?.trigger ?? null,
      parameters: parametersJsonSchema(
        type,
        engine.registry.getExecutor(type.name)?.parameterChoices?.(),
      ),
    })),
  }));

  app.post('/api/workflows/requests', signedIn, async (request, reply) => {
    const body = parseInput(createBodySchema, request.body ?? {}, 'request body');
    const created = await engine.create(principalOf(request), body, requestContext(request));
    return reply
      .status(201)
      .header('location', `/api/workflows/requests/${created.id}`)
      .send(created);
  });

  app.get('/api/workflows/requests', signedIn, async (request) => {
    const query = parseInput(listQuerySchema, request.query ?? {}, 'query');
    const states = query.state === undefined ? undefined : [query.state].flat();
    return {
      items: await engine.listMine(principalOf(request), {
        states: states as never,
        limit: query.limit,
      }),
    };
  });

  app.get('/api/workflows/requests/:id', signedIn, async (request) => {
    const id = requestId(request);
    const principal = principalOf(request);
    const canReadAll = options.permissions.authorize(principal, REQUEST_READ).result === 'ALLOW';
    return await engine.view(principal, id, canReadAll);
  });

  app.get('/api/workflows/inbox', signedIn, async (request) => {
    const query = parseInput(listQuerySchema.pick({ limit: true }), request.query ?? {}, 'query');
    return { items: await engine.inbox(principalOf(request), query.limit) };
  });

  for (const decision of ['approve', 'deny'] as const) {
    app.post(`/api/workflows/requests/:id/${decision}`, signedIn, async (request) => {
      const body = parseInput(commentBodySchema, request.body ?? {}, 'request body');
      return await engine.decide(
        principalOf(request),
        requestId(request),
        decision,
        body.comment,
        requestContext(request),
      );
    });
  }

  app.post('/api/workflows/requests/:id/cancel', signedIn, async (request) => {
    return await engine.cancel(principalOf(request), requestId(request), requestContext(request));
  });

  app.post('/api/workflows/requests/:id/collect', signedIn, async (request, reply) => {
    const collected = await runner.collect(
      principalOf(request),
      requestId(request),
      requestContext(request),
    );
    // The secret goes to this response only: no cache may keep it.
    return reply.header('cache-control', 'no-store').send(collected);
  });

  app.get('/api/workflows/review', reviewer, async (request) => {
    const query = parseInput(reviewQuerySchema, request.query ?? {}, 'query');
    return {
      items: await engine.reviewQueue(principalOf(request), {
        pendingOnly: query.all !== 'true',
        limit: query.limit,
      }),
    };
  });

  app.post('/api/workflows/requests/:id/review', reviewer, async (request) => {
    const body = parseInput(commentBodySchema, request.body ?? {}, 'request body');
    return await engine.markReviewed(
      principalOf(request),
      requestId(request),
      body.comment,
      requestContext(request),
    );
  });
}

function principalOf(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (!principal) {
    throw new Error(`Route ${request.routeOptions.url} has no principal: it must not be public`);
  }
  return principal;
}

function requestId(request: FastifyRequest): string {
  const { id } = request.params as { id: string };
  if (!UUID.test(id)) {
    const message = `request id '${id.slice(0, 60)}' is invalid: use the id of a request, a lowercase UUID`;
    throw new InputError(message, { details: [{ path: 'id', value: id.slice(0, 60), message }] });
  }
  return id;
}

function parseInput<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  if (typeof input === 'string') {
    // Fastify reads a text/plain body as a string.
    const message = 'expected a JSON object: send it with content-type: application/json';
    throw new InputError(
      `The ${what} is text, not JSON: send a JSON object with content-type: application/json`,
      {
        details: [{ path: '(top level)', value: input.slice(0, 60), message }],
      },
    );
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new InputError(`The ${what} is invalid`, {
      details: detailsFromZodIssues(result.error.issues, input),
    });
  }
  return result.data;
}
