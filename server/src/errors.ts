/**
 * The closed table of error codes. Every error that leaves the service carries one of
 * these codes; the HTTP status comes from this table, never from the throw site.
 */
export const ERROR_CODES = {
  // request shape
  invalid_json: 400,
  invalid_request: 400,
  validation_failed: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  // management auth
  unauthenticated: 401,
  invalid_client: 401,
  unsupported_grant_type: 400,
  forbidden: 403,
  // resources
  not_found: 404,
  already_exists: 409,
  conflict: 409,
  failed_precondition: 412,
  // connect flow
  auth_link_expired: 410,
  auth_state_invalid: 400,
  auth_state_reused: 400,
  auth_state_expired: 400,
  consent_denied: 400,
  // accounts and tools
  account_not_connected: 409,
  account_expired: 409,
  account_disconnected: 409,
  insufficient_scope: 403,
  tool_not_found: 404,
  tool_input_invalid: 400,
  // provider edge
  provider_unauthorized: 502,
  provider_forbidden: 502,
  provider_not_found: 404,
  provider_bad_request: 400,
  provider_rate_limited: 429,
  provider_unavailable: 502,
  provider_timeout: 504,
  provider_error: 502,
  provider_host_not_allowed: 500,
  // service
  rate_limited: 429,
  service_unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetails {
  [key: string]: unknown;
}

/** An error whose code and message are safe to show to the caller. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;
  /** Set when the error ended a tool execution, so callers can find its log row. */
  executionId?: string;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: ErrorDetails }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options?.details;
  }

  get status(): number {
    return ERROR_CODES[this.code];
  }

  toJSON(): { error: { code: ErrorCode; message: string; details?: ErrorDetails } } {
    return {
      error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) },
    };
  }
}

/** An error answered by (or on the way to) a provider's API. Never carries a token. */
export class ProviderError extends AppError {
  readonly providerStatus: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: ErrorDetails; providerStatus?: number },
  ) {
    super(code, message, options);
    this.name = 'ProviderError';
    this.providerStatus = options?.providerStatus;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
