import { z } from 'zod';
import type { ProviderAnswer, ProviderFailure, ProviderFailureCode } from './types.js';

/**
 * The default reading of a provider's answer, for a provider without an `errors` hook: the
 * HTTP status alone decides (2xx succeeds), and the message comes from an RFC 6749 style
 * `{error, error_description}` body when there is one.
 */
export function failureForStatus(answer: ProviderAnswer): ProviderFailure | undefined {
  const code = codeForStatus(answer.status);
  return code && { code, message: rfcErrorMessage(answer.body) ?? fallbackMessage(answer.status) };
}

/** The code an HTTP status means on its own; undefined for a success. */
export function codeForStatus(status: number): ProviderFailureCode | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status === 401) return 'provider_unauthorized';
  if (status === 403) return 'provider_forbidden';
  if (status === 404 || status === 410) return 'provider_not_found';
  if (status === 429) return 'provider_rate_limited';
  if (status >= 500) return 'provider_unavailable';
  if (status >= 400) return 'provider_bad_request';
  return 'provider_error';
}

export function fallbackMessage(status: number): string {
  return `the provider answered HTTP ${status}`;
}

const rfcErrorBody = z.object({ error: z.string(), error_description: z.string().optional() });

function rfcErrorMessage(body: unknown): string | undefined {
  const parsed = rfcErrorBody.safeParse(body);
  return parsed.success ? (parsed.data.error_description ?? parsed.data.error) : undefined;
}
