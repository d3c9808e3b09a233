import type { FastifyReply } from 'fastify';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Wraps already escaped body HTML in a minimal page. */
export function pageHtml(title: string, bodyHtml: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1.2rem}.error{color:#a00}code{background:#eee;padding:0 .2rem}
</style>
</head>
<body>
${bodyHtml}
</body>
</html>
`;
}

/**
 * Sends an HTML page with headers that keep it out of caches and frames and
 * allow no script, and forms only towards this site.
 */
export function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    )
    .header('x-frame-options', 'DENY')
    .send(html);
}

/** Sends a short page that states why a sign-in step failed and links to a new attempt. */
export function sendFailurePage(
  reply: FastifyReply,
  status: number,
  title: string,
  reason: string,
  retryUrl = '/api/auth/login',
): FastifyReply {
  const body = `<h1>${escapeHtml(title)}</h1>
<p class="error">${escapeHtml(reason)}</p>
<p><a href="${escapeHtml(retryUrl)}">Try signing in again</a></p>`;
  return sendPage(reply, status, pageHtml(title, body));
}
