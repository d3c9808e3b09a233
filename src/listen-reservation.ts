import { createServer, type Server } from 'node:net';

/** A bound listening socket that keeps the portal's address until the portal listens on it. */
export interface ListenReservation {
  /** Closes the socket, so that the HTTP server can bind the same address. */
  release(): Promise<void>;
}

/**
 * Binds host:port with a plain TCP server, or rejects with the bind error
 * (EADDRINUSE, EACCES, EADDRNOTAVAIL). The start command reserves the address
 * before it touches the database, so a second start on a port in use changes
 * nothing, and releases it right before Fastify listens.
 */
export async function reserveListenAddress(host: string, port: number): Promise<ListenReservation> {
  // A client that connects before the portal listens, such as a health check
  // polling during start-up, is disconnected at once: close() waits for open
  // connections, so one kept open would stop the start for good.
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    release: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
