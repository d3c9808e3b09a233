// Runs inside the portal's shell. It reads the Luigi context, requests a JWT
// for this micro frontend's backend from the shell, and calls the backend with it.
const { LuigiClient } = window;

const TOKEN_REQUEST = 'backstage-luigi.token.request';
const TOKEN_RESPONSE = 'backstage-luigi.token.response';

/** Token requests waiting for the shell's response, by request id. */
const pending = new Map();

LuigiClient.addCustomMessageListener(TOKEN_RESPONSE, (message) => {
  const waiting = pending.get(message.requestId);
  if (!waiting) return;
  pending.delete(message.requestId);
  if (message.error) {
    waiting.reject(new Error(message.error));
  } else {
    waiting.resolve(message);
  }
});

/**
 * Asks the shell for a JWT for this node's backend. Resolves to
 * `{ token, audience, expiresAt }`; the JWT lives at most 5 minutes, so ask
 * again when it has expired.
 */
function requestToken() {
  const requestId = crypto.randomUUID();
  return new Promise((resolve, reject) => {
    pending.set(requestId, { resolve, reject });
    LuigiClient.sendCustomMessage({ id: TOKEN_REQUEST, requestId });
  });
}

async function showBackendView() {
  const output = document.getElementById('backend');
  try {
    const { token } = await requestToken();
    const response = await fetch('/api/whoami', { headers: { authorization: `Bearer ${token}` } });
    const body = await response.json();
    output.textContent = response.ok
      ? `${body.sub}, permissions: ${body.permissions.join(', ') || 'none'}`
      : `HTTP ${response.status}: ${body.error}`;
  } catch (error) {
    output.textContent = `No token: ${error.message}`;
  }
}

LuigiClient.addInitListener((context) => {
  const permissions = Array.isArray(context.permissions) ? context.permissions : [];
  document.getElementById('context-permissions').textContent = permissions.join(', ') || 'none';
  void showBackendView();
});

window.requestToken = requestToken;
