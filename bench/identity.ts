import type { FastifyRequest } from 'fastify';
import type { DialectName } from '../src/database/index.js';
import { HttpClient } from '../test/support/http-client.js';
import { startProviderPortal } from '../test/support/oidc-portal.js';
import { type LatencySummary, measureLatency } from './statistics.js';

const API_AUDIENCE = 'https://portal.example/api';
const ACCOUNT = 'ada-id';

export interface IdentityFigures {
  dialect: DialectName;
  signIns: {
    sequential: { perSecond: number; latency: LatencySummary };
    concurrent: { concurrency: number; perSecond: number };
  };
  /** `identity.authenticate` alone, in process: the added latency of an API request. */
  authenticate: {
    session: LatencySummary;
    bearerCached: LatencySummary;
    bearerFirstUse: LatencySummary;
  };
  /** Whole requests over HTTP on loopback, one at a time. */
  http: {
    publicPage: LatencySummary;
    session: LatencySummary;
    bearer: LatencySummary;
  };
}

/**
 * Starts the test OpenID provider (the real oidc-provider, in this process,
 * on its own loopback port) and a portal that signs in through it, with the
 * small organisation of the identity tests. Measures sign-ins through the
 * whole flow (login redirect, authorization, code redemption with ID token
 * checks, sign-in resolution, session write) and the time that resolving
 * the principal adds to an API request, for a session cookie and for a
 * bearer token.
 */
export async function benchmarkIdentity(options: {
  dialect: DialectName;
  signIns?: number;
  samples?: number;
}): Promise<IdentityFigures> {
  const signIns = options.signIns ?? 200;
  const samples = options.samples ?? 2_000;
  const started = await startProviderPortal({
    dialect: options.dialect,
    provider: {
      accounts: {
        [ACCOUNT]: {
          email: 'ada@example.com',
          email_verified: true,
          name: 'Ada Lovelace',
          groups: ['platform', 'admins'],
        },
      },
      resources: [{ audience: API_AUDIENCE }],
    },
    oidc: { bearer: { audiences: [API_AUDIENCE] } },
  });

  try {
    const { url } = started.portal;
    const callback = `${url}/api/auth/callback`;
    started.provider.signInAs(ACCOUNT);

    /** One sign-in by a new browser, up to the portal's redirect after the callback. */
    const signIn = async (): Promise<HttpClient> => {
      const client = new HttpClient(url);
      const { chain } = await client.follow(
        '/api/auth/login',
        {},
        {
          stopBefore: (location) =>
            !location.startsWith(callback) && location.startsWith(`${url}/`),
        },
      );
      const last = chain.at(-1);
      if (last?.status !== 303 || !client.cookie('portal_session')) {
        throw new Error(
          `Sign-in failed: ${last?.status} ${last?.url}: ${last?.body.slice(0, 200)}`,
        );
      }
      return client;
    };

    const sequentialLatency = await measureLatency(async () => void (await signIn()), {
      warmup: 10,
      samples: signIns,
    });
    const sequentialStart = performance.now();
    for (let index = 0; index < 50; index += 1) {
      await signIn();
    }
    const sequentialPerSecond = 50 / ((performance.now() - sequentialStart) / 1000);

    const concurrency = 8;
    const concurrentStart = performance.now();
    let done = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (done < signIns) {
          done += 1;
          await signIn();
        }
      }),
    );
    const concurrentPerSecond = signIns / ((performance.now() - concurrentStart) / 1000);

    const browser = await signIn();
    const sessionCookie = browser.cookie('portal_session') ?? '';
    const { accessToken } = await started.provider.fetchTokens(ACCOUNT, API_AUDIENCE);
    const { identity } = started.portal.portal;
    const request = (headers: Record<string, string>, cookies: Record<string, string> = {}) =>
      ({ method: 'GET', url: '/api/auth/me', headers, cookies }) as unknown as FastifyRequest;

    const authenticateOrFail = async (fake: FastifyRequest) => {
      if (!(await identity.authenticate(fake))) {
        throw new Error('authenticate found no principal');
      }
    };
    const session = await measureLatency(
      () => authenticateOrFail(request({}, { portal_session: sessionCookie })),
      { warmup: 100, samples },
    );
    const bearerCached = await measureLatency(
      () => authenticateOrFail(request({ authorization: `Bearer ${accessToken}` })),
      { warmup: 100, samples },
    );

    // Each token is seen once: signature check, claims, resolution, cache entry.
    const freshTokens: string[] = [];
    for (let index = 0; index < 60; index += 1) {
      freshTokens.push((await started.provider.fetchTokens(ACCOUNT, API_AUDIENCE)).accessToken);
    }
    const bearerFirstUse = await measureLatency(
      () => authenticateOrFail(request({ authorization: `Bearer ${freshTokens.pop()}` })),
      { warmup: 10, samples: 50 },
    );

    const api = new HttpClient(url);
    const expectStatus = async (response: Promise<{ status: number }>, status: number) => {
      const { status: actual } = await response;
      if (actual !== status) {
        throw new Error(`expected ${status}, got ${actual}`);
      }
    };
    const publicPage = await measureLatency(
      () => expectStatus(api.request('/api/auth/logout'), 200),
      { warmup: 100, samples },
    );
    const httpSession = await measureLatency(
      () => expectStatus(browser.request('/api/auth/me'), 200),
      { warmup: 100, samples },
    );
    const httpBearer = await measureLatency(
      () =>
        expectStatus(
          api.request('/api/auth/me', { headers: { authorization: `Bearer ${accessToken}` } }),
          200,
        ),
      { warmup: 100, samples },
    );

    return {
      dialect: options.dialect,
      signIns: {
        sequential: { perSecond: sequentialPerSecond, latency: sequentialLatency },
        concurrent: { concurrency, perSecond: concurrentPerSecond },
      },
      authenticate: { session, bearerCached, bearerFirstUse },
      http: { publicPage, session: httpSession, bearer: httpBearer },
    };
  } finally {
    await started.close();
  }
}
