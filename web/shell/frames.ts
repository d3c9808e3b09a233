/**
 * Sandbox tokens of every view's iframe; the server's src/shell/framing.ts
 * explains why both are needed. A node adds to them with its `sandbox` key.
 */
const MINIMAL_SANDBOX = ['allow-scripts', 'allow-same-origin'];

/**
 * Tokens a node may add, as the server's config schema accepts them. The
 * shell checks again, so a token the server never validated cannot widen
 * the sandbox.
 */
const DECLARABLE_TOKENS = new Set([
  'allow-downloads',
  'allow-forms',
  'allow-modals',
  'allow-orientation-lock',
  'allow-pointer-lock',
  'allow-popups',
  'allow-popups-to-escape-sandbox',
  'allow-presentation',
  'allow-storage-access-by-user-activation',
  'allow-top-navigation-by-user-activation',
]);

/** The keys of a navigation node that the shell reads; the server adds them. */
export interface FramedNode {
  sandbox?: unknown;
  /** The node's route as configured, such as `tools/deploy/:name`. */
  nodePath?: unknown;
}

/**
 * Replaces Luigi's sandbox with MINIMAL_SANDBOX and the node's declared
 * tokens. Luigi core 2.31 gives every iframe `allow-forms allow-modals
 * allow-popups allow-popups-to-escape-sandbox allow-same-origin
 * allow-scripts`, which grants more than most views need.
 *
 * Luigi calls this as `settings.iframeCreationInterceptor` for main, modal
 * and split-view iframes, after it has set `src` and `sandbox` and before the
 * iframe joins the page, so the browser never loads a view with Luigi's
 * wider sandbox.
 */
export function applyNodeSandbox(
  iframe: HTMLIFrameElement,
  _viewGroup: unknown,
  node: FramedNode | undefined,
): void {
  iframe.setAttribute('sandbox', sandboxTokensOf(node).join(' '));
}

/** Returns MINIMAL_SANDBOX followed by the node's declarable tokens, without repeats. */
export function sandboxTokensOf(node: FramedNode | undefined): string[] {
  const declared = Array.isArray(node?.sandbox) ? node.sandbox : [];
  const tokens = [...MINIMAL_SANDBOX];
  for (const token of declared) {
    if (typeof token === 'string' && DECLARABLE_TOKENS.has(token) && !tokens.includes(token)) {
      tokens.push(token);
    }
  }
  return tokens;
}
