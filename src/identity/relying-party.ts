import * as client from 'openid-client';
import type { Logger } from 'pino';
import { PortalError } from '../errors/index.js';
import type { LoginTransaction } from './login-transaction.js';

/** The OpenID Connect client settings: `auth.oidc`, or the development provider's own client. */
export interface RelyingPartySettings {
  issuer: string;
  clientId: string;
  /** Absent for a public client, which then relies on PKCE alone. */
  clientSecret?: string | undefined;
  scopes: string[];
  clockToleranceSeconds: number;
  /** `${app.baseUrl}/api/auth/callback`. */
  redirectUri: string;
  /** `prompt` sent with every authorization request that sets none. */
  defaultPrompt?: string | undefined;
}

export interface RelyingParty {
  readonly issuer: string;
  /** Creates a transaction (state, nonce, PKCE verifier) and the authorization URL for it. */
  startLogin(
    returnTo: string,
    options?: { prompt?: string },
  ): Promise<{ url: URL; transaction: LoginTransaction }>;
  /**
   * Validates the authorization response against the transaction, redeems the
   * code and validates the ID token. Returns the ID token's claims; the tokens
   * themselves stay inside this function.
   */
  finishLogin(callbackUrl: URL, transaction: LoginTransaction): Promise<Record<string, unknown>>;
}

/** Error for an identity provider that failed or could not be reached; the message names the step. */
export class IdentityProviderError extends PortalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IDENTITY_PROVIDER_FAILED', message, options);
  }
}

const DISCOVERY_ATTEMPTS = 3;
const DISCOVERY_RETRY_DELAY_MS = 250;
const REQUEST_TIMEOUT_SECONDS = 10;

/** Returns true for a plain http URL on the local machine, the only place where http is accepted. */
export function isLoopbackHttp(url: URL): boolean {
  if (url.protocol !== 'http:') {
    return false;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return (
    host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\./.test(host)
  );
}

/**
 * Creates the relying party. Discovery happens at the first sign-in, not
 * here, because the development provider is served by this same server,
 * which is not listening yet while the portal is composed. A failed
 * discovery is retried a few times and then reported; the next sign-in tries
 * again.
 */
export function createRelyingParty(settings: RelyingPartySettings, logger: Logger): RelyingParty {
  const issuerUrl = new URL(settings.issuer);
  const insecure = isLoopbackHttp(issuerUrl);
  let pending: Promise<client.Configuration> | undefined;

  async function discover(): Promise<client.Configuration> {
    const metadata: Partial<client.ClientMetadata> = {
      [client.clockTolerance]: settings.clockToleranceSeconds,
    };
    const authentication = settings.clientSecret
      ? client.ClientSecretBasic(settings.clientSecret)
      : client.None();

    for (let attempt = 1; ; attempt += 1) {
      try {
        const configuration = await client.discovery(
          issuerUrl,
          settings.clientId,
          metadata,
          authentication,
          {
            execute: insecure ? [client.allowInsecureRequests] : [],
            timeout: REQUEST_TIMEOUT_SECONDS,
          },
        );
        logger.info({ issuer: settings.issuer, attempt }, 'identity provider discovered');
        return configuration;
      } catch (error) {
        if (attempt >= DISCOVERY_ATTEMPTS) {
          logger.error(
            { issuer: settings.issuer, attempts: attempt, err: error },
            'identity provider discovery failed',
          );
          throw new IdentityProviderError(
            `Discovery of the identity provider ${settings.issuer} failed after ${attempt} attempts (${describeCause(error)}): check auth.oidc.issuer and that the provider is reachable`,
            { cause: error },
          );
        }
        logger.warn(
          { issuer: settings.issuer, attempt, err: error },
          'identity provider discovery failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, DISCOVERY_RETRY_DELAY_MS * attempt));
      }
    }
  }

  function configuration(): Promise<client.Configuration> {
    pending ??= discover().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  }

  return {
    issuer: settings.issuer,

    async startLogin(returnTo, options = {}) {
      const config = await configuration();
      const transaction: LoginTransaction = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        codeVerifier: client.randomPKCECodeVerifier(),
        returnTo,
      };

      const parameters: Record<string, string> = {
        redirect_uri: settings.redirectUri,
        scope: settings.scopes.join(' '),
        response_type: 'code',
        state: transaction.state,
        nonce: transaction.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(transaction.codeVerifier),
        code_challenge_method: 'S256',
      };
      const prompt = options.prompt ?? settings.defaultPrompt;
      if (prompt) {
        parameters.prompt = prompt;
      }
      return { url: client.buildAuthorizationUrl(config, parameters), transaction };
    },

    async finishLogin(callbackUrl, transaction) {
      const config = await configuration();
      const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        expectedState: transaction.state,
        expectedNonce: transaction.nonce,
        pkceCodeVerifier: transaction.codeVerifier,
        idTokenExpected: true,
      });

      const claims = tokens.claims();
      if (!claims) {
        throw new IdentityProviderError('The identity provider returned no ID token');
      }
      return { ...claims };
    },
  };
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
