import { PortalError } from '../errors/index.js';

/** Error for an identity provider that failed or could not be reached; the message names the step. */
export class IdentityProviderError extends PortalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IDENTITY_PROVIDER_FAILED', message, options);
  }
}
