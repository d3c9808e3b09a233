// An example micro frontend with its own backend. It serves a page that runs
// inside the portal's shell, and one API route that accepts only the portal's
// JWTs whose audience is this backend.
//
//   PORTAL_URL=http://localhost:7007 AUDIENCE=https://insights.example.com \
//     PORT=7100 node examples/micro-frontend/server.mjs
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';

const here = path.dirname(fileURLToPath(import.meta.url));
const luigiClientFile = createRequire(import.meta.url).resolve(
  '@luigi-project/client/luigi-client.js',
);

/** Files of the page, by request path. */
const FILES = {
  '/': { file: path.join(here, 'public', 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: path.join(here, 'public', 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/luigi-client.js': { file: luigiClientFile, type: 'text/javascript; charset=utf-8' },
};

/**
 * Starts the example on 127.0.0.1. `portalUrl` is the portal's `app.baseUrl`:
 * the JWT issuer, the home of the JWKS and the only page that may frame this
 * one. Resolves to the server and its base URL.
 *
 * @param {{ portalUrl: string, audience: string, port?: number }} options
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startExampleMicroFrontend({ portalUrl, audience, port = 0 }) {
  const portalOrigin = new URL(portalUrl).origin;
  const keySet = createRemoteJWKSet(new URL('/.well-known/jwks.json', portalOrigin));

  const server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      console.error('example micro frontend: request failed', error);
      if (!response.headersSent) {
        sendJson(response, 500, { error: 'The request failed; see the server log' });
      }
    });
  });

  /**
   * @param {import('node:http').IncomingMessage} request
   * @param {import('node:http').ServerResponse} response
   */
  async function handle(request, response) {
    const requestPath = new URL(request.url ?? '/', 'http://localhost').pathname;

    if (request.method === 'GET' && requestPath === '/api/whoami') {
      const result = await verifyBearer(request.headers.authorization);
      if ('error' in result) {
        sendJson(response, 401, result);
        return;
      }
      const { sub, ent, permissions } = result.payload;
      sendJson(response, 200, { sub, ent, permissions });
      return;
    }

    const page = FILES[/** @type {keyof typeof FILES} */ (requestPath)];
    if (request.method !== 'GET' || !page) {
      sendJson(response, 404, { error: `No route ${request.method} ${requestPath}` });
      return;
    }
    response.writeHead(200, {
      'content-type': page.type,
      'cache-control': 'no-cache',
      // Only the portal may frame the page, so no other site can pose as the shell.
      'content-security-policy': `default-src 'self'; frame-ancestors ${portalOrigin}`,
    });
    response.end(await readFile(page.file));
  }

  /**
   * Verifies the signature against the portal's JWKS, and the issuer,
   * audience and expiry. A JWT issued for another node's backend has another
   * audience and is rejected here.
   *
   * @param {string | undefined} header
   */
  async function verifyBearer(header) {
    const match = /^Bearer (\S+)$/i.exec(header ?? '');
    if (!match?.[1]) {
      return { error: 'Send the portal JWT as Authorization: Bearer <token>' };
    }
    try {
      const { payload } = await jwtVerify(match[1], keySet, {
        issuer: portalUrl,
        audience,
        algorithms: ['EdDSA'],
      });
      return { payload };
    } catch (error) {
      if (error instanceof errors.JOSEError) {
        return { error: `The JWT is invalid: ${error.message}`, code: error.code };
      }
      throw error;
    }
  }

  await new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

/**
 * @param {import('node:http').ServerResponse} response
 * @param {number} status
 * @param {unknown} body
 */
function sendJson(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const portalUrl = process.env.PORTAL_URL ?? 'http://localhost:7007';
  const audience = process.env.AUDIENCE;
  if (!audience) {
    console.error(
      'AUDIENCE is missing: set it to the audience of the shell node, as in shell.nodes',
    );
    process.exit(1);
  }
  const { url } = await startExampleMicroFrontend({
    portalUrl,
    audience,
    port: Number(process.env.PORT ?? 7100),
  });
  console.log(`example micro frontend listening at ${url} for the portal at ${portalUrl}`);
}
