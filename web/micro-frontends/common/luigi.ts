import * as LuigiClient from '@luigi-project/client';
import { h } from './dom.js';

/** View context that the shell sends a micro frontend when it starts or its route changes. */
export interface ViewContext {
  /** The node's `context` from the navigation, merged with its ancestors'. */
  context: Record<string, unknown>;
  /** Values of dynamic path segments, such as `{ kind, namespace, name }`. */
  pathParams: Record<string, string>;
  /** Luigi node parameters, the `~key=value` query parameters of the shell route, unescaped. */
  nodeParams: Record<string, string>;
}

/** True when the page runs inside the Luigi shell, false when opened on its own. */
export const framed = window.parent !== window;

/**
 * Waits for Luigi's init message and calls `render` with the view context,
 * then again whenever the shell updates the context (Luigi reuses the iframe
 * when only the route's path parameters change). Opened outside the shell,
 * the page reads its parameters from its own query string.
 */
export function onViewContext(render: (view: ViewContext) => void): void {
  if (!framed) {
    const query = Object.fromEntries(new URLSearchParams(window.location.search));
    render({ context: {}, pathParams: query, nodeParams: query });
    return;
  }

  // Messages go only to the portal's own origin, where the shell lives.
  LuigiClient.setTargetOrigin(window.location.origin);
  const read = (): ViewContext => ({
    context: (LuigiClient.getContext() ?? {}) as Record<string, unknown>,
    pathParams: { ...LuigiClient.getPathParams() },
    // Luigi core 2.31 escapes <, >, ", ' and / in node parameter values (`/` becomes `&sol;`);
    // `true` reverses that, so `~entity=component:default/shop` arrives as written.
    nodeParams: { ...LuigiClient.getNodeParams(true) },
  });
  // The second argument skips Luigi's third-party-cookie check, which a same-origin view
  // does not need.
  LuigiClient.addInitListener(() => render(read()), true);
  LuigiClient.addContextUpdateListener(() => render(read()));
}

/** Navigates the shell to an absolute route such as `/catalog/component/default/shop`. */
export function navigate(route: string): void {
  if (framed) {
    void LuigiClient.linkManager().navigate(route);
  } else {
    window.location.assign(route);
  }
}

/**
 * Creates a link to a shell route. A plain click navigates inside the shell.
 * A modified click (new tab, new window) follows the href, which works because
 * the shell uses path routing.
 */
export function shellLink(route: string, ...children: Array<Node | string>): HTMLAnchorElement {
  const link = h('a', { href: route, target: '_top' }, ...children);
  link.addEventListener('click', (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    navigate(route);
  });
  return link;
}

/** Shows or hides Luigi's loading indicator over this view; a no-op outside the shell. */
export function showLoading(loading: boolean): void {
  if (!framed) return;
  if (loading) {
    LuigiClient.uxManager().showLoadingIndicator();
  } else {
    LuigiClient.uxManager().hideLoadingIndicator();
  }
}

/**
 * Stores the view's state in the shell route's node parameters, so reloads and
 * links keep it. Each change is a browser history entry unless
 * `newHistoryEntry` is false, which replaces the current entry. Luigi core
 * removes a parameter whose value is undefined.
 */
export function setNodeParams(
  params: Record<string, string | undefined>,
  newHistoryEntry = true,
): void {
  if (framed) {
    LuigiClient.addNodeParams(params as Record<string, string>, newHistoryEntry);
  }
}

/** Reads the shell route the user is on, for the sign-in link's `returnTo`. */
export function currentShellRoute(): string {
  try {
    const top = window.top?.location;
    return top ? `${top.pathname}${top.search}` : '/';
  } catch {
    return '/';
  }
}
