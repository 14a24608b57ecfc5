import { ProviderError } from '../errors.js';

/**
 * The most read of one answer from an authorization server: a token endpoint's answer, a
 * userinfo document, an OpenID Connect discovery document or key set. Google's are a few KB
 * (an id_token is under 2 KB, its key set about 1 KB); 1 MiB leaves room for any provider
 * that sends more and still bounds what one sign-in or refresh can make this process hold.
 */
export const MAX_AUTH_ANSWER_BYTES = 1024 * 1024;

/** Thrown, or the body stream errored, when an answer passes the limit. */
export class AnswerTooLargeError extends ProviderError {
  constructor(readonly maxBytes: number) {
    super(
      'provider_error',
      `the authorization server's answer is larger than ${maxBytes} bytes, the most read of one`,
      {
        details: { max_answer_bytes: maxBytes },
      },
    );
    this.name = 'AnswerTooLargeError';
  }
}

/**
 * `fetch` whose answers are read at most `maxBytes` at a time: a declared Content-Length
 * over the limit rejects before the body is read (its stream cancelled, so the socket is let
 * go), and any other body is counted as it is read, decoded, and its stream errored with
 * AnswerTooLargeError once past the limit, so neither a large nor an endless answer, nor a
 * small compressed one that expands, is ever buffered whole. What reads the body (text(),
 * json(), a library such as oauth4webapi) rejects with that error, or one caused by it.
 */
export function boundedFetch(inner: typeof fetch, maxBytes: number): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new AnswerTooLargeError(maxBytes);
    }
    if (!response.body) return response;
    let received = 0;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          received += chunk.byteLength;
          // Erroring the transform cancels the source: the rest is never read.
          if (received > maxBytes) controller.error(new AnswerTooLargeError(maxBytes));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** The AnswerTooLargeError behind an error, where a library wrapped it as a cause. */
export function answerTooLarge(error: unknown): AnswerTooLargeError | undefined {
  for (let seen = error, depth = 0; seen instanceof Error && depth < 5; seen = seen.cause, depth++) {
    if (seen instanceof AnswerTooLargeError) return seen;
  }
  return undefined;
}
