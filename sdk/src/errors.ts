/** What the server sends back when a call fails: `{error: {code, message, details?}, request_id, execution_id?}`. */
export interface ErrorBody {
  error?: { code?: string; message?: string; details?: Record<string, unknown> } | string;
  /** OAuth token endpoint errors (RFC 6749 §5.2) use this instead of `error.message`. */
  error_description?: string;
  request_id?: string;
  execution_id?: string;
}

export interface SwitchboardErrorInit {
  code: string;
  status: number;
  message: string;
  requestId?: string;
  toolErrorCode?: string;
  executionId?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * The one error the SDK throws. `code` is the server's closed error code (`not_found`,
 * `validation_failed`, `account_not_connected`, …), or `network_error` / `invalid_response`
 * when no usable answer came back. A failed tool run also carries `toolErrorCode` and
 * `executionId`, which finds its row in the tool call logs.
 */
export class SwitchboardError extends Error {
  /** The server's error code, e.g. `not_found`. */
  readonly code: string;
  /** The HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** The server's request id (body `request_id` or header `x-request-id`), to quote in bug reports. */
  readonly requestId: string | undefined;
  /** Set when a tool ran and failed: the tool's error code (e.g. `account_expired`, `provider_rate_limited`). */
  readonly toolErrorCode: string | undefined;
  /** Set when a tool ran and failed: the id of that execution in the tool call logs. */
  readonly executionId: string | undefined;
  /** Extra facts from the server, e.g. `fields` of a validation failure or `authentication_link`. */
  readonly details: Record<string, unknown> | undefined;

  constructor(init: SwitchboardErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'SwitchboardError';
    this.code = init.code;
    this.status = init.status;
    this.requestId = init.requestId;
    this.toolErrorCode = init.toolErrorCode;
    this.executionId = init.executionId;
    this.details = init.details;
  }

  /** The link that (re)connects the user's account, when the server offered one with this error. */
  get authenticationLink(): string | undefined {
    const link = this.details?.authentication_link;
    return typeof link === 'string' ? link : undefined;
  }
}

/** Builds the SwitchboardError for a failed HTTP answer from its status, headers and body text. */
export function errorFromResponse(status: number, headers: Headers, text: string): SwitchboardError {
  let body: ErrorBody = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object') body = parsed as ErrorBody;
  } catch {
    // Not JSON (a proxy's HTML page, say): keep the status and a short excerpt.
  }
  const requestId = body.request_id ?? headers.get('x-request-id') ?? undefined;
  const executionId = body.execution_id;
  let code = `http_${status}`;
  let message = text ? `HTTP ${status}: ${text.slice(0, 200)}` : `HTTP ${status}`;
  let details: Record<string, unknown> | undefined;
  if (typeof body.error === 'string') {
    code = body.error;
    message = body.error_description ?? body.error;
  } else if (body.error && typeof body.error === 'object') {
    code = body.error.code ?? code;
    message = body.error.message ?? message;
    details = body.error.details;
  }
  return new SwitchboardError({
    code,
    status,
    message,
    requestId,
    details,
    executionId,
    toolErrorCode: executionId ? code : undefined,
  });
}
