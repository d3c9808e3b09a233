export {
  describeAccess,
  findUndeclaredRoutes,
  isRouteAccess,
  type RouteAccess,
  type RouteRecord,
} from './access.js';
export {
  type AccessDenial,
  createHttpServer,
  type HttpServer,
  type HttpServerOptions,
  redactUrl,
} from './create-server.js';
export { type ErrorBody, errorBody, handleError } from './error-handler.js';
