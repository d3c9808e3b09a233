/**
 * Removes the sandbox from the iframe of a view on the shell's own origin.
 * Luigi core 2.31 gives every iframe `allow-scripts allow-same-origin`. For
 * a page of the same origin as the shell, that pair makes the sandbox
 * ineffective, because the page's scripts can reach the shell's document and
 * drop the attribute. The built-in micro frontends need both flags anyway, for
 * the session cookie and their scripts, so they run unsandboxed and are
 * trusted like the shell itself. Views on other origins keep Luigi's sandbox.
 *
 * Luigi calls this as `settings.iframeCreationInterceptor`, after it has set
 * `src` and `sandbox` and before the iframe joins the page, so the browser
 * never loads the view with the ineffective sandbox.
 */
export function removeSameOriginSandbox(iframe: HTMLIFrameElement): void {
  if (isShellOrigin(iframe.src)) {
    iframe.removeAttribute('sandbox');
  }
}

function isShellOrigin(url: string): boolean {
  try {
    return new URL(url, window.location.href).origin === window.location.origin;
  } catch {
    return false;
  }
}
