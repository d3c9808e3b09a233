import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { test } from 'node:test';
import { freePort } from '../test/support/portal.js';
import { reserveListenAddress } from './listen-reservation.js';

test('release ends with a client still connected', async () => {
  const port = await freePort();
  const reservation = await reserveListenAddress('127.0.0.1', port);

  // A client that polls the port during start-up and never closes on its own.
  const client = connect({ host: '127.0.0.1', port });
  const closed = new Promise<void>((resolve) => {
    client.on('close', () => resolve());
    client.on('error', () => resolve());
  });
  await new Promise<void>((resolve) => {
    client.once('connect', () => resolve());
    client.once('error', () => resolve());
  });

  const released = reservation.release().then(() => 'released' as const);
  const timedOut = new Promise<'timed out'>((resolve) =>
    setTimeout(() => resolve('timed out'), 3000).unref(),
  );
  assert.equal(await Promise.race([released, timedOut]), 'released');
  await closed;

  // The address is free again for the HTTP server.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => resolve());
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('reserving a port in use fails', async () => {
  const port = await freePort();
  const reservation = await reserveListenAddress('127.0.0.1', port);
  try {
    await assert.rejects(reserveListenAddress('127.0.0.1', port), { code: 'EADDRINUSE' });
  } finally {
    await reservation.release();
  }
});
