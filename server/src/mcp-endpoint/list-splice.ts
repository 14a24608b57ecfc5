import { randomUUID } from 'node:crypto';
import type { Tool } from '@modelcontextprotocol/server';
import type { ListEra, ToolListing } from '../mcp/tool-surface.js';

/**
 * A stand-in tool list the SDK serializes instead of the real one. Its name is a
 * per-process random value, so it cannot occur in anything a client sent.
 */
const PLACEHOLDER: Tool[] = [{ name: `switchboard-tools-${randomUUID()}`, inputSchema: { type: 'object' } }];
const PLACEHOLDER_JSON = JSON.stringify(PLACEHOLDER);

function occursOnce(text: string, part: string): number {
  const at = text.indexOf(part);
  return at >= 0 && text.indexOf(part, at + part.length) < 0 ? at : -1;
}

/** The SDK's answer with another body; its own Content-Length, if any, no longer applies. */
function withBody(response: Response, body: string | Uint8Array<ArrayBuffer>): Response {
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * Serves `tools/list` without serializing a large list on every request. A config of 25
 * connections lists 86 tools, about 100 KB of JSON, and writing that object out again
 * for every request was most of the request's cost. The SDK still answers every request
 * (routing, version and header checks, envelope, ids, errors): the first time a list is
 * served in an era, the SDK serializes it for real and the text it produced is kept, but
 * only if it is exactly our own serialization of the list; from then on the handler
 * gives the SDK a one-tool placeholder and the endpoint puts the kept text in its place.
 * Anything unexpected (a placeholder that did not come out exactly once) makes the
 * endpoint answer the request again without the splice. The kept text lives with the list
 * in the tool surface's bounded cache (ToolListing.served); this object lives for one request.
 */
export class ListSplice {
  private pending: Buffer | undefined;
  private learning: { listing: ToolListing; era: ListEra } | undefined;

  /** The result the tools/list handler returns for `listing`. */
  result(listing: ToolListing, era: ListEra): { tools: Tool[] } {
    const known = listing.served(era);
    if (known) {
      this.pending = known;
      return { tools: PLACEHOLDER };
    }
    if (known === undefined) this.learning = { listing, era };
    return { tools: listing.tools };
  }

  /**
   * The response to send: the SDK's answer with the kept list spliced in. Undefined means
   * the placeholder did not come out as expected and the request must be served again
   * by a handler without a splice.
   */
  async finish(response: Response): Promise<Response | undefined> {
    if (this.pending !== undefined) {
      const text = await response.text();
      const at = occursOnce(text, PLACEHOLDER_JSON);
      if (at < 0) return undefined;
      const body = Buffer.concat([
        Buffer.from(text.slice(0, at)),
        this.pending,
        Buffer.from(text.slice(at + PLACEHOLDER_JSON.length)),
      ]);
      // One buffer, written with the headers in a single write; measured cheaper than streaming
      // the three parts, which costs a ReadableStream and a separate write for the headers.
      const spliced = withBody(response, body as Uint8Array<ArrayBuffer>);
      spliced.headers.set('content-length', String(body.byteLength));
      return spliced;
    }
    if (this.learning && response.status === 200) {
      const { listing, era } = this.learning;
      const text = await response.text();
      const json = JSON.stringify(listing.tools);
      // Only our own serialization, found once, is kept; otherwise this list is never spliced in this era.
      listing.keepServed(era, occursOnce(text, json) >= 0 ? Buffer.from(json) : false);
      return withBody(response, text);
    }
    return response;
  }
}

/** True for a single JSON-RPC `tools/list` request body (not a batch or notification). */
export function isToolsListRequest(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const message = body as { method?: unknown; id?: unknown };
  return message.method === 'tools/list' && (typeof message.id === 'string' || typeof message.id === 'number');
}
