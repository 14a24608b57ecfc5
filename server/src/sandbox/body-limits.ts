import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { pathBelowMount } from './base-url.js';
import { googleError } from './google-errors.js';

/** Gmail's largest message: 35 MB, the upload limit of messages.send, insert, import and drafts. */
const GMAIL_MAX_MESSAGE_BYTES = 36_700_160;
/**
 * A Gmail request: the largest message as base64url in a JSON `raw` (4/3 of it, what the
 * Gmail tools send), with room for the rest of the JSON or a multipart upload's envelope.
 */
export const GMAIL_MAX_BODY_BYTES = Math.ceil(GMAIL_MAX_MESSAGE_BYTES / 3) * 4 + 65_536;
/** A Calendar request: an event with its description and attendees is a few kilobytes. */
export const CALENDAR_MAX_BODY_BYTES = 1_048_576;
/** OAuth and the rest: a form of a few fields, the largest a client assertion or a PKCE verifier. */
export const OAUTH_MAX_BODY_BYTES = 65_536;

function maxBodyBytesFor(path: string): number | undefined {
  if (path.startsWith('/gmail/v1/') || path.startsWith('/upload/gmail/v1/')) return GMAIL_MAX_BODY_BYTES;
  if (path.startsWith('/calendar/v3/')) return CALENDAR_MAX_BODY_BYTES;
  // The control API checks who calls before it reads, then keeps its own limit (control.ts).
  if (path === '/__sandbox' || path.startsWith('/__sandbox/')) return undefined;
  return OAUTH_MAX_BODY_BYTES;
}

/**
 * The sandbox's request bodies, each at most its API's limit: a declared Content-Length over
 * it is refused before anything is read, a chunked body as soon as it passes it (hono's
 * bodyLimit holds at most the limit). Runs before any route, so before any authentication:
 * what an anonymous caller can make the sandbox hold is the limit of the path it calls.
 */
export function sandboxBodyLimits(): MiddlewareHandler {
  const limits = new Map(
    [GMAIL_MAX_BODY_BYTES, CALENDAR_MAX_BODY_BYTES, OAUTH_MAX_BODY_BYTES].map((maxSize) => [
      maxSize,
      bodyLimit({
        maxSize,
        onError: () =>
          googleError(413, {
            message: `Request payload size exceeds the limit: ${maxSize} bytes.`,
            reason: 'badRequest',
            status: 'INVALID_ARGUMENT',
          }),
      }),
    ]),
  );
  return (c, next) => {
    const maxBytes = maxBodyBytesFor(pathBelowMount(c));
    const limit = maxBytes === undefined ? undefined : limits.get(maxBytes);
    return limit ? limit(c, next) : next();
  };
}
