import { createHash } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';

/** How long a browser has between the login redirect and the callback. */
export const LOGIN_TRANSACTION_SECONDS = 600;

/** State of one sign-in, kept for the callback to check the authorization response. */
export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Same-site path to open after sign-in. */
  returnTo: string;
}

export interface LoginTransactionCodec {
  seal(transaction: LoginTransaction): Promise<string>;
  /** Returns undefined for a value that was changed, sealed with another key, or has expired. */
  open(value: string | undefined): Promise<LoginTransaction | undefined>;
}

/**
 * Creates the codec of the login transaction cookie: a JWE (`dir`, A256GCM)
 * under a key derived from `auth.session.secret`, so the browser can neither
 * read the PKCE verifier nor change any field.
 */
export function createLoginTransactionCodec(secret: string): LoginTransactionCodec {
  const key = createHash('sha256').update('login-transaction\u0000').update(secret).digest();

  return {
    async seal(transaction) {
      return await new EncryptJWT({ ...transaction })
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .setIssuedAt()
        .setExpirationTime(`${LOGIN_TRANSACTION_SECONDS}s`)
        .encrypt(key);
    },

    async open(value) {
      if (!value) {
        return undefined;
      }
      try {
        const { payload } = await jwtDecrypt(value, key, {
          keyManagementAlgorithms: ['dir'],
          contentEncryptionAlgorithms: ['A256GCM'],
        });
        const { state, nonce, codeVerifier, returnTo } = payload;
        if (
          typeof state !== 'string' ||
          typeof nonce !== 'string' ||
          typeof codeVerifier !== 'string' ||
          typeof returnTo !== 'string'
        ) {
          return undefined;
        }
        return { state, nonce, codeVerifier, returnTo };
      } catch {
        return undefined;
      }
    },
  };
}

const MAX_RETURN_TO_LENGTH = 2048;

/**
 * Checks a `returnTo` value: only a path of this site is accepted, so the
 * login cannot be turned into an open redirect. Returns the normalized path,
 * or undefined when the value is not such a path.
 */
export function parseReturnTo(value: unknown): string | undefined {
  if (value === undefined || value === '') {
    return '/';
  }
  if (typeof value !== 'string' || value.length > MAX_RETURN_TO_LENGTH) {
    return undefined;
  }
  // `//host` and `/\host` are protocol-relative URLs in browsers, and control
  // characters or backslashes anywhere can be read as such by some of them.
  if (!value.startsWith('/') || value.startsWith('//') || hasUnsafeCharacter(value)) {
    return undefined;
  }

  const base = 'http://portal.invalid';
  const url = new URL(value, base);
  if (url.origin !== base) {
    return undefined;
  }
  // Normalising can turn `/.//host` or `/a/..//host` into `//host`, which a
  // browser reads as another site; such a path is rejected, not repaired.
  const normalised = `${url.pathname}${url.search}${url.hash}`;
  if (normalised.startsWith('//')) {
    return undefined;
  }
  return normalised;
}

function hasUnsafeCharacter(value: string): boolean {
  for (const character of value) {
    const code = character.charCodeAt(0);
    if (character === '\\' || code < 0x20 || code === 0x7f) {
      return true;
    }
  }
  return false;
}
