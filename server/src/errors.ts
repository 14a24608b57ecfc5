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
  forbidden: 403,
  // resources
  not_found: 404,
  already_exists: 409,
  failed_precondition: 412,
  // connect flow (the pages people reach through authentication links)
  auth_link_invalid: 404,
  auth_link_expired: 410,
  auth_link_used: 410,
  auth_link_revoked: 410,
  auth_state_invalid: 400,
  auth_state_reused: 400,
  auth_state_expired: 400,
  consent_denied: 400,
  identity_mismatch: 409,
  // user verification (reference: VerifyConnectedAccountUser answers 403 on a mismatch, 404 otherwise)
  user_verification_invalid: 404,
  user_verification_used: 404,
  user_verification_expired: 404,
  user_verification_mismatch: 403,
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
  // limits (rate_limited answers carry retry-after; tool_result_too_large: narrow the request)
  rate_limited: 429,
  tool_result_too_large: 502,
  // the caller hung up or cancelled before the answer (nginx's 499: recorded, never received)
  cancelled: 499,
  // service
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The codes a user fixes by (re-)connecting an account that is not ACTIVE: a failed tool call
 * with one of these carries a fresh authentication link. Not insufficient_scope: its account
 * is ACTIVE, and a link in an agent's hands could re-bind it; the user re-authorizes through
 * the app instead.
 */
export const ACCOUNT_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'account_not_connected',
  'account_expired',
  'account_disconnected',
]);

export interface ErrorDetails {
  [key: string]: unknown;
}

/** An error whose code and message are safe to show to the caller. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: ErrorDetails }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options?.details;
  }

  get status(): number {
    return ERROR_CODES[this.code];
  }

  toJSON(): ErrorBody {
    return errorBody(this.code, this.message, this.details);
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

/** The JSON shape of every error Switchboard answers with (REST bodies, MCP structured tool errors). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetails };
}

/** The one serializer of that shape; edges add their own envelope fields (request_id, execution_id) beside it. */
export function errorBody(code: ErrorCode, message: string, details?: ErrorDetails): ErrorBody {
  return { error: { code, message, ...(details ? { details } : {}) } };
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/**
 * A start that cannot go on, said in one line with what the operator should do (`hint`); the
 * CLI prints both and no stack. Thrown where the cause is known: the database, the listen address.
 */
export class StartupError extends Error {
  override name = 'StartupError';
  constructor(
    message: string,
    readonly hint: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
