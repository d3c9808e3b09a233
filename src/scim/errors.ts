import { PortalError } from '../errors/index.js';

/** The `scimType` values of RFC 7644, section 3.12, that this server sends. */
export type ScimErrorType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'sensitive';

/**
 * A SCIM protocol error: an HTTP status and, for most 400s and 409s, a
 * `scimType`. The SCIM routes send it in SCIM's error schema.
 */
export class ScimError extends PortalError {
  readonly status: number;
  readonly scimType: ScimErrorType | undefined;

  constructor(
    status: number,
    message: string,
    options?: { scimType?: ScimErrorType; cause?: unknown },
  ) {
    super(
      options?.scimType ? `SCIM_${options.scimType.toUpperCase()}` : `SCIM_${status}`,
      message,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.status = status;
    this.scimType = options?.scimType;
  }
}

/** Creates the 400 error of an invalid attribute value. */
export function invalidValue(message: string): ScimError {
  return new ScimError(400, message, { scimType: 'invalidValue' });
}

/** Creates the 404 error of a resource that does not exist. */
export function resourceNotFound(resourceType: 'User' | 'Group', id: string): ScimError {
  return new ScimError(404, `${resourceType} ${JSON.stringify(id)} not found`);
}
