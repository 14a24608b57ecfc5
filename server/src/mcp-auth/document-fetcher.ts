import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isLoopbackHost, isLoopbackIp, isPublicAddress } from './addresses.js';

/** Fetches a JSON document named by a client (its Client ID Metadata Document). */
export interface DocumentFetcher {
  fetchJson(url: string): Promise<unknown>;
}

export class DocumentFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentFetchError';
  }
}

export interface SafeFetchOptions {
  /** The whole exchange (DNS, connect, headers, body) must finish within this. */
  timeoutMs: number;
  maxBytes: number;
  /** Tests only: http and loopback addresses are allowed (never private networks). */
  allowLoopback: boolean;
}

/**
 * A fetcher that a client-chosen URL cannot turn against the network Switchboard sits in
 * (SSRF): https only; every address the name resolves to must be public, and the connection
 * goes to an address that was checked (the lookup itself is replaced, so a second answer of
 * the DNS cannot swap in another one); no redirects; the answer is cut at `maxBytes` and
 * `timeoutMs`. Node's http client is used because fetch cannot pin the resolved address.
 */
export class SafeDocumentFetcher implements DocumentFetcher {
  constructor(private readonly options: SafeFetchOptions) {}

  private allowed(address: string): boolean {
    return isPublicAddress(address) || (this.options.allowLoopback && isLoopbackIp(address));
  }

  private readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (error, found: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = found.find((entry) => !this.allowed(entry.address));
      if (!found.length || refused) {
        const problem = new DocumentFetchError(
          `${hostname} resolves to ${refused?.address ?? 'nothing'}, which is not a public address`,
        );
        return callback(problem as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, found);
      const first = found[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };

  fetchJson(target: string): Promise<unknown> {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return Promise.reject(new DocumentFetchError('not a URL'));
    }
    const loopbackHttp = this.options.allowLoopback && url.protocol === 'http:' && isLoopbackHost(url.hostname);
    if (url.protocol !== 'https:' && !loopbackHttp) return Promise.reject(new DocumentFetchError('only https URLs'));
    if (url.username || url.password) return Promise.reject(new DocumentFetchError('no credentials in the URL'));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // An IP literal is never looked up, so it is judged here.
    if (/^[\d.]+$|:/.test(host) && !this.allowed(host)) {
      return Promise.reject(new DocumentFetchError(`${host} is not a public address`));
    }
    const { timeoutMs, maxBytes } = this.options;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, value?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.destroy();
        if (error) reject(error);
        else resolve(value);
      };
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send(
        url,
        {
          method: 'GET',
          headers: { accept: 'application/json', 'user-agent': 'Switchboard (client metadata fetch)' },
          lookup: this.lookup,
          agent: false,
        },
        (response: IncomingMessage) => {
          if (response.statusCode !== 200) {
            return finish(new DocumentFetchError(`the document answered HTTP ${response.statusCode}`));
          }
          const declared = Number(response.headers['content-length'] ?? '0');
          if (declared > maxBytes)
            return finish(new DocumentFetchError(`the document is larger than ${maxBytes} bytes`));
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) return finish(new DocumentFetchError(`the document is larger than ${maxBytes} bytes`));
            chunks.push(chunk);
          });
          response.on('end', () => {
            try {
              finish(undefined, JSON.parse(Buffer.concat(chunks).toString('utf8')));
            } catch {
              finish(new DocumentFetchError('the document is not JSON'));
            }
          });
          response.on('error', (error) =>
            finish(new DocumentFetchError(`reading the document failed: ${error.message}`)),
          );
        },
      );
      const timer = setTimeout(
        () => finish(new DocumentFetchError(`the document did not arrive within ${timeoutMs} ms`)),
        timeoutMs,
      );
      request.on('error', (error) =>
        finish(
          error instanceof DocumentFetchError
            ? error
            : new DocumentFetchError(`fetching the document failed: ${error.message}`),
        ),
      );
      request.end();
    });
  }
}
