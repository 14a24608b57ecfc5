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

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/**
 * One JSON log line as a person reads it in a terminal: `12:00:01 INFO  request method=GET …`.
 * A few lines of our own rather than pino-pretty and its dependencies; an error's stack is
 * printed below its line.
 */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, time, msg, err, ...rest } = entry;
  const clock = new Date(typeof time === 'number' ? time : Date.now()).toISOString().slice(11, 19);
  const fields = Object.entries(rest)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  const name = (LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5);
  const stack =
    err && typeof err === 'object' && 'stack' in err ? `\n${String((err as { stack: unknown }).stack)}` : '';
  return `${clock} ${name} ${msg ?? ''}${fields ? ` ${fields}` : ''}${stack}\n`;
}

/**
 * Logs go to `destination` when given (tests), else to stderr: JSON lines written
 * asynchronously (a request's access line then costs its formatting, not a blocking write),
 * or pretty lines when stderr is a terminal.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: undefined,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  if (destination) return pino(options, destination);
  if (process.stderr.isTTY) {
    return pino(options, { write: (line: string) => process.stderr.write(prettyLine(line)) });
  }
  return pino(options, pino.destination({ dest: 2, sync: false }));
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
