import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear. Secrets should never reach a log call in the
 * first place; this is the second line of defence.
 */
const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.client_secret',
  '*.code',
  '*.code_verifier',
  '*.password',
  '*.secret',
  '*.token',
  'access_token',
  'refresh_token',
  'client_secret',
  'token',
  'secret',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    destination ?? process.stderr,
  );
}

/**
 * Removes query parameters that may carry secrets from a URL before it is logged
 * (OAuth `code`, `state`, tokens) and drops the secret segment of capability URLs.
 */
export function redactUrl(url: string): string {
  const parsed = new URL(url, 'http://x');
  for (const key of [...parsed.searchParams.keys()]) {
    if (/code|state|token|secret|key|password/i.test(key)) parsed.searchParams.set(key, '[redacted]');
  }
  const path = parsed.pathname
    .replace(/^(\/mcp\/i\/)[^/]+/, '$1[redacted]')
    .replace(/^(\/connect\/)[^/]+/, '$1[redacted]');
  return `${path}${parsed.search.replaceAll('%5Bredacted%5D', '[redacted]')}`;
}
