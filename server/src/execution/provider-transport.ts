import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';

/** The part of a fetch Response that provider calls read. */
export interface ProviderResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface ProviderRequestInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  redirect: 'error';
}

/**
 * How provider API requests go out. `fetch` itself fits (tests pass one that injects faults);
 * the server uses `createProviderTransport()`, which does the same on a fraction of the CPU.
 */
export type ProviderTransport = (url: URL, init: ProviderRequestInit) => Promise<ProviderResponse>;

/** Idle keep-alive sockets to a provider are closed after this long. */
const KEEP_ALIVE_MS = 30_000;

/**
 * Provider calls on undici's `request` API with its own connection pool. fetch() builds a
 * WHATWG Request, a Response and their streams for every call; on this path that cost more
 * CPU than everything else a tool call does (measured in bench/: about 0.28 ms of client
 * CPU per call with fetch against 0.05 ms here). Behaves like fetch with `redirect: 'error'`:
 * a redirect is a network error, and an aborted signal rejects with the signal's reason.
 */
export function createProviderTransport(
  options: {
    /** Certificates trusted besides the system's (the development certificate, when the sandbox is this server). */
    extraCa?: string[];
  } = {},
): ProviderTransport & { close(): Promise<void> } {
  const dispatcher = new Agent({
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MS,
    ...(options.extraCa ? { connect: { ca: [...rootCertificates, ...options.extraCa] } } : {}),
  });
  const send = async (url: URL, init: ProviderRequestInit): Promise<ProviderResponse> => {
    const answer = await request(url, {
      method: init.method as 'GET',
      headers: init.headers,
      body: init.body,
      signal: init.signal,
      dispatcher,
    });
    const status = answer.statusCode;
    if (status >= 300 && status < 400) {
      await answer.body.dump();
      throw new TypeError(`the provider answered with a redirect (HTTP ${status})`);
    }
    const headers = answer.headers;
    return {
      status,
      ok: status >= 200 && status < 300,
      headers: {
        get(name: string): string | null {
          const value = headers[name.toLowerCase()];
          if (value === undefined) return null;
          return Array.isArray(value) ? value.join(', ') : value;
        },
      },
      text: () => answer.body.text(),
    };
  };
  return Object.assign(send, { close: () => dispatcher.close() });
}
