import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { freePort } from '../../test/support/portal.js';
import { createLogger } from '../logging.js';
import { createDevelopmentProvider } from './development-provider.js';
import { createRelyingParty, IdentityProviderError, isLoopbackHttp } from './relying-party.js';

const logger = createLogger({ level: 'silent' });

describe('isLoopbackHttp', () => {
  const cases: Array<[string, boolean]> = [
    ['http://localhost:7007/dev-idp', true],
    ['http://127.0.0.1:7007', true],
    ['http://127.1.2.3', true],
    ['http://[::1]:7007', true],
    ['http://portal.localhost', true],
    ['https://localhost', false],
    ['http://idp.example.com', false],
    ['http://localhost.example.com', false],
    ['http://10.0.0.1', false],
  ];
  for (const [url, expected] of cases) {
    test(`${url} is ${expected ? '' : 'not '}loopback http`, () => {
      assert.equal(isLoopbackHttp(new URL(url)), expected);
    });
  }
});

describe('relying party discovery', () => {
  async function settingsFor(port: number) {
    return {
      issuer: `http://127.0.0.1:${port}/dev-idp`,
      clientId: 'backstage-luigi-portal',
      clientSecret: 'unused',
      scopes: ['openid'],
      clockToleranceSeconds: 30,
      redirectUri: `http://127.0.0.1:${port}/api/auth/callback`,
    };
  }

  async function serveProvider(port: number) {
    const app = Fastify();
    const provider = createDevelopmentProvider({
      baseUrl: `http://127.0.0.1:${port}`,
      users: [],
      logger,
    });
    await provider.registerRoutes(app);
    await app.listen({ host: '127.0.0.1', port });
    return app;
  }

  test('reports an issuer that never answers', async () => {
    const port = await freePort();
    const party = createRelyingParty(await settingsFor(port), logger);

    await assert.rejects(party.startLogin('/'), (error: unknown) => {
      assert.ok(error instanceof IdentityProviderError);
      assert.match(error.message, new RegExp(`http://127\\.0\\.0\\.1:${port}/dev-idp`));
      assert.match(error.message, /failed after 3 attempts/);
      return true;
    });
  });

  test('retries until the provider listens', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const party = createRelyingParty(
      await settingsFor(port),
      createLogger({ level: 'info', destination }),
    );

    const login = party.startLogin('/');
    const app = await serveProvider(port);
    try {
      const { url } = await login;

      assert.equal(`${url.origin}${url.pathname}`, `http://127.0.0.1:${port}/dev-idp/auth`);
      assert.ok(lines.some((line) => line.includes('discovery failed; retrying')));
    } finally {
      await app.close();
    }
  });

  test('discovers again after a failure', async () => {
    const port = await freePort();
    const party = createRelyingParty(await settingsFor(port), logger);
    await assert.rejects(party.startLogin('/'), IdentityProviderError);

    const app = await serveProvider(port);
    try {
      const { transaction } = await party.startLogin('/catalog');

      assert.equal(transaction.returnTo, '/catalog');
    } finally {
      await app.close();
    }
  });
});
