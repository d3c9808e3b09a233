import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isStatementTimeout } from '../database/index.js';
import {
  AuthenticationError,
  ConfigError,
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  PortalError,
} from '../errors/index.js';

const STATUS_BY_ERROR: ReadonlyArray<[new (...args: never[]) => PortalError, number]> = [
  [InputError, 400],
  [ConfigError, 400],
  [AuthenticationError, 401],
  [NotAllowedError, 403],
  [NotFoundError, 404],
  [ConflictError, 409],
];

/** Body of every error response: `{ error: { code, message, details } }`. */
export interface ErrorBody {
  error: { code: string; message: string; details: unknown[] };
}

/** Maps domain errors to status codes; anything unexpected is logged and answered with 500. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof PortalError) {
    const status = STATUS_BY_ERROR.find(([type]) => error instanceof type)?.[1] ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
    }
    void reply.status(status).send(errorBody(error.code, error.message, error.details));
    return;
  }

  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const details = fastifyError.validation.map((item) => ({
      path: `${fastifyError.validationContext ?? 'request'}${item.instancePath.replaceAll('/', '.')}`,
      message: item.message ?? 'is invalid',
    }));
    void reply.status(400).send(errorBody('INPUT_INVALID', fastifyError.message, details));
    return;
  }

  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    void reply
      .status(fastifyError.statusCode)
      .send(errorBody(fastifyError.code ?? 'REQUEST_INVALID', fastifyError.message, []));
    return;
  }

  if (isStatementTimeout(error)) {
    request.log.warn({ err: error, url: request.routeOptions.url }, 'database statement timed out');
    void reply
      .status(503)
      .send(
        errorBody(
          'DATABASE_TIMEOUT',
          'The database did not finish the query within its statement timeout: narrow the request (fewer filter conditions, a smaller limit) or try again later',
          [],
        ),
      );
    return;
  }

  request.log.error({ err: error }, 'request failed');
  void reply
    .status(500)
    .send(errorBody('INTERNAL', 'Internal server error; the server log has the details', []));
}

export function errorBody(code: string, message: string, details: unknown[]): ErrorBody {
  return { error: { code, message, details } };
}
