// oidc-provider 8 ships no type declarations, and @types/oidc-provider follows
// version 9, so this declares the part of the 8.x API that the development
// identity provider and the tests' provider use.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AdapterPayload = Record<string, unknown> & {
    grantId?: string;
    uid?: string;
    userCode?: string;
    consumed?: number;
  };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>>;
  }

  export interface KoaContextWithOIDC {
    type: string;
    body: unknown;
    status: number;
    method: string;
    path: string;
    req: IncomingMessage;
    res: ServerResponse;
    redirect(url: string): void;
    oidc: {
      /** The name of the endpoint that handles the request, such as `token` or `discovery`. */
      route?: string;
      params?: Record<string, unknown>;
      client?: { clientId: string };
      session?: {
        accountId?: string;
        grantIdFor(clientId: string): string | undefined;
      };
      result?: { consent?: { grantId?: string } };
      provider: Provider;
    };
  }

  export interface ErrorOut {
    error: string;
    error_description?: string;
  }

  export interface ClientMetadata {
    client_id: string;
    id_token_signed_response_alg?: string;
    client_secret?: string;
    redirect_uris: string[];
    post_logout_redirect_uris?: string[];
    grant_types?: string[];
    response_types?: string[];
    token_endpoint_auth_method?: string;
  }

  export interface Configuration {
    adapter?: (name: string) => Adapter;
    clients?: ClientMetadata[];
    findAccount?: (ctx: KoaContextWithOIDC, id: string) => Promise<Account | undefined>;
    claims?: Record<string, string[]>;
    conformIdTokenClaims?: boolean;
    cookies?: { keys: string[] };
    jwks?: { keys: Record<string, unknown>[] };
    pkce?: { required?: () => boolean; methods?: string[] };
    features?: Record<string, { enabled: boolean } & Record<string, unknown>>;
    interactions?: { url: (ctx: KoaContextWithOIDC, interaction: Interaction) => string };
    loadExistingGrant?: (ctx: KoaContextWithOIDC) => Promise<Grant | undefined>;
    renderError?: (ctx: KoaContextWithOIDC, out: ErrorOut, error: Error) => Promise<void>;
    ttl?: Record<
      string,
      | number
      | ((
          ctx: KoaContextWithOIDC,
          token: { resourceServer?: { accessTokenTTL?: number } },
        ) => number)
    >;
    scopes?: string[];
    /** Extra claims of an access token (JWT format) or of its introspection. */
    extraTokenClaims?: (
      ctx: KoaContextWithOIDC,
      token: { kind: string; accountId?: string },
    ) => Promise<Record<string, unknown> | undefined>;
    enabledJWA?: Record<string, string[]>;
  }

  export interface Interaction {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown>;
    session?: { accountId?: string };
    grantId?: string;
  }

  export class Grant {
    constructor(properties: { accountId?: string | undefined; clientId?: string | undefined });
    readonly jti: string;
    accountId?: string;
    clientId?: string;
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
    static find(id: string): Promise<Grant | undefined>;
  }

  export interface InteractionResults {
    login?: { accountId: string };
    consent?: { grantId: string };
    error?: string;
    error_description?: string;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    readonly Grant: typeof Grant;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    on(event: string, listener: (...args: never[]) => void): this;
    /** Adds a Koa middleware that runs around every request of the provider. */
    use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>): this;
  }

  export const errors: {
    InvalidTarget: new (description?: string) => Error;
  };

  export default Provider;
}
