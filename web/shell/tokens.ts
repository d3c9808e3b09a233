/**
 * Fetches JWTs for micro frontends. A micro frontend sends the Luigi custom
 * message TOKEN_REQUEST_MESSAGE; the shell requests a JWT for that view's
 * node from the server and sends TOKEN_RESPONSE_MESSAGE back to the same
 * view. The node comes from the iframe that Luigi core matched the message
 * to, never from the message, so a view can only obtain its own node's JWT.
 */
import type { FramedNode } from './frames.js';

export const TOKEN_REQUEST_MESSAGE = 'backstage-luigi.token.request';
export const TOKEN_RESPONSE_MESSAGE = 'backstage-luigi.token.response';

/** Longest `requestId` echoed back, in characters. */
const MAX_REQUEST_ID_LENGTH = 100;

/** A micro frontend as Luigi core 2.31 describes it to a custom message listener. */
interface LuigiMicrofrontend {
  id: string;
  container: Element;
  type: string;
}

/** The shell's response to a token request; `error` replaces the token fields when the request failed. */
export interface TokenResponse {
  id: typeof TOKEN_RESPONSE_MESSAGE;
  requestId: string;
  token?: string;
  audience?: string;
  expiresAt?: string;
  error?: string;
}

/**
 * Creates the listener for `communication.customMessagesListeners`. Luigi
 * core calls it only for a message whose source is an iframe that Luigi
 * created and whose origin is that iframe's `viewUrl` origin. Luigi core
 * also sends the response only to that iframe and that origin.
 */
export function createTokenRequestListener(
  send: (microfrontendId: string, message: TokenResponse) => void,
) {
  return (
    message: { id: string; requestId?: unknown },
    microfrontend: LuigiMicrofrontend | undefined,
    node: FramedNode | undefined,
  ): void => {
    // The shell's own window passes Luigi's source check too, but it has no
    // micro frontend and no node, so it gets nothing.
    if (!microfrontend || !(microfrontend.container instanceof HTMLIFrameElement)) {
      console.warn('Token request ignored: it did not come from the iframe of a micro frontend');
      return;
    }
    const requestId = typeof message.requestId === 'string' ? message.requestId : '';
    if (requestId === '' || requestId.length > MAX_REQUEST_ID_LENGTH) {
      console.warn(
        `Token request ignored: requestId must be a string of 1 to ${MAX_REQUEST_ID_LENGTH} characters`,
      );
      return;
    }

    const reply = (fields: Omit<TokenResponse, 'id' | 'requestId'>) =>
      send(microfrontend.id, { id: TOKEN_RESPONSE_MESSAGE, requestId, ...fields });

    if (typeof node?.nodePath !== 'string') {
      reply({
        error: 'This view belongs to no configured shell node, so it has no token audience',
      });
      return;
    }
    void requestToken(node.nodePath).then(reply);
  };
}

/** Requests the node's JWT with the session cookie; a failure becomes the server's message. */
async function requestToken(nodePath: string): Promise<Omit<TokenResponse, 'id' | 'requestId'>> {
  try {
    const response = await fetch('/api/shell/token', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ nodePath }),
    });
    const body = (await response.json().catch(() => ({}))) as {
      token?: string;
      audience?: string;
      expiresAt?: string;
      error?: { message?: string };
    };
    if (!response.ok || typeof body.token !== 'string') {
      return {
        error: body.error?.message ?? `The token request failed with HTTP ${response.status}`,
      };
    }
    return { token: body.token, audience: body.audience, expiresAt: body.expiresAt };
  } catch (error) {
    return { error: `The token request failed: ${String(error)}` };
  }
}
