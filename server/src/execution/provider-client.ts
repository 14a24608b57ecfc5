import type { Clock } from '../clock.js';
import { AppError, ProviderError } from '../errors.js';
import { providerServing } from '../providers/index.js';
import { failureForStatus } from '../providers/status-failures.js';
import type { ErrorClassifier, ProviderClient, ProviderFailure, ProviderRequest } from '../providers/types.js';
import type { ProviderResponse, ProviderTransport } from './provider-transport.js';

export interface ProviderClientOptions {
  fetch: ProviderTransport;
  /** Origins the provider declares; requests anywhere else are refused. */
  apiOrigins: string[];
  /**
   * How the provider reports failures: its definition's `errors` hook (undefined: by HTTP
   * status alone). When the option is left out, the catalog provider serving `apiOrigins`
   * decides, so a client built from origins alone reads errors as production does.
   */
  classifyError?: ErrorClassifier | undefined;
  /** When the connection targets the sandbox: its base URL replaces the declared origin. */
  sandboxBaseUrl?: string;
  /** Gives a valid access token; `forceRefresh` after an answer read as `provider_unauthorized` (a 401). */
  getAccessToken(options: { forceRefresh: boolean }): Promise<string>;
  timeoutMs: number;
  clock: Clock;
  /** Retries after a 429/5xx/network failure; the first attempt is not counted. */
  maxRetries?: number;
  /** Longest wait honoured from a Retry-After header. */
  maxRetryAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

const IDEMPOTENT = new Set(['GET', 'PUT', 'DELETE', 'HEAD']);
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Seconds or an HTTP date, as RFC 9110 allows; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The backstop behind `pathSegment`: a path the URL parser would change (a `.`/`..` segment,
 * also as `%2e`, or a backslash, which it reads as `/`) is refused instead of sent, so a
 * request never lands on a shorter path than the tool built.
 */
function climbsOrDropsSegments(url: string): boolean {
  // Every such segment follows a '/' as '.' or '%2e', or hides a tab or newline (which the URL
  // parser drops, so '/.\n.' is '/..'): most URLs have none of these, and are done here.
  if (!/\/\.|%2e|[\\\t\n\r]/i.test(url)) return false;
  const path = (/^[a-z][a-z\d+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(url)?.[1] ?? '').replace(/[\t\n\r]/g, '');
  if (path.includes('\\')) return true;
  return path.split('/').some((part) => {
    const plain = part.replace(/%2e/gi, '.');
    return plain === '.' || plain === '..';
  });
}

function buildUrl(request: ProviderRequest, apiOrigins: string[], sandboxBaseUrl: string | undefined): URL {
  let declared: URL;
  try {
    declared = new URL(request.url);
  } catch (cause) {
    throw new ProviderError('provider_host_not_allowed', 'the tool built an invalid provider URL', { cause });
  }
  if (!apiOrigins.includes(declared.origin)) {
    throw new ProviderError('provider_host_not_allowed', `the provider does not declare the host ${declared.host}`);
  }
  if (climbsOrDropsSegments(request.url)) {
    throw new AppError(
      'tool_input_invalid',
      'a value in the provider URL path is not a valid id (".", ".." or a backslash)',
    );
  }
  const url = sandboxBaseUrl ? new URL(`${sandboxBaseUrl.replace(/\/+$/, '')}${declared.pathname}`) : declared;
  url.search = declared.search;
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) url.searchParams.append(key, item);
    else url.searchParams.set(key, String(value));
  }
  return url;
}

async function readBody(response: ProviderResponse): Promise<unknown> {
  return parseBody(await response.text(), response);
}

/** The body as JSON when it reads as JSON, else the text; undefined when empty. */
function parseBody(text: string, response: ProviderResponse): unknown {
  if (!text) return undefined;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json') || /^[[{]/.test(text.trimStart())) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * One attempt's signal: aborted after `timeoutMs` (as a TimeoutError) or when the call's own
 * signal aborts. One controller, one timer and one listener, all released by `done()`:
 * AbortSignal.any() costs more per request and, on Node 20, keeps every derived signal
 * reachable from a long-lived parent until that parent is collected.
 *
 * A controller whose attempt ended without an abort goes back to `idle`, and the client's next
 * attempt reuses it: the attempt's answer is read by then, so neither undici nor fetch listens
 * to its signal any more, and making the signal was about a third of an attempt's cost outside
 * the request itself. An aborted one is never reused.
 */
function abortableAttempt(
  timeoutMs: number,
  parent: AbortSignal | undefined,
  idle: AbortController[],
): { signal: AbortSignal; done(): void } {
  if (parent?.aborted) {
    const controller = new AbortController();
    controller.abort(parent.reason);
    return { signal: controller.signal, done: () => undefined };
  }
  const controller = idle.pop() ?? new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`the provider did not answer within ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  const onParentAbort = () => controller.abort(parent?.reason);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
      if (!controller.signal.aborted) idle.push(controller);
    },
  };
}

/**
 * The HTTP edge of tool execution: declared hosts only, the user's token added here and
 * nowhere else, one refresh on 401, bounded retries with backoff on 429/5xx honouring
 * Retry-After, a timeout per attempt, and every answer read by the provider's `errors` hook
 * (a 200 may be a failure), else by its status, into a ProviderError code. A 401 and a 429
 * here mean what the reading says: `provider_unauthorized` and `provider_rate_limited`.
 */
export function createProviderClient(options: ProviderClientOptions): ProviderClient {
  const classify = classifierFor(options);
  const sleep = options.sleep ?? defaultSleep;
  const maxRetries = options.maxRetries ?? 2;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 10_000;
  /** Controllers of ended attempts, for the next ones (see abortableAttempt). */
  const idle: AbortController[] = [];

  return {
    async request<T>(request: ProviderRequest): Promise<T> {
      const { method, url, headers, body } = prepare(request, options);
      let refreshed = false;
      let retries = 0;
      for (;;) {
        const token = await options.getAccessToken({ forceRefresh: refreshed });
        const attempt = abortableAttempt(options.timeoutMs, options.signal, idle);
        let response: ProviderResponse;
        let answer: unknown;
        try {
          response = await send(options, { method, url, headers, body }, token, attempt.signal);
          // A success's body is the answer: one that times out or is cut off is no answer. A
          // failure's body only words its message, so the status alone reads it then.
          answer = response.ok ? await readBody(response) : await readBody(response).catch(() => undefined);
        } catch (cause) {
          attempt.done();
          // A coded failure of the transport (an answer over its size limit) is an answer read, not a missing one.
          const failure = cause instanceof ProviderError ? cause : noAnswer(cause, options);
          if (failure.code === 'provider_unavailable' && IDEMPOTENT.has(method) && retries < maxRetries) {
            await sleep(backoff(retries++));
            continue;
          }
          throw failure;
        }
        attempt.done();
        const mapped = classify({ status: response.status, body: answer });
        if (!mapped) return answer as T;

        if (mapped.code === 'provider_unauthorized' && !refreshed) {
          refreshed = true;
          continue;
        }
        const retryable =
          RETRYABLE_STATUSES.has(response.status) || mapped.code === 'provider_rate_limited'
            ? response.status === 429 ||
              response.status === 503 ||
              mapped.code === 'provider_rate_limited' ||
              IDEMPOTENT.has(method)
            : false;
        if (retryable && retries < maxRetries) {
          const retryAfter = parseRetryAfter(response.headers.get('retry-after'), options.clock.now());
          if (retryAfter === undefined || retryAfter <= maxRetryAfterMs) {
            await sleep(retryAfter ?? backoff(retries));
            retries++;
            continue;
          }
        }
        throw new ProviderError(mapped.code, mapped.message, {
          providerStatus: response.status,
          details: { provider_status: response.status, ...(retries > 0 ? { attempts: retries + 1 } : {}) },
        });
      }
    },
  };
}

/** The provider's `errors` hook, else the HTTP status alone, as the reader of its answers. */
function classifierFor(options: ProviderClientOptions): ErrorClassifier {
  const providerHook =
    'classifyError' in options
      ? options.classifyError
      : options.apiOrigins.map((origin) => providerServing(origin)).find(Boolean)?.errors;
  return (answer) => providerHook?.(answer) ?? failureForStatus(answer);
}

/** Method, checked URL, headers and serialized body of a request, before any token is added. */
function prepare(request: ProviderRequest, options: ProviderClientOptions) {
  const method = request.method ?? 'GET';
  const url = buildUrl(request, options.apiOrigins, options.sandboxBaseUrl);
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  let body: string | undefined;
  if (request.rawBody) {
    headers['content-type'] = request.rawBody.contentType;
    body = request.rawBody.data;
  } else if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.body);
  }
  return { method, url, headers, body };
}

/** One attempt of a prepared request, with the token added here and redirects refused. */
function send(
  options: ProviderClientOptions,
  prepared: ReturnType<typeof prepare>,
  token: string,
  signal: AbortSignal,
): Promise<ProviderResponse> {
  return options.fetch(prepared.url, {
    method: prepared.method,
    headers: { ...prepared.headers, authorization: `Bearer ${token}` },
    body: prepared.body,
    signal,
    redirect: 'error',
  });
}

/**
 * Why an attempt got no answer: the call's own signal aborted, because the caller's deadline
 * passed (`provider_timeout`) or the caller hung up or cancelled (`cancelled`: recorded in the
 * audit log and metrics, which would otherwise count a departed client as a slow provider), the
 * attempt timed out (`provider_timeout`), or the provider could not be reached
 * (`provider_unavailable`, the one a caller may retry).
 */
function noAnswer(cause: unknown, options: ProviderClientOptions): ProviderError {
  if (options.signal?.aborted) {
    return deadlinePassed(options.signal.reason)
      ? new ProviderError('provider_timeout', "the call's deadline passed before the provider answered", { cause })
      : new ProviderError('cancelled', 'the call was cancelled', { cause });
  }
  const timedOut = cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
  return timedOut
    ? new ProviderError('provider_timeout', `the provider did not answer within ${options.timeoutMs} ms`, { cause })
    : new ProviderError('provider_unavailable', 'the provider could not be reached', { cause });
}

/** gRPC's DEADLINE_EXCEEDED, the code of the ConnectError a gRPC call's signal aborts with at its deadline. */
const GRPC_DEADLINE_EXCEEDED = 4;

/**
 * Whether a call's abort reason is its deadline, not a hang-up: a TimeoutError (what
 * AbortSignal.timeout() aborts with) or a gRPC deadline (connect's and grpc/unary.ts's signals
 * abort with a ConnectError of DEADLINE_EXCEEDED; read by shape, as this layer knows no gRPC).
 */
function deadlinePassed(reason: unknown): boolean {
  if (!(reason instanceof Error)) return false;
  if (reason.name === 'TimeoutError') return true;
  return reason.name === 'ConnectError' && (reason as { code?: unknown }).code === GRPC_DEADLINE_EXCEEDED;
}

/** A provider's answer as it came, for a caller that passes it on (see proxy.ts). */
export interface ForwardedAnswer {
  status: number;
  headers: { get(name: string): string | null };
  /** The body as text; at most what the provider sent (the caller bounds it). */
  body: string;
  /** The answer read as a failure (the provider's `errors` hook, else its status); undefined for a success. */
  failure: ProviderFailure | undefined;
}

/**
 * The provider edge for a request its caller built (the SDKs' `actions.request`): the same
 * declared origins, sandbox rewrite, path checks, token added here and nowhere else, one
 * refresh on 401 and timeout as a tool's requests, but the answer comes back as it is,
 * failures included, and nothing else is retried: the caller sees the provider's status and
 * Retry-After and decides. Only a request that got no answer throws (a ProviderError).
 */
export async function forwardToProvider(
  options: ProviderClientOptions,
  request: ProviderRequest,
): Promise<ForwardedAnswer> {
  const classify = classifierFor(options);
  const { method, url, headers, body } = prepare(request, options);
  const idle: AbortController[] = [];
  let refreshed = false;
  for (;;) {
    const token = await options.getAccessToken({ forceRefresh: refreshed });
    const attempt = abortableAttempt(options.timeoutMs, options.signal, idle);
    let text: string;
    let response: ProviderResponse;
    try {
      response = await send(options, { method, url, headers, body }, token, attempt.signal);
      text = await response.text();
    } catch (cause) {
      throw cause instanceof ProviderError ? cause : noAnswer(cause, options);
    } finally {
      attempt.done();
    }
    const failure = classify({ status: response.status, body: parseBody(text, response) });
    if (failure?.code === 'provider_unauthorized' && !refreshed) {
      refreshed = true;
      continue;
    }
    return { status: response.status, headers: response.headers, body: text, failure };
  }
}

/** Exponential backoff with full jitter: 200 ms, 400 ms, 800 ms … capped at 5 s. */
function backoff(attempt: number): number {
  const ceiling = Math.min(5_000, 200 * 2 ** attempt);
  return Math.floor(ceiling / 2 + Math.random() * (ceiling / 2));
}
