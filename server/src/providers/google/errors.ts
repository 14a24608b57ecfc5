import { z } from 'zod';
import { codeForStatus, fallbackMessage } from '../status-failures.js';
import type { ProviderAnswer, ProviderFailure } from '../types.js';

// Google answers some quota errors with 403 and these reasons instead of 429.
// https://developers.google.com/workspace/gmail/api/guides/handle-errors
const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);
const SCOPE_REASONS = new Set(['insufficientPermissions', 'ACCESS_TOKEN_SCOPE_INSUFFICIENT']);
// Gmail answers a metadata-only grant asking for bodies or search with a plain `forbidden`
// whose message is the only hint that a broader scope would do.
const METADATA_SCOPE_MESSAGE = /^Metadata scope (doesn't allow|does not support)/;

const reasons = z.array(z.object({ reason: z.string().optional() })).optional();

/** Google's error body: `{error: {code, message, status, errors[], details[]}}`, or OAuth's `{error, error_description}`. */
const googleErrorBody = z.object({
  error: z
    .union([
      z.string(),
      z.object({ message: z.string().optional(), status: z.string().optional(), errors: reasons, details: reasons }),
    ])
    .optional(),
  error_description: z.string().optional(),
});

/**
 * Google's APIs fail with an HTTP error status; the reasons in the body tell a missing scope
 * and a quota from any other 403. https://cloud.google.com/apis/design/errors
 */
export function classifyGoogleError(answer: ProviderAnswer): ProviderFailure | undefined {
  const { status } = answer;
  if (status >= 200 && status < 300) return undefined;
  const parsed = googleErrorBody.safeParse(answer.body);
  const body = parsed.success ? parsed.data : undefined;
  const why = reasonsOf(body);
  const message = messageOf(body) ?? fallbackMessage(status);
  if (status === 403 && why.some((r) => SCOPE_REASONS.has(r))) return { code: 'insufficient_scope', message };
  if (status === 403 && METADATA_SCOPE_MESSAGE.test(message)) return { code: 'insufficient_scope', message };
  if (status === 403 && why.some((r) => RATE_LIMIT_REASONS.has(r))) return { code: 'provider_rate_limited', message };
  return { code: codeForStatus(status) ?? 'provider_error', message };
}

type GoogleErrorBody = z.output<typeof googleErrorBody>;

function reasonsOf(body: GoogleErrorBody | undefined): string[] {
  if (!body || typeof body.error !== 'object') return [];
  return [
    ...(body.error.errors ?? []).map((e) => e.reason ?? ''),
    ...(body.error.details ?? []).map((d) => d.reason ?? ''),
    body.error.status ?? '',
  ].filter(Boolean);
}

function messageOf(body: GoogleErrorBody | undefined): string | undefined {
  if (!body) return undefined;
  if (typeof body.error === 'object' && body.error.message) return body.error.message;
  if (typeof body.error === 'string') return body.error_description ?? body.error;
  return undefined;
}
