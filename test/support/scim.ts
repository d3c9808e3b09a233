import { mergeConfig } from '../../src/config/index.js';
import type { DialectName } from '../../src/database/index.js';
import type { TestDatabase } from './databases.js';
import { startTestPortal, type TestPortal } from './portal.js';

/** A SCIM response as the tests read it. */
export interface ScimResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; undefined when it is empty. */
  body: Record<string, unknown> & {
    Resources?: Array<Record<string, unknown>>;
    id?: string;
  };
}

export interface ScimRequestOptions {
  /** Sent as is; `Bearer <token>` of the client when undefined, no header when null. */
  authorization?: string | null;
  contentType?: string;
  /** A body sent as text, not as JSON. */
  rawBody?: string;
}

/** Sends SCIM requests to a test portal with a provisioning token, as Okta or Entra ID would. */
export class ScimHttpClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async request(
    method: string,
    path: string,
    body?: unknown,
    options: ScimRequestOptions = {},
  ): Promise<ScimResponse> {
    const headers: Record<string, string> = { accept: 'application/scim+json' };
    if (options.authorization !== null) {
      headers.authorization = options.authorization ?? `Bearer ${this.token}`;
    }
    let payload: string | undefined;
    if (options.rawBody !== undefined) {
      payload = options.rawBody;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
    }
    if (payload !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/scim+json';
    }
    const response = await fetch(`${this.baseUrl}/scim/v2${path}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: text === '' ? {} : (JSON.parse(text) as ScimResponse['body']),
    };
  }
}

export interface ScimTestPortal {
  portal: TestPortal;
  client: ScimHttpClient;
  close(): Promise<void>;
}

/**
 * Starts the example portal with SCIM enabled on a fresh database of the
 * dialect, or on `database` when given, and creates a provisioning token named `okta`.
 */
export async function startScimPortal(
  dialect: DialectName,
  overrides: Record<string, unknown> = {},
  database?: TestDatabase,
): Promise<ScimTestPortal> {
  const portal = await startTestPortal({
    dialect,
    overrides: mergeConfig({ scim: { enabled: true } }, overrides),
    ...(database ? { database } : {}),
  });
  const scim = portal.portal.scim;
  if (!scim) {
    await portal.close();
    throw new Error('the test portal has no SCIM capability although scim.enabled is true');
  }
  const { token } = await scim.tokens.create('okta');
  return {
    portal,
    client: new ScimHttpClient(portal.url, token),
    close: () => portal.close(),
  };
}
