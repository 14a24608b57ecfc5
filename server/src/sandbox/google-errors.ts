/**
 * The error bodies Google's JSON APIs send (`{"error": {code, message, errors, status}}`).
 * Shapes follow https://cloud.google.com/apis/design/errors and what Gmail/Calendar answer.
 */
export type GoogleStatus =
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'ABORTED'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'UNKNOWN';

const STATUS_BY_CODE: Record<number, GoogleStatus> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const DEFAULTS: Record<number, { message: string; reason: string }> = {
  400: { message: 'Bad Request', reason: 'badRequest' },
  401: { message: 'Request had invalid authentication credentials.', reason: 'authError' },
  403: { message: 'The caller does not have permission', reason: 'forbidden' },
  404: { message: 'Requested entity was not found.', reason: 'notFound' },
  409: { message: 'Requested entity already exists', reason: 'duplicate' },
  412: { message: 'Precondition check failed.', reason: 'failedPrecondition' },
  429: { message: 'Too many concurrent requests for user.', reason: 'rateLimitExceeded' },
  500: { message: 'Internal error encountered.', reason: 'backendError' },
  502: { message: 'Bad Gateway', reason: 'backendError' },
  503: { message: 'The service is currently unavailable.', reason: 'backendError' },
  504: { message: 'Deadline exceeded.', reason: 'backendError' },
};

export interface GoogleErrorOptions {
  message?: string;
  /** The legacy `errors[].message`, when Google words it differently from `message`. */
  errorMessage?: string;
  reason?: string;
  status?: GoogleStatus;
  location?: string;
  locationType?: string;
  details?: unknown[];
  headers?: Record<string, string>;
}

export function googleErrorBody(code: number, options: GoogleErrorOptions = {}) {
  const fallback = DEFAULTS[code] ?? { message: 'Unknown Error.', reason: 'unknown' };
  const message = options.message ?? fallback.message;
  return {
    error: {
      code,
      message,
      errors: [
        {
          message: options.errorMessage ?? message,
          domain: 'global',
          reason: options.reason ?? fallback.reason,
          ...(options.location ? { location: options.location, locationType: options.locationType } : {}),
        },
      ],
      status: options.status ?? STATUS_BY_CODE[code] ?? 'UNKNOWN',
      ...(options.details ? { details: options.details } : {}),
    },
  };
}

/** A Google API error as a Response (JSON, UTF-8, like googleapis.com). */
export function googleError(code: number, options: GoogleErrorOptions = {}): Response {
  return Response.json(googleErrorBody(code, options), {
    status: code,
    headers: { 'content-type': 'application/json; charset=UTF-8', ...options.headers },
  });
}

export const notFound = (): Response => googleError(404);

export const invalidArgument = (message: string): Response =>
  googleError(400, { message, reason: 'invalidArgument', status: 'INVALID_ARGUMENT' });

export const failedPrecondition = (message: string): Response =>
  googleError(400, { message, reason: 'failedPrecondition', status: 'FAILED_PRECONDITION' });

const REALM = 'Bearer realm="https://accounts.google.com/"';

const CREDENTIAL_HINT =
  'Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

/** 401 as googleapis.com answers an expired or revoked access token, or none at all. */
export function unauthenticated(tokenPresent: boolean): Response {
  return googleError(401, {
    message: tokenPresent
      ? `Request had invalid authentication credentials. ${CREDENTIAL_HINT}`
      : `Request is missing required authentication credential. ${CREDENTIAL_HINT}`,
    errorMessage: tokenPresent ? 'Invalid Credentials' : 'Login Required.',
    reason: tokenPresent ? 'authError' : 'required',
    location: 'Authorization',
    locationType: 'header',
    status: 'UNAUTHENTICATED',
    // Google omits error="invalid_token" when no credential was sent at all (RFC 6750 §3.1).
    headers: { 'www-authenticate': tokenPresent ? `${REALM}, error="invalid_token"` : REALM },
  });
}

/** 403 ACCESS_TOKEN_SCOPE_INSUFFICIENT, with the ErrorInfo detail Google attaches. */
export function insufficientScope(service: string, method: string, acceptedScopes: string[]): Response {
  return googleError(403, {
    message: 'Request had insufficient authentication scopes.',
    errorMessage: 'Insufficient Permission',
    reason: 'insufficientPermissions',
    status: 'PERMISSION_DENIED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
        domain: 'googleapis.com',
        metadata: { service, method },
      },
    ],
    headers: {
      'www-authenticate': `${REALM}, error="insufficient_scope", scope="${acceptedScopes.join(' ')}"`,
    },
  });
}

/** The OAuth endpoints (token, revoke) use RFC 6749 bodies instead. */
export function oauthError(status: number, error: string, description: string): Response {
  return Response.json(
    { error, error_description: description },
    { status, headers: { 'cache-control': 'no-store', pragma: 'no-cache' } },
  );
}
