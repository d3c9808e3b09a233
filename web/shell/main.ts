/**
 * Configures Luigi core for the signed-in user. The server computes the
 * navigation, which holds only the nodes the user may see, and the global
 * context every micro frontend receives. This script adds what JSON cannot
 * carry: the logout function, the profile lookup, the badge count functions
 * and the iframe interceptor.
 */
import { withBadgeCounters } from './badges.js';
import { applyNodeSandbox } from './frames.js';
import { createTokenRequestListener, TOKEN_REQUEST_MESSAGE } from './tokens.js';

/** Body of `GET /api/shell/config`. */
interface ShellConfig {
  title: string;
  nodes: unknown[];
  profile: { name: string; userEntityRef: string };
  /** Values merged under every node's context, such as `permissions`. */
  globalContext: Record<string, unknown>;
}

/** The fields of `GET /api/auth/me` that the profile menu shows. */
interface Me {
  displayName?: string;
  email?: string;
}

interface LuigiCore {
  setConfig(config: Record<string, unknown>): void;
  customMessages(): { send(microfrontendId: string, message: object): void };
}

declare global {
  interface Window {
    Luigi: LuigiCore;
  }
}

async function start(): Promise<void> {
  const [configResponse, meResponse] = await Promise.all([
    fetch('/api/shell/config', {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    }),
    fetch('/api/auth/me', {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    }).catch(() => undefined),
  ]);

  if (configResponse.status === 401) {
    signInAgain();
    return;
  }
  if (!configResponse.ok) {
    showFailure(
      `The navigation could not be loaded (HTTP ${configResponse.status}). Reload the page to try again.`,
    );
    return;
  }

  const config = (await configResponse.json()) as ShellConfig;
  if (config.nodes.length === 0) {
    showFailure(
      'Your roles grant no part of this portal yet. Ask a portal administrator for a role, then reload the page.',
    );
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Sign out';
    button.addEventListener('click', () => void signOut());
    document.body.append(button);
    return;
  }
  const me = meResponse?.ok ? ((await meResponse.json()) as Me) : {};
  // Luigi 2.31's profile menu shows the name, or the email when there is no name,
  // so both go into the name, one a line (shell.css keeps the line break).
  const displayName = me.displayName || config.profile.name;
  const user = {
    name: me.email ? `${displayName}\n${me.email}` : displayName,
    email: me.email ?? '',
  };

  window.Luigi.setConfig({
    routing: { useHashRouting: false },
    navigation: {
      nodes: withBadgeCounters(config.nodes),
      globalContext: config.globalContext ?? {},
      // Only web components on the portal's own host load; Luigi 2.31 allows those always.
      validWebcomponentUrls: [],
      profile: {
        logout: {
          label: 'Sign out',
          icon: 'log',
          // Luigi 2.31 calls only a plain function here: it checks for '[object Function]',
          // and an async function is '[object AsyncFunction]'.
          customLogoutFn: () => {
            void signOut();
          },
        },
        staticUserInfoFn: () => Promise.resolve(user),
      },
    },
    settings: {
      header: { title: config.title, logo: '/assets/shell/logo.svg' },
      responsiveNavigation: 'semiCollapsible',
      iframeCreationInterceptor: applyNodeSandbox,
    },
    communication: {
      customMessagesListeners: {
        [TOKEN_REQUEST_MESSAGE]: createTokenRequestListener((id, message) =>
          window.Luigi.customMessages().send(id, message),
        ),
      },
    },
  });
}

function signInAgain(): void {
  const returnTo = `${window.location.pathname}${window.location.search}`;
  window.location.assign(`/api/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
}

/**
 * Ends the session on the server, then starts over. The browser adds the
 * same-origin Origin header to this POST, which the logout route requires.
 */
async function signOut(): Promise<void> {
  try {
    await fetch('/api/auth/logout', { method: 'POST', credentials: 'same-origin' });
  } finally {
    window.location.assign('/');
  }
}

function showFailure(message: string): void {
  const paragraph = document.createElement('p');
  paragraph.setAttribute('role', 'alert');
  paragraph.textContent = message;
  document.body.append(paragraph);
}

start().catch((error: unknown) => {
  showFailure(`The portal could not start: ${String(error)}. Reload the page to try again.`);
});
