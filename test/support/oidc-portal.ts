import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { DialectName } from '../../src/database/index.js';
import { createLogger } from '../../src/logging.js';
import {
  PORTAL_CLIENT_ID,
  startTestProvider,
  type TestProvider,
  type TestProviderOptions,
} from './oidc-test-provider.js';
import { freePort, PROJECT_ROOT, startTestPortal, type TestPortal } from './portal.js';

/** Folder of the organisation and roles that the identity provider tests share. */
export const OIDC_FIXTURE_FOLDER = path.join(PROJECT_ROOT, 'test', 'fixtures', 'oidc-providers');

export interface ProviderPortal {
  portal: TestPortal;
  provider: TestProvider;
  /** Every log line the portal wrote, as JSON text. */
  logLines: string[];
  /** The fixture folder in use: a private copy when `copyFixtures` was set. */
  fixtureFolder: string;
  close(): Promise<void>;
}

export interface ProviderPortalOptions {
  dialect: DialectName;
  provider: Omit<TestProviderOptions, 'portalRedirectUri'>;
  /** Keys of `auth.oidc` besides issuer, clientId and clientSecret, such as profile. */
  oidc?: Record<string, unknown>;
  /** Values merged over the fixture config, such as `auth.session`. */
  overrides?: Record<string, unknown>;
  /** Copies the fixture folder first, so the test may change its catalog file. */
  copyFixtures?: boolean;
}

/**
 * Starts the test provider and a portal that signs in through it, on two
 * loopback ports, with the fixture organisation ingested. The portal's port
 * is chosen first, because the provider registers the portal's callback URL.
 */
export async function startProviderPortal(options: ProviderPortalOptions): Promise<ProviderPortal> {
  const fixtureFolder = options.copyFixtures
    ? mkdtempSync(path.join(tmpdir(), 'oidc-fixtures-'))
    : OIDC_FIXTURE_FOLDER;
  if (options.copyFixtures) {
    cpSync(OIDC_FIXTURE_FOLDER, fixtureFolder, { recursive: true });
  }
  const removeCopy = () => {
    if (options.copyFixtures) {
      rmSync(fixtureFolder, { recursive: true, force: true });
    }
  };

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const provider = await startTestProvider({
    ...options.provider,
    portalRedirectUri: `${url}/api/auth/callback`,
  });

  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });

  let portal: TestPortal;
  try {
    portal = await startTestPortal({
      dialect: options.dialect,
      configFiles: [path.join(fixtureFolder, 'app-config.yaml')],
      logger: createLogger({ level: 'debug', destination }),
      overrides: {
        app: { baseUrl: url },
        backend: { listen: { host: '127.0.0.1', port } },
        ...options.overrides,
        auth: {
          ...((options.overrides?.auth as Record<string, unknown> | undefined) ?? {}),
          oidc: {
            issuer: provider.issuer,
            clientId: PORTAL_CLIENT_ID,
            clientSecret: provider.portalClientSecret,
            ...options.oidc,
          },
        },
      },
    });
  } catch (error) {
    await provider.close();
    removeCopy();
    throw error;
  }

  return {
    // startTestPortal reports the port it picked; the overrides above replaced it.
    portal: { ...portal, url },
    provider,
    logLines,
    fixtureFolder,
    close: async () => {
      await portal.close();
      await provider.close();
      removeCopy();
    },
  };
}

/** Parses the portal's JSON log lines whose message contains `text`. */
export function logEntries(lines: readonly string[], text: string): Array<Record<string, unknown>> {
  return lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => typeof entry.msg === 'string' && entry.msg.includes(text));
}
