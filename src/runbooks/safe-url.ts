/**
 * URL checks of rendered runbooks. Both are allowlists: a URL with a scheme
 * must use one of the listed schemes, and anything else with a scheme, such
 * as javascript:, vbscript: or file:, is rejected.
 */

/** Schemes a runbook link may use. */
const LINK_SCHEMES = new Set(['http', 'https', 'mailto']);

/** Schemes an image may use; data: is checked further by SAFE_DATA_IMAGE. */
const IMAGE_SCHEMES = new Set(['http', 'https', 'data']);

/**
 * Raster images as base64 data. SVG is left out, because an SVG document can
 * carry script when a reader opens the image on its own.
 */
const SAFE_DATA_IMAGE = /^data:image\/(?:png|gif|jpeg|webp);base64,[a-z0-9+/=\s]*$/i;

/** Returns true when `url` may be the `href` of a link in a runbook. */
export function isSafeLinkUrl(url: string): boolean {
  const scheme = schemeOf(url);
  return scheme === undefined || LINK_SCHEMES.has(scheme);
}

/** Returns true when `url` may be the `src` of an image in a runbook. */
export function isSafeImageUrl(url: string): boolean {
  const scheme = schemeOf(url);
  if (scheme === undefined) {
    return true;
  }
  if (!IMAGE_SCHEMES.has(scheme)) {
    return false;
  }
  return scheme !== 'data' || SAFE_DATA_IMAGE.test(url.trim());
}

/**
 * Returns the lowercase scheme of a URL, undefined for a relative one, or
 * `invalid` when the part before the colon cannot be a scheme. Browsers drop
 * tabs and newlines anywhere in a URL and leading control characters, and
 * markdown-it percent-encodes them, so both are removed before the check:
 * `jav&#x09;ascript:` then reads as `javascript`.
 */
function schemeOf(url: string): string | undefined {
  const colon = url.indexOf(':');
  if (colon === -1) {
    return undefined;
  }
  const beforeColon = url.slice(0, colon);
  if (/[/?#]/.test(beforeColon)) {
    // The colon belongs to the path, query or fragment: `./a:b`, `?t=1:2`.
    return undefined;
  }

  let decoded: string;
  try {
    decoded = decodeURIComponent(beforeColon);
  } catch {
    return 'invalid';
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what browsers drop.
  const scheme = decoded.replace(/[\u0000-\u0020\u007f-\u009f]/g, '').toLowerCase();
  return /^[a-z][a-z0-9+.-]*$/.test(scheme) ? scheme : 'invalid';
}
