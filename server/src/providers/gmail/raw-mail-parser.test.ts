import { readFileSync } from 'node:fs';
import PostalMime from 'postal-mime';
import { afterEach, describe, expect, test } from 'vitest';
import { AppError } from '../../errors.js';
import { type ParsedRawMail, RawMailParser, type RawMailParserLimits } from './raw-mail-parser.js';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
/** 500,000 lines of "a": about 6 s of postal-mime, 200 MB of its heap. */
const SHORT_LINES = new TextEncoder().encode(`Subject: lines\r\n\r\n${'a\r\n'.repeat(500_000)}`);
const HELLO = () => new TextEncoder().encode('From: Ann <ann@example.org>\r\nSubject: hello\r\n\r\nHi there\r\n');

let parser: RawMailParser | undefined;
afterEach(async () => {
  await parser?.close();
  parser = undefined;
});

function start(limits: Partial<RawMailParserLimits> = {}): RawMailParser {
  parser = new RawMailParser({ timeLimitMs: 2_000, maxWorkers: 2, maxWaiting: 16, ...limits });
  return parser;
}

/** What the main thread's postal-mime makes of a source, in the shape the worker answers. */
async function parsedInline(bytes: Uint8Array): Promise<ParsedRawMail> {
  const email = await PostalMime.parse(bytes, { attachmentEncoding: 'arraybuffer' });
  return {
    headers: email.headers.map((header) => ({ name: header.originalKey, value: header.value })),
    from: email.from,
    to: email.to,
    cc: email.cc,
    subject: email.subject,
    text: email.text,
    html: email.html,
    attachments: email.attachments.map((attachment) => ({
      filename: attachment.filename ?? '',
      mimeType: attachment.mimeType,
      size: (attachment.content as ArrayBuffer).byteLength,
    })),
  };
}

describe('RawMailParser', () => {
  test('parses on a worker thread what postal-mime parses on the main thread, and takes the bytes', async () => {
    const raw = start();
    for (const name of ['message-alternative.eml', 'message-attachment.eml']) {
      const bytes = fixture(name);
      const expected = await parsedInline(bytes.slice());
      expect(await raw.parse(bytes)).toEqual({ mail: expected });
      // Transferred to the worker, not copied.
      expect(bytes.byteLength).toBe(0);
    }
  });

  test('answers tooCostly once a parse passes its time limit, and parses the next message on a new thread', async () => {
    const raw = start({ timeLimitMs: 300 });
    const started = performance.now();
    expect(await raw.parse(SHORT_LINES.slice())).toEqual({ tooCostly: true });
    expect(performance.now() - started).toBeLessThan(1_300);
    expect(await raw.parse(HELLO())).toMatchObject({ mail: { subject: 'hello', text: 'Hi there\n' } });
  });

  test('answers tooCostly when a parse outgrows its thread heap', async () => {
    // Time enough for the heap bound (64 MB, about a second in) to end the thread first.
    const raw = start({ timeLimitMs: 20_000 });
    const started = performance.now();
    expect(await raw.parse(SHORT_LINES.slice())).toEqual({ tooCostly: true });
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(await raw.parse(HELLO())).toMatchObject({ mail: { subject: 'hello' } });
  }, 30_000);

  test('refuses a parse past the waiting bound with rate_limited, and serves those it queued', async () => {
    const raw = start({ timeLimitMs: 300, maxWorkers: 1, maxWaiting: 2 });
    const running = raw.parse(SHORT_LINES.slice());
    const queued = [raw.parse(HELLO()), raw.parse(HELLO())];
    const refused = await raw.parse(HELLO()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'rate_limited', details: { retry_after_seconds: 1 } });
    expect(await running).toEqual({ tooCostly: true });
    for (const parse of await Promise.all(queued)) expect(parse).toMatchObject({ mail: { subject: 'hello' } });
  });
});
