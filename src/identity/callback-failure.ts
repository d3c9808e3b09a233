import { AuthorizationResponseError, ResponseBodyError } from 'openid-client';
import { IdentityProviderError } from './relying-party.js';

/** openid-client's messages for a fault of the ID token name the JWT, its signature or its key. */
const ID_TOKEN_FAULT = /\bJWT\b|\bJWS\b|signature|verification key/;

/**
 * Translates a failure of the authorization response or of the code
 * redemption into a status and a reason for the person signing in. The
 * reasons name the error codes of the protocol and never include a token.
 */
export function describeCallbackFailure(error: unknown): { status: number; reason: string } {
  if (error instanceof AuthorizationResponseError) {
    const description = error.error_description ? `: ${error.error_description}` : '';
    return {
      status: 401,
      reason: `The identity provider ended the sign-in with ${error.error}${description}.`,
    };
  }
  if (error instanceof ResponseBodyError) {
    const description = error.error_description ? `: ${error.error_description}` : '';
    return {
      status: 401,
      reason: `The identity provider rejected the authorization code (${error.error}${description}). Codes are valid once and for a short time; start again.`,
    };
  }
  if (error instanceof IdentityProviderError) {
    return { status: 502, reason: error.message };
  }

  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    code.startsWith('OAUTH_') &&
    ID_TOKEN_FAULT.test(describeError(error))
  ) {
    return {
      status: 400,
      reason: `The ID token from the identity provider was rejected (${describeError(error)}), so the sign-in did not complete. Start again.`,
    };
  }
  if (typeof code === 'string' && code.startsWith('OAUTH_')) {
    return {
      status: 400,
      reason: `The response of the identity provider does not match the sign-in request (${describeError(error)}). Start again.`,
    };
  }
  return {
    status: 502,
    reason: `The identity provider could not complete the sign-in (${describeError(error)}).`,
  };
}

/** Joins the message of an error with that of its cause, where openid-client puts the failed check. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
