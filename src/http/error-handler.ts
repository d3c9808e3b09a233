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
    const message =
      bodyErrorMessage(
        fastifyError.code,
        request.headers['content-type'],
        request.routeOptions.bodyLimit,
      ) ?? fastifyError.message;
    void reply
      .status(fastifyError.statusCode)
      .send(errorBody(fastifyError.code ?? 'REQUEST_INVALID', message, []));
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

/**
 * Returns a message with the fix for a body that Fastify's parser
 * rejected, or undefined for other errors. Fastify's own messages name no
 * fix, and its JSON parser rejects `__proto__` and `constructor.prototype`
 * keys with the same error as broken JSON.
 */
function bodyErrorMessage(
  code: string | undefined,
  contentType: string | undefined,
  bodyLimit: number | undefined,
): string | undefined {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'The request body is not valid JSON, or it has a __proto__ or constructor.prototype key, which the portal rejects: send one JSON value without those keys';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The request body is empty although content-type is application/json: send a JSON object, or leave out the content-type header';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `The request body is larger than ${bodyLimit === undefined ? 'the limit' : `${bodyLimit.toLocaleString('en-US')} bytes`}: send a smaller body`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `Content-type ${JSON.stringify(contentType ?? '')} is not supported: send the body as JSON with content-type: application/json`;
    default:
      return undefined;
  }
}

/** Maximum length of the rejected URL that an error message quotes, in characters. */
const MAX_QUOTED_URL_LENGTH = 200;

/**
 * Builds the response for an error that Fastify's router raises before any
 * route runs (an undecodable path, an overlong path parameter), in the same
 * body shape as every other error.
 */
export function frameworkErrorResponse(
  error: FastifyError,
  url: string,
): { status: number; body: ErrorBody } {
  const quoted = JSON.stringify(
    url.length > MAX_QUOTED_URL_LENGTH ? `${url.slice(0, MAX_QUOTED_URL_LENGTH)}…` : url,
  );
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return {
        status: 400,
        body: errorBody(
          'URL_INVALID',
          `The request path ${quoted} is not valid percent-encoding: encode a literal % as %25 and send every other byte as UTF-8`,
          [],
        ),
      };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return {
        status: 414,
        body: errorBody(
          'URL_TOO_LONG',
          `A parameter in the request path ${quoted} is too long: shorten it, or send long values in the query string or body where the API accepts them`,
          [],
        ),
      };
    default:
      return {
        status: typeof error.statusCode === 'number' ? error.statusCode : 400,
        body: errorBody(error.code ?? 'REQUEST_INVALID', error.message, []),
      };
  }
}

export function errorBody(code: string, message: string, details: unknown[]): ErrorBody {
  return { error: { code, message, details } };
}
