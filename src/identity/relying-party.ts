import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import type { Logger } from 'pino';
import { IdentityProviderError } from './identity-provider-error.js';
import { createJwksStore, type JwksStore } from './jwks-store.js';
import type { LoginTransaction } from './login-transaction.js';
import { isLoopbackHttp } from './loopback.js';

export { IdentityProviderError } from './identity-provider-error.js';
export { isLoopbackHttp } from './loopback.js';

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

/** The parts of the provider's discovery document that other checks read. */
export interface ProviderMetadata {
  issuer: string;
  jwksUri: URL;
}

export interface RelyingParty {
  readonly issuer: string;
  /** The provider's signing keys, shared with the bearer token check. */
  readonly jwks: JwksStore;
  /** Discovers the provider on first use; later calls return the same metadata. */
  metadata(): Promise<ProviderMetadata>;
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

const DISCOVERY_ATTEMPTS = 3;
const DISCOVERY_RETRY_DELAY_MS = 250;
const REQUEST_TIMEOUT_SECONDS = 10;

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
  const clientMetadata: Partial<client.ClientMetadata> = {
    [client.clockTolerance]: settings.clockToleranceSeconds,
  };
  let pending: Promise<client.Configuration> | undefined;

  async function discover(): Promise<client.Configuration> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const configuration = await client.discovery(
          issuerUrl,
          settings.clientId,
          clientMetadata,
          clientAuthentication(),
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

  function clientAuthentication(): client.ClientAuth {
    return settings.clientSecret ? client.ClientSecretBasic(settings.clientSecret) : client.None();
  }

  function configuration(): Promise<client.Configuration> {
    pending ??= discover().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  }

  async function metadata(): Promise<ProviderMetadata> {
    const server = (await configuration()).serverMetadata();
    if (!server.jwks_uri) {
      throw new IdentityProviderError(
        `The identity provider ${settings.issuer} publishes no jwks_uri in its discovery document, so its tokens cannot be checked`,
      );
    }
    return { issuer: server.issuer, jwksUri: new URL(server.jwks_uri) };
  }

  const jwks = createJwksStore({ jwksUri: async () => (await metadata()).jwksUri, logger });

  /**
   * Creates a configuration for one code redemption that checks the ID
   * token's signature against the provider's keys. OpenID Connect Core 1.0
   * (section 3.1.3.7) lets a client trust the TLS connection to the token
   * endpoint instead, and openid-client 6 does so by default. Checking the
   * signature as well rejects a token that the provider did not sign.
   *
   * openid-client caches the key set per configuration and fetches it again
   * for an unknown key id only when its copy is a minute old, so a key that
   * the provider starts using right after a fetch would fail every sign-in
   * for a minute. Each redemption therefore gets a fresh configuration whose
   * key set requests are answered by the shared store, which fetches again
   * when the ID token names a key id that it does not hold.
   */
  async function redemptionConfiguration(): Promise<client.Configuration> {
    const discovered = await configuration();
    const server = discovered.serverMetadata();
    const config = new client.Configuration(
      server,
      settings.clientId,
      clientMetadata,
      clientAuthentication(),
    );
    if (insecure) {
      client.allowInsecureRequests(config);
    }
    config.timeout = REQUEST_TIMEOUT_SECONDS;
    client.enableNonRepudiationChecks(config);

    let idTokenKeyId: string | undefined;
    config[client.customFetch] = async (url, options) => {
      if (server.jwks_uri && url === server.jwks_uri) {
        const keys = await jwks.keys(idTokenKeyId, { rateLimited: false });
        return Response.json(keys);
      }

      // openid-client's option types are a Fetch API RequestInit under an older TypeScript lib.
      const response = await fetch(url, options as unknown as RequestInit);
      if (url === server.token_endpoint && response.ok) {
        idTokenKeyId = await readIdTokenKeyId(response.clone());
      }
      return response;
    };
    return config;
  }

  return {
    issuer: settings.issuer,
    jwks,
    metadata,

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
      const config = await redemptionConfiguration();
      // openid-client checks `iss` in the authorization response (RFC 9207)
      // against the issuer, and requires it when the provider's discovery
      // document sets authorization_response_iss_parameter_supported.
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

/** Reads the `kid` of the ID token in a token response; undefined when there is none to read. */
async function readIdTokenKeyId(response: Response): Promise<string | undefined> {
  try {
    const body = (await response.json()) as { id_token?: unknown };
    if (typeof body.id_token !== 'string') {
      return undefined;
    }
    const { kid } = decodeProtectedHeader(body.id_token);
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    // openid-client reports the malformed response itself.
    return undefined;
  }
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
