import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors.js';
import { readBodyText } from './body.js';

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request('http://localhost/x', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);

async function refusal(request: Request, maxBytes: number): Promise<string | undefined> {
  try {
    await readBodyText(request, maxBytes);
    return undefined;
  } catch (error) {
    if (!isAppError(error)) throw error;
    return error.code;
  }
}

/** A body sent in pieces with no declared length, as a chunked upload arrives. */
function chunked(pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
}

describe('readBodyText', () => {
  it('reads a body with a declared length as UTF-8 text', async () => {
    const text = '{"name":"Zoë ✓ 😀"}';
    const request = post(text, { 'content-length': String(Buffer.byteLength(text)) });
    expect(await readBodyText(request, 1024)).toBe(text);
  });

  it('counts UTF-8 bytes, not characters, against the limit', async () => {
    // 40 characters, 80 bytes: within a 100-byte limit, over a 60-byte one.
    const text = 'é'.repeat(40);
    expect(await readBodyText(post(text, { 'content-length': '80' }), 100)).toBe(text);
    expect(await refusal(post(text, { 'content-length': '50' }), 60)).toBe('payload_too_large');
    // Four bytes for one surrogate pair: 10 emoji are 20 UTF-16 units but 40 bytes.
    const emoji = '😀'.repeat(10);
    expect(await refusal(post(emoji, { 'content-length': '20' }), 30)).toBe('payload_too_large');
    expect(await readBodyText(post(emoji, { 'content-length': '40' }), 40)).toBe(emoji);
  });

  it('refuses a declared length over the limit before reading', async () => {
    expect(await refusal(post('{}', { 'content-length': '5000' }), 1024)).toBe('payload_too_large');
  });

  it('refuses a body longer than the length it declared', async () => {
    expect(await refusal(post('a'.repeat(300), { 'content-length': '10' }), 100)).toBe('payload_too_large');
  });

  it('cuts a body with no declared length at the limit, and reads one within it', async () => {
    expect(await refusal(post(chunked(['a'.repeat(60), 'b'.repeat(60)])), 100)).toBe('payload_too_large');
    expect(await readBodyText(post(chunked(['{"a":', '"ü"}'])), 100)).toBe('{"a":"ü"}');
  });
});
