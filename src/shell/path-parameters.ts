/**
 * Dynamic path segments of Luigi nodes. A node whose pathSegment is `:name`
 * matches any one URL segment, and Luigi core replaces `:name` in the
 * viewUrl of that node and of every node below it with the segment's value.
 */

/** A dynamic segment: `:` followed by a parameter name. */
const DYNAMIC_SEGMENT = /^:([A-Za-z_][A-Za-z0-9_]*)$/;

/** A `:name` placeholder inside a viewUrl, not part of a scheme or a port such as `http://` or `:8080`. */
const VIEW_URL_PLACEHOLDER = /:([A-Za-z_][A-Za-z0-9_]*)/g;

/** Returns the parameter name of a dynamic segment (`kind` for `:kind`), or undefined. */
export function parameterOf(pathSegment: string): string | undefined {
  return DYNAMIC_SEGMENT.exec(pathSegment)?.[1];
}

/** Whether the segment starts with `:`, which Luigi treats as dynamic whatever follows. */
export function isDynamicSegment(pathSegment: string): boolean {
  return pathSegment.startsWith(':');
}

/**
 * Lists the `:name` placeholders of a viewUrl. The scheme and the authority
 * of an absolute URL are skipped, so `http://host:8080/` has none.
 */
export function placeholdersOf(viewUrl: string): string[] {
  const start = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(viewUrl)?.[0].length ?? 0;
  const names = [...viewUrl.slice(start).matchAll(VIEW_URL_PLACEHOLDER)].map((match) => match[1]);
  return [...new Set(names.filter((name): name is string => name !== undefined))];
}

/**
 * Replaces each `:name` placeholder of a viewUrl whose name is in `values`,
 * the way Luigi core does on navigation, with the URL-encoded value. The
 * longest names are replaced first, so `:namespace` is not read as `:name`
 * followed by `space`.
 */
export function substituteParameters(
  viewUrl: string,
  values: Readonly<Record<string, string>>,
): string {
  const names = Object.keys(values).sort((a, b) => b.length - a.length);
  let result = viewUrl;
  for (const name of names) {
    result = result.replaceAll(`:${name}`, encodeURIComponent(values[name] ?? ''));
  }
  return result;
}
