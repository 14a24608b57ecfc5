import type { MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { AppError, type ErrorCode, ProviderError } from '../errors.js';
import { ToolExecutionError } from '../execution/tool-execution-error.js';
import type { Logger } from '../logger.js';
import { ErrorInfoSchema } from './gen/scalekit/v1/errdetails/errdetails_pb.js';

/**
 * Our error table in gRPC codes, the one place it is written. Typed by every ErrorCode, so a
 * new code does not compile until it has a gRPC code here.
 *
 * Never UNAUTHENTICATED for anything but our own management token: the Python SDK answers
 * that code by fetching a new token and calling again, without bound. And a NOT_FOUND is what
 * both SDKs' get-or-create waits for before it creates an account.
 */
export const GRPC_CODES: Record<ErrorCode, Code> = {
  invalid_json: Code.InvalidArgument,
  invalid_request: Code.InvalidArgument,
  validation_failed: Code.InvalidArgument,
  payload_too_large: Code.ResourceExhausted,
  unsupported_media_type: Code.InvalidArgument,
  unauthenticated: Code.Unauthenticated,
  forbidden: Code.PermissionDenied,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  auth_link_invalid: Code.NotFound,
  auth_link_expired: Code.FailedPrecondition,
  auth_link_used: Code.FailedPrecondition,
  auth_link_revoked: Code.FailedPrecondition,
  auth_state_invalid: Code.InvalidArgument,
  auth_state_reused: Code.FailedPrecondition,
  auth_state_expired: Code.FailedPrecondition,
  consent_denied: Code.FailedPrecondition,
  identity_mismatch: Code.FailedPrecondition,
  user_verification_invalid: Code.NotFound,
  user_verification_used: Code.NotFound,
  user_verification_expired: Code.NotFound,
  user_verification_mismatch: Code.PermissionDenied,
  account_not_connected: Code.FailedPrecondition,
  account_expired: Code.FailedPrecondition,
  account_disconnected: Code.FailedPrecondition,
  insufficient_scope: Code.PermissionDenied,
  tool_not_found: Code.NotFound,
  tool_input_invalid: Code.InvalidArgument,
  // The provider refused our grant: the account's problem, not the caller's credentials (see above).
  provider_unauthorized: Code.FailedPrecondition,
  provider_forbidden: Code.PermissionDenied,
  provider_not_found: Code.NotFound,
  provider_bad_request: Code.InvalidArgument,
  provider_rate_limited: Code.ResourceExhausted,
  provider_unavailable: Code.Unavailable,
  provider_timeout: Code.DeadlineExceeded,
  provider_error: Code.Internal,
  provider_host_not_allowed: Code.Internal,
  rate_limited: Code.ResourceExhausted,
  // Not RESOURCE_EXHAUSTED: the Node SDK names that a rate limit; the caller should ask for less.
  tool_result_too_large: Code.OutOfRange,
  cancelled: Code.Canceled,
  internal: Code.Internal,
};

/** The `error_code` of a failure at the provider: the SDKs raise their tool exceptions on it and never retry. */
export const TOOL_ERROR = 'TOOL_ERROR';

/**
 * A failed tool call is a TOOL_ERROR when it reached (or was on its way to) the provider, or
 * its result was refused; a validation, account or lookup failure keeps its own code, so an
 * unknown account is the SDK's not-found exception and not a tool exception.
 */
function isToolFailure(error: ToolExecutionError): boolean {
  return error.cause instanceof ProviderError || error.code === 'tool_result_too_large';
}

type ErrorInfoInit = MessageInitShape<typeof ErrorInfoSchema>;

function errorInfo(error: AppError): ErrorInfoInit {
  const info: ErrorInfoInit = { errorCode: error.code };
  const fields = error.details?.fields;
  if (Array.isArray(fields)) {
    info.validationErrorInfo = {
      fieldViolations: fields.map((f: { field?: unknown; problem?: unknown }) => ({
        field: String(f.field ?? ''),
        description: String(f.problem ?? ''),
        constraint: '',
      })),
    };
  }
  if (error instanceof ToolExecutionError) {
    if (isToolFailure(error)) info.errorCode = TOOL_ERROR;
    info.toolErrorInfo = {
      executionId: error.executionId,
      toolErrorMessage: error.message,
      toolErrorCode: error.code,
    };
  }
  return info;
}

/** A gRPC code's name as an error_code: NotFound → not_found. */
function codeName(code: Code): string {
  return (Code[code] ?? 'Unknown').replace(/(?<=[a-z])(?=[A-Z])/g, '_').toLowerCase();
}

/** What a method this server does not serve answers, with its ErrorInfo. */
export function unimplemented(message: string): ConnectError {
  return new ConnectError(message, Code.Unimplemented, undefined, [
    { desc: ErrorInfoSchema, value: { errorCode: codeName(Code.Unimplemented) } },
  ]);
}

/** A ConnectError for any AppError, always with an ErrorInfo (the Python SDK cannot read an error without one). */
export function appErrorToConnect(error: AppError): ConnectError {
  return new ConnectError(error.message, GRPC_CODES[error.code], undefined, [
    { desc: ErrorInfoSchema, value: errorInfo(error) },
  ]);
}

/**
 * The one translation of anything a handler throws. A ConnectError without details gets an
 * ErrorInfo; anything that is not an AppError is logged and answered as `internal`, without
 * its message.
 */
export function toConnectError(error: unknown, logger: Logger): ConnectError {
  if (error instanceof AppError) return appErrorToConnect(error);
  if (error instanceof ConnectError) {
    if (error.details.length) return error;
    return new ConnectError(error.rawMessage, error.code, error.metadata, [
      { desc: ErrorInfoSchema, value: { errorCode: codeName(error.code) } },
    ]);
  }
  logger.error({ err: error }, 'gRPC handler failed');
  return appErrorToConnect(new AppError('internal', 'the server failed unexpectedly'));
}
