import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher, request } from 'undici';
import { ProviderError } from '../errors.js';

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
 * The most of one provider answer read. Gmail's largest message is 35 MB (36,700,160 bytes,
 * its upload limit); read with `format=raw` it comes back base64url-encoded in JSON, 4/3 of
 * that (46.7 MiB), so 48 MiB carries any message or attachment Gmail can hold. Past it an
 * answer is cut off as it streams in, never buffered whole.
 */
export const MAX_ANSWER_BYTES = 48 * 1024 * 1024;

function answerTooLarge(maxBytes: number): ProviderError {
  return new ProviderError(
    'tool_result_too_large',
    `the provider's answer is larger than ${maxBytes} bytes, the most this server reads of one answer; ask for less`,
    { details: { max_answer_bytes: maxBytes } },
  );
}

const utf8 = new TextDecoder();

/**
 * The body as text, at most `maxBytes` of it. A declared Content-Length over the limit is
 * refused unread; one within it is read whole on undici's own path (undici ends a body at its
 * declared length). A chunked body is counted as it arrives and destroyed once past the limit.
 */
async function readText(answer: Dispatcher.ResponseData, maxBytes: number): Promise<string> {
  const declared = answer.headers['content-length'];
  const length = typeof declared === 'string' ? Number(declared) : Number.NaN;
  if (length > maxBytes) {
    answer.body.destroy();
    throw answerTooLarge(maxBytes);
  }
  if (Number.isSafeInteger(length) && length >= 0) return answer.body.text();
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of answer.body as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) {
      answer.body.destroy();
      throw answerTooLarge(maxBytes);
    }
    chunks.push(chunk);
  }
  return utf8.decode(Buffer.concat(chunks, received));
}

/**
 * Provider calls on undici's `request` API with its own connection pool. fetch() builds a
 * WHATWG Request, a Response and their streams for every call; on this path that cost more
 * CPU than everything else a tool call does (measured in bench/: about 0.28 ms of client
 * CPU per call with fetch against 0.05 ms here). Behaves like fetch with `redirect: 'error'`:
 * a redirect is a network error, and an aborted signal rejects with the signal's reason;
 * unlike fetch, `text()` reads at most `maxAnswerBytes` and rejects with a ProviderError
 * (`tool_result_too_large`) past it.
 */
export function createProviderTransport(
  options: {
    /** Certificates trusted besides the system's (the development certificate, when the sandbox is this server). */
    extraCa?: string[];
    /** The most of one answer read; default MAX_ANSWER_BYTES. */
    maxAnswerBytes?: number;
  } = {},
): ProviderTransport & { close(): Promise<void> } {
  const dispatcher = new Agent({
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MS,
    ...(options.extraCa ? { connect: { ca: [...rootCertificates, ...options.extraCa] } } : {}),
  });
  const maxAnswerBytes = options.maxAnswerBytes ?? MAX_ANSWER_BYTES;
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
      text: () => readText(answer, maxAnswerBytes),
    };
  };
  return Object.assign(send, { close: () => dispatcher.close() });
}
