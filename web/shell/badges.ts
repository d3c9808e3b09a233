/**
 * Turns the server's `badgeCounter: { label, url }` into Luigi's
 * `badgeCounter: { label, count }`, where `count` fetches the number from
 * `url`. The server checked that `url` is a path on the portal or a URL on
 * an allowed origin, and the page's `connect-src` admits only those.
 */

/**
 * Time after which a count request is given up, in milliseconds. Luigi core
 * 2.31 awaits each node's count while it builds the navigation, so a slow
 * counter delays the whole menu by up to this long on every render.
 */
export const BADGE_TIMEOUT_MS = 2000;

/** A node's badge as `GET /api/shell/config` sends it. */
interface BadgeSource {
  label: string;
  url: string;
}

/** Luigi core 2.31's badge: it calls `count` on each render and shows a number above 0. */
interface LuigiBadge {
  label: string;
  count: () => Promise<number>;
}

/**
 * Returns a copy of the navigation in which every `badgeCounter` with a `url`
 * has a `count` function instead. Other nodes are copied unchanged.
 */
export function withBadgeCounters(nodes: readonly unknown[]): unknown[] {
  return nodes.map((node) => {
    if (typeof node !== 'object' || node === null) {
      return node;
    }

    const copy: Record<string, unknown> = { ...(node as Record<string, unknown>) };
    if (Array.isArray(copy.children)) {
      copy.children = withBadgeCounters(copy.children);
    }
    const badge = copy.badgeCounter as Partial<BadgeSource> | undefined;
    if (badge && typeof badge.label === 'string' && typeof badge.url === 'string') {
      copy.badgeCounter = createBadge({ label: badge.label, url: badge.url });
    }
    return copy;
  });
}

function createBadge(source: BadgeSource): LuigiBadge {
  // Luigi calls `count` once per navigation part that shows the node, so
  // concurrent calls share one request.
  let pending: Promise<number> | undefined;
  return {
    label: source.label,
    count: () => {
      pending ??= fetchCount(source.url).finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}

/**
 * Fetches the count with the session cookie, which the browser sends only to
 * the portal's own origin. The response is a JSON number, or an object with a
 * numeric `count` or `totalItems` (as the catalog's by-query returns). Any
 * failure, timeout or other body returns 0, which Luigi shows as no badge.
 */
export async function fetchCount(url: string): Promise<number> {
  let response: Response;
  try {
    response = await fetch(url, {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(BADGE_TIMEOUT_MS),
    });
  } catch (error) {
    console.warn(`Badge count from ${url} failed: ${String(error)}`);
    return 0;
  }
  if (!response.ok) {
    console.warn(`Badge count from ${url} failed with HTTP ${response.status}`);
    return 0;
  }

  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    console.warn(`Badge count from ${url} is not JSON: ${String(error)}`);
    return 0;
  }
  const count = readCount(body);
  if (count === undefined) {
    console.warn(
      `Badge count from ${url} is invalid: return a number, { count } or { totalItems }`,
    );
    return 0;
  }
  return count;
}

/** Reads a non-negative integer count from the body forms that `fetchCount` accepts. */
export function readCount(body: unknown): number | undefined {
  let value: unknown = body;
  if (typeof body === 'object' && body !== null) {
    const fields = body as { count?: unknown; totalItems?: unknown };
    value = fields.count ?? fields.totalItems;
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
    return value;
  }
  return undefined;
}
