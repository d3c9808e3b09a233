/** Static path of the files of `@luigi-project/core`. */
export const LUIGI_ASSETS_PATH = '/assets/luigi/';
/** Static path of the shell's own bundle, built from web/shell/. */
export const SHELL_ASSETS_PATH = '/assets/shell/';
/** Static path of the built-in micro frontends, built from web/micro-frontends/. */
export const MICRO_FRONTENDS_PATH = '/micro-frontends/';

/**
 * Content-Security-Policy of the shell page. Scripts come only from the
 * portal. Luigi core sets inline styles and loads its theme fonts from its
 * own folder, so styles allow 'unsafe-inline'. Frames come from the portal
 * and from the origins of absolute view URLs in `shell.nodes`. The shell
 * script connects to the portal and to the origins of badge counter URLs.
 */
export function shellPagePolicy(
  frameOrigins: readonly string[],
  connectOrigins: readonly string[] = [],
): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src ${["'self'", ...connectOrigins].join(' ')}`,
    `frame-src ${["'self'", ...frameOrigins].join(' ')}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Content-Security-Policy of the built-in micro frontends: scripts, styles and
 * API calls from the portal only, and framing only by the portal's own shell.
 */
export const MICRO_FRONTEND_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

/**
 * Renders the shell page: Luigi core with its styles, the shell's own
 * stylesheet after them, and the script that configures Luigi.
 */
export function renderShellPage(options: { title: string; luigiVersion: string }): string {
  const version = encodeURIComponent(options.luigiVersion);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="icon" type="image/svg+xml" href="${SHELL_ASSETS_PATH}logo.svg">
<link rel="stylesheet" href="${LUIGI_ASSETS_PATH}luigi.css?v=${version}">
<link rel="stylesheet" href="${SHELL_ASSETS_PATH}shell.css">
<script defer src="${LUIGI_ASSETS_PATH}luigi.js?v=${version}"></script>
<script defer src="${SHELL_ASSETS_PATH}shell.js"></script>
</head>
<body>
<noscript>This portal needs JavaScript to show its navigation.</noscript>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
