/**
 * Domain errors. Each carries a stable code; the HTTP error handler maps the
 * class to a status and domain code never builds HTTP responses itself.
 */

/** A single fault inside a larger input, such as one field of a config file. */
export interface ErrorDetail {
  /** Where the fault is: a dotted field path, a file position, or both. */
  path?: string;
  /** The offending value as read, when it helps the reader. */
  value?: unknown;
  message: string;
}

export class PortalError extends Error {
  /** Stable machine-readable code, such as `INPUT_INVALID`. */
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(
    code: string,
    message: string,
    options?: { details?: ErrorDetail[]; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details ?? [];
  }
}

/** The caller sent something invalid; maps to 400. */
export class InputError extends PortalError {
  constructor(
    message: string,
    options?: { details?: ErrorDetail[]; cause?: unknown; code?: string },
  ) {
    super(options?.code ?? 'INPUT_INVALID', message, options);
  }
}

/** The thing asked for does not exist or is hidden from the caller; maps to 404. */
export class NotFoundError extends PortalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_FOUND', message, options);
  }
}

/** The caller is known but not allowed to do this; maps to 403. */
export class NotAllowedError extends PortalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_ALLOWED', message, options);
  }
}

/** The caller has no valid session or token; maps to 401. */
export class AuthenticationError extends PortalError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'UNAUTHENTICATED', message, options);
  }
}

/** The request clashes with the current state; maps to 409. */
export class ConflictError extends PortalError {
  constructor(message: string, options?: { details?: ErrorDetail[]; cause?: unknown }) {
    super('CONFLICT', message, options);
  }
}

/**
 * A configuration or policy file is invalid; start-up stops and every fault is
 * listed in `details`.
 */
export class ConfigError extends PortalError {
  constructor(message: string, details: ErrorDetail[]) {
    super('CONFIG_INVALID', message, { details });
  }
}

/** Formats an error and its details as indented lines for a terminal. */
export function formatErrorForTerminal(error: unknown): string {
  if (!(error instanceof PortalError)) {
    return error instanceof Error ? (error.stack ?? error.message) : String(error);
  }

  const lines = [error.message];
  for (const detail of error.details) {
    const where = detail.path ? `${detail.path}: ` : '';
    lines.push(`  - ${where}${detail.message}`);
  }
  return lines.join('\n');
}
