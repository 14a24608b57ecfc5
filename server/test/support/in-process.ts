import type { WebHandler } from './loopback.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * A `fetch` that hands requests for the given origins straight to their handlers (no socket),
 * and everything else to `fallback`. It does what an HTTP client would on the way: sets Host,
 * follows redirects unless told `redirect: 'manual'`, and gives up when the signal aborts.
 */
export function inProcessFetch(origins: Record<string, WebHandler>, fallback: typeof fetch = fetch): typeof fetch {
  const send = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const handler = origins[url.origin];
    if (!handler) return fallback(request);
    if (!request.headers.has('host')) request.headers.set('host', url.host);
    const { signal } = request;
    signal.throwIfAborted();
    let abort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      abort = () => reject(signal.reason);
      signal.addEventListener('abort', abort, { once: true });
    });
    try {
      return await Promise.race([Promise.resolve(handler(request)), aborted]);
    } finally {
      if (abort) signal.removeEventListener('abort', abort);
    }
  };

  return async (input, init) => {
    let request = new Request(input, init);
    for (let hops = 0; ; hops++) {
      const response = await send(request);
      const location = response.headers.get('location');
      if (request.redirect !== 'follow' || !REDIRECTS.has(response.status) || !location) return response;
      if (hops === 20) throw new TypeError('fetch failed: too many redirects');
      const keepsBody = response.status === 307 || response.status === 308;
      request = new Request(new URL(location, request.url), {
        method: keepsBody ? request.method : 'GET',
        headers: keepsBody ? request.headers : withoutBodyHeaders(request.headers),
        body: keepsBody ? request.body : undefined,
        signal: request.signal,
        ...(keepsBody && request.body ? { duplex: 'half' } : {}),
      } as RequestInit);
    }
  };
}

function withoutBodyHeaders(headers: Headers): Headers {
  const copy = new Headers(headers);
  for (const name of ['content-type', 'content-length', 'host']) copy.delete(name);
  return copy;
}
