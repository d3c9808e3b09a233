import { createServer, request as sendRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeaderForwarder {
  /** Base URL of the forwarder on loopback, such as http://127.0.0.1:41235. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a loopback HTTP server that forwards every request to `target`
 * with `headers` added, and streams the response back unchanged. It lets a
 * client that cannot send a cookie itself, such as Backstage's
 * PermissionClient (which sends only a bearer token), call the portal as a
 * signed-in user.
 */
export async function startHeaderForwarder(
  target: string,
  headers: Record<string, string>,
): Promise<HeaderForwarder> {
  const upstream = new URL(target);
  if (upstream.hostname !== '127.0.0.1' && upstream.hostname !== 'localhost') {
    throw new Error(`The forwarder only forwards to loopback, not to ${upstream.host}`);
  }

  const server = createServer((incoming, outgoing) => {
    const forwarded = sendRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: upstream.host, ...headers },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', (error) => {
      outgoing.writeHead(502, { 'content-type': 'text/plain' });
      outgoing.end(`Forwarding to ${upstream.host} failed: ${error.message}`);
    });
    incoming.pipe(forwarded);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
