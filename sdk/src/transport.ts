import { errorFromResponse, SwitchboardError } from './errors.js';

/** Time as a dependency, so tests can move it. Milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

export interface TransportOptions {
  /** The server's base URL, e.g. `http://localhost:3000`. */
  url: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  clock?: Clock;
  /** How the SDK waits between retries; tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** Retries after a network error or a 503, with exponential backoff. Default 2. */
  maxRetries?: number;
  /** First backoff delay; doubles on each retry, with jitter. Default 250 ms. */
  retryDelayMs?: number;
  /** Per-request time limit. Default 120 s (tool calls can be slow at the provider). */
  timeoutMs?: number;
}

export type QueryValue = string | number | boolean | Date | string[] | undefined;

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /**
   * Safe to send twice. Non-idempotent requests are retried after a network error only when
   * the connection was refused (so the server never saw them); a 503 means it did not run them.
   */
  idempotent?: boolean;
}

interface CachedToken {
  value: string;
  /** Renew at or after this instant (before the real expiry, to absorb clock skew and latency). */
  renewAt: number;
}

/** A 429 is retried once, and only when Retry-After asks for a wait no longer than this. */
const MAX_RETRY_AFTER_MS = 60_000;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function refusedBeforeSending(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return cause?.code === 'ECONNREFUSED';
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.set(key, value instanceof Date ? value.toISOString() : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * HTTP to the Switchboard API: the management token (fetched, cached, renewed before it
 * expires), JSON in and out, errors as SwitchboardError, and the few retries that are safe.
 */
export class Transport {
  readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxRetries: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;
  private cached: CachedToken | undefined;
  private pending: Promise<CachedToken> | undefined;

  constructor(private readonly options: TransportOptions) {
    if (!options.url) throw new TypeError('Switchboard: `url` is required, e.g. http://localhost:3000');
    if (!options.clientId || !options.clientSecret) {
      throw new TypeError(
        'Switchboard: `clientId` and `clientSecret` are required (see `npx switchboard clients create`)',
      );
    }
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.clock = options.clock ?? { now: () => Date.now() };
    this.sleep = options.sleep ?? defaultSleep;
    this.maxRetries = options.maxRetries ?? 2;
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.timeoutMs = options.timeoutMs ?? 120_000;
  }

  /** Calls the API with the management token and returns the parsed JSON answer. */
  async request<T>(spec: RequestSpec): Promise<T> {
    let renewed = false;
    for (;;) {
      const token = await this.accessToken();
      try {
        return await this.send<T>(spec, token);
      } catch (error) {
        // A token the server no longer accepts (restart with new keys, our clock behind): renew once.
        if (error instanceof SwitchboardError && error.status === 401 && error.code === 'unauthenticated' && !renewed) {
          renewed = true;
          if (this.cached?.value === token) this.cached = undefined;
          continue;
        }
        throw error;
      }
    }
  }

  /** The current management access token, fetched or renewed when needed. Concurrent callers share one fetch. */
  async accessToken(): Promise<string> {
    if (this.cached && this.clock.now() < this.cached.renewAt) return this.cached.value;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    this.cached = await this.pending;
    return this.cached.value;
  }

  private async fetchToken(): Promise<CachedToken> {
    const requestedAt = this.clock.now();
    const body = await this.send<{ access_token?: unknown; expires_in?: unknown }>(
      {
        method: 'POST',
        path: '/oauth/token',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: this.options.clientId,
          client_secret: this.options.clientSecret,
        }),
        idempotent: true,
      },
      undefined,
    );
    if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw new SwitchboardError({
        code: 'invalid_response',
        status: 200,
        message: 'the token endpoint answered without access_token/expires_in',
      });
    }
    const lifetimeMs = body.expires_in * 1000;
    // Renew a minute early, or at half-life for very short tokens.
    return { value: body.access_token, renewAt: requestedAt + lifetimeMs - Math.min(60_000, lifetimeMs / 2) };
  }

  /** One logical request with its retries; `token` undefined means no Authorization header. */
  private async send<T>(spec: RequestSpec, token: string | undefined): Promise<T> {
    const url = `${this.baseUrl}${spec.path}${encodeQuery(spec.query)}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | URLSearchParams | undefined;
    if (spec.body instanceof URLSearchParams) body = spec.body;
    else if (spec.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.body);
    }

    let retries = 0;
    let waitedForRateLimit = false;
    for (;;) {
      let response: Response;
      try {
        response = await this.fetch(url, {
          method: spec.method,
          headers,
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        if (retries < this.maxRetries && (spec.idempotent || refusedBeforeSending(error))) {
          await this.sleep(this.backoff(retries++));
          continue;
        }
        const reason =
          error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
        throw new SwitchboardError({
          code: 'network_error',
          status: 0,
          message: `could not reach Switchboard at ${this.baseUrl} (${reason})`,
          cause: error,
        });
      }

      const text = await response.text();
      if (response.ok) {
        try {
          return (text ? JSON.parse(text) : {}) as T;
        } catch (cause) {
          throw new SwitchboardError({
            code: 'invalid_response',
            status: response.status,
            message: `${spec.method} ${spec.path} answered with something that is not JSON`,
            requestId: response.headers.get('x-request-id') ?? undefined,
            cause,
          });
        }
      }

      const error = errorFromResponse(response.status, response.headers, text);
      // A tool that ran and failed is never retried here: it may have had effects; the caller decides.
      if (error.executionId) throw error;
      const retryAfter = retryAfterMs(response.headers.get('retry-after'), this.clock.now());
      if (response.status === 503 && retries < this.maxRetries) {
        await this.sleep(Math.min(retryAfter ?? this.backoff(retries), MAX_RETRY_AFTER_MS));
        retries++;
        continue;
      }
      if (
        response.status === 429 &&
        !waitedForRateLimit &&
        retryAfter !== undefined &&
        retryAfter <= MAX_RETRY_AFTER_MS
      ) {
        waitedForRateLimit = true;
        await this.sleep(retryAfter);
        continue;
      }
      throw error;
    }
  }

  private backoff(retry: number): number {
    const base = this.retryDelayMs * 2 ** retry;
    return base / 2 + Math.random() * (base / 2);
  }
}
