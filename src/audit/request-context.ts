import type { FastifyRequest } from 'fastify';
import type { AuditRequestContext } from './event.js';

/**
 * Reads the request part of an audit event: the client IP address as Fastify
 * reports it (the socket's peer unless trustProxy is set), the User-Agent
 * header and Fastify's request id.
 */
export function requestContext(request: FastifyRequest): AuditRequestContext {
  const userAgent = request.headers['user-agent'];
  return {
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    requestId: String(request.id),
  };
}
