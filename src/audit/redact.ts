/** The replacement of a secret in an audit record. */
export const REDACTED = '[redacted]';

/**
 * Parts of a key, lowercased with everything but letters and digits removed,
 * that mark its value as a credential: `Authorization`, `set-cookie`,
 * `client_secret`, `apiKey`, `X-Api-Key`, `sessionId`, `refresh_token`.
 */
const SECRET_KEY_PARTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'cookie',
  'authorization',
  'apikey',
  'credential',
  'sessionid',
  'privatekey',
  'signature',
  'bearer',
  'jwt',
];

/**
 * Endings of a normalised key that names a credential without holding it,
 * such as `tokenId`, `secretName` or `credentialType`. A session id is the
 * exception: here it is the credential itself.
 */
const REFERENCE_KEY_ENDINGS = ['id', 'ids', 'name', 'names', 'type', 'count'];

/** A JSON Web Token or JWE: base64url segments after a `{"` header (`eyJ`). */
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}/g;

/** The credentials of an HTTP Authorization header value. */
const AUTHORIZATION_VALUE = /\b(Bearer|Basic|Digest|Token|Negotiate)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

/** The password of a URL such as postgres://user:password@host. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^/\s@]*@/gi;

/** A query parameter whose name marks a credential: `?access_token=…`, `&code=…`. */
const SECRET_QUERY_PARAMETER =
  /([?&;](?:[^=&;#\s]*(?:token|secret|password|passwd|key|code|session|signature|sig|auth)[^=&;#\s]*)=)[^&;#\s]+/gi;

/** A lone UTF-16 surrogate, which UTF-8 and PostgreSQL's text type cannot store. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Limits that keep one record small; larger values are cut and marked. */
export const DETAIL_LIMITS = {
  /** Characters of one string. */
  stringLength: 4_000,
  /** Items of one array and members of one object. */
  items: 1_000,
  /** Depth of nested arrays and objects. */
  depth: 16,
  /** Characters of the whole canonical details text. */
  totalLength: 64 * 1024,
};

/** Tests whether a key names a credential, so that its value is never recorded. */
export function isSecretKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (!SECRET_KEY_PARTS.some((part) => normalised.includes(part))) {
    return false;
  }
  if (normalised.includes('sessionid')) {
    return true;
  }
  return !REFERENCE_KEY_ENDINGS.some(
    (ending) => normalised.endsWith(ending) && normalised.length > ending.length,
  );
}

/**
 * Makes a text storable and free of credentials: replaces JSON Web Tokens,
 * Authorization header credentials, URL passwords and credential query
 * parameters with [redacted], NUL and lone surrogates with U+FFFD, and cuts
 * it to at most `maxLength` characters, marker included.
 */
export function redactText(text: string, maxLength: number = DETAIL_LIMITS.stringLength): string {
  // Each pattern runs only when the text has the character it needs, because
  // most recorded texts are short references that contain none of them.
  let result = text.replaceAll('\u0000', '\uFFFD');
  if (result.includes('eyJ')) {
    result = result.replace(JWT, REDACTED);
  }
  if (/\s/.test(result)) {
    result = result.replace(
      AUTHORIZATION_VALUE,
      (_whole, scheme: string) => `${scheme} ${REDACTED}`,
    );
  }
  if (result.includes('://')) {
    result = result.replace(URL_PASSWORD, (_whole, prefix: string) => `${prefix}:${REDACTED}@`);
  }
  if (result.includes('=')) {
    result = result.replace(SECRET_QUERY_PARAMETER, (_whole, name: string) => `${name}${REDACTED}`);
  }
  if (result.length > maxLength) {
    // The marker counts towards the limit, so the text fits a column of that size.
    const marker = `…[cut from ${result.length} characters]`;
    result = `${result.slice(0, Math.max(0, maxLength - marker.length))}${marker}`.slice(
      0,
      maxLength,
    );
  }
  // Last, because a cut may split a surrogate pair.
  return result.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * Turns any value into plain JSON with every secret redacted, at any depth:
 * values under credential keys become [redacted], strings pass through
 * redactText, dates become ISO strings, errors their name and message,
 * bigints strings, Maps objects and Sets arrays. Functions, symbols and
 * undefined are dropped, non-finite numbers become null, and cycles become
 * "[circular]".
 */
export function sanitizeDetails(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) {
    return {};
  }
  const sanitized = sanitizeValue(value, 0, new WeakSet());
  if (sanitized !== null && typeof sanitized === 'object' && !Array.isArray(sanitized)) {
    return sanitized as Record<string, unknown>;
  }
  return { value: sanitized };
}

function sanitizeValue(value: unknown, depth: number, ancestors: WeakSet<object>): unknown {
  switch (typeof value) {
    case 'string':
      return redactText(value);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) {
    return null;
  }

  const object = value as object;
  if (object instanceof Date) {
    return Number.isNaN(object.getTime()) ? null : object.toISOString();
  }
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
    return `[${object.byteLength} bytes of binary data]`;
  }
  if (ancestors.has(object)) {
    return '[circular]';
  }
  if (depth >= DETAIL_LIMITS.depth) {
    return '[nested too deep]';
  }

  ancestors.add(object);
  try {
    if (object instanceof Error) {
      return sanitizeEntries(
        [
          ['name', object.name],
          ['message', object.message],
        ],
        depth,
        ancestors,
      );
    }
    if (Array.isArray(object) || object instanceof Set) {
      return sanitizeItems([...object], depth, ancestors);
    }
    if (object instanceof Map) {
      return sanitizeEntries(
        [...object.entries()].map(([key, item]) => [String(key), item]),
        depth,
        ancestors,
      );
    }
    const json = (object as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') {
      return sanitizeValue(json.call(object), depth + 1, ancestors);
    }
    return sanitizeEntries(Object.entries(object), depth, ancestors);
  } finally {
    ancestors.delete(object);
  }
}

function sanitizeItems(items: unknown[], depth: number, ancestors: WeakSet<object>): unknown[] {
  const result: unknown[] = [];
  for (const item of items.slice(0, DETAIL_LIMITS.items)) {
    const sanitized = sanitizeValue(item, depth + 1, ancestors);
    // JSON.stringify writes null for an array item it cannot represent.
    result.push(sanitized === undefined ? null : sanitized);
  }
  if (items.length > DETAIL_LIMITS.items) {
    result.push(`[${items.length - DETAIL_LIMITS.items} more items cut]`);
  }
  return result;
}

function sanitizeEntries(
  entries: Array<[string, unknown]>,
  depth: number,
  ancestors: WeakSet<object>,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [rawKey, item] of entries.slice(0, DETAIL_LIMITS.items)) {
    const key = redactText(rawKey, 200);
    if (isSecretKey(rawKey)) {
      if (item !== undefined && item !== null && item !== '') {
        setMember(result, key, REDACTED);
      }
      continue;
    }
    const sanitized = sanitizeValue(item, depth + 1, ancestors);
    if (sanitized !== undefined) {
      setMember(result, key, sanitized);
    }
  }
  if (entries.length > DETAIL_LIMITS.items) {
    setMember(result, '[cut]', `${entries.length - DETAIL_LIMITS.items} more members cut`);
  }
  return result;
}

/** Sets an own member, so that a key such as `__proto__` stays data and never changes the prototype. */
function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
