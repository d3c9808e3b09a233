import { ConfigError, type ErrorDetail } from '../errors/index.js';

/** An HTTP header name: the token characters of RFC 9110, section 5.6.2. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Characters that an HTTP header value cannot hold. */
const INVALID_VALUE_CHARACTER = /[\r\n\0]/;

/** Headers that the forwarder sets itself. */
const RESERVED_HEADERS = [
  'content-type',
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
  'idempotency-key',
];

/**
 * Checks the headers of `audit.forward`. Throws a ConfigError that names
 * every faulty header but never repeats a value, because these headers
 * usually hold the collector's credentials.
 */
export function checkForwardHeaders(headers: Readonly<Record<string, string>>): void {
  const faults: ErrorDetail[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const path = `audit.forward.headers.${name}`;
    if (!HEADER_NAME.test(name)) {
      faults.push({
        path,
        message: `'${name}' is not an HTTP header name: use letters, digits and '-', such as Authorization`,
      });
    } else if (RESERVED_HEADERS.includes(name.toLowerCase())) {
      faults.push({
        path,
        message: `${name} is set by the forwarder: leave out ${RESERVED_HEADERS.join(', ')}`,
      });
    }
    if (INVALID_VALUE_CHARACTER.test(value)) {
      faults.push({
        path,
        message:
          'the value contains a line break or NUL, which a header value cannot hold: remove it (the value is not shown, since it may be a credential)',
      });
    }
  }
  if (faults.length > 0) {
    throw new ConfigError(
      `audit.forward.headers is invalid (${faults.length === 1 ? '1 fault' : `${faults.length} faults`})`,
      faults,
    );
  }
}
