import type { Context } from 'hono';
import type { AppEnv } from '../context.js';
import type { ToolExecutionError } from '../execution/tool-execution-error.js';
import { retryAfterSeconds } from '../rate-limits/rate-limiter.js';

/** A failed tool or proxy call as REST answers it: the error body with the execution id of its log row. */
export function toolFailureResponse(c: Context<AppEnv>, error: ToolExecutionError): Response {
  const retryAfter = retryAfterSeconds(error);
  return c.json(
    { ...error.toJSON(), execution_id: error.executionId, request_id: c.get('requestId') },
    error.status as 400,
    retryAfter ? { 'retry-after': retryAfter } : {},
  );
}
