import { describe, expect, test } from 'vitest';
import { cpuTimeMs } from '../../../test/support/cpu-time.js';
import type { GmailMessage } from './gmail-types.js';
import { compactMessage, encodeBase64Url, MAX_FORMATTED_SOURCE_CHARS, normalizePlainText } from './message-format.js';

const MB = 1_000_000;
/** CPU time, generous: the per-line pass takes a few ms; the old `/[ \t]+$/gm` took 14 s on 60,000 spaces. */
const BOUND_MS = 1_000;

function singlePart(mimeType: string, text: string): GmailMessage {
  return {
    id: 'm1',
    threadId: 't1',
    payload: {
      mimeType,
      headers: [{ name: 'Content-Type', value: `${mimeType}; charset=UTF-8` }],
      body: { size: text.length, data: encodeBase64Url(text) },
    },
  };
}

describe('normalizePlainText', () => {
  test('cuts trailing spaces and tabs per line, LF line ends, one blank line at most', () => {
    expect(normalizePlainText('Hi \t\r\n\r\n\r\n\r\nthere  \n  indented stays\u200b')).toBe(
      'Hi\n\nthere\n  indented stays',
    );
  });

  test('1 MB of spaces and tabs before newlines takes linear time', async () => {
    const text = `Hi\n${' \t'.repeat(MB / 2)}\nbye`;
    const { value: normalized, ms } = await cpuTimeMs(() => normalizePlainText(text));
    expect(ms).toBeLessThan(BOUND_MS);
    expect(normalized).toBe('Hi\n\nbye');
  });

  test('1 MB of spaces and tabs before text on the same line takes linear time', async () => {
    const text = `Hi\n${' \t'.repeat(MB / 2)}x\nbye`;
    const { value: normalized, ms } = await cpuTimeMs(() => normalizePlainText(text));
    expect(ms).toBeLessThan(BOUND_MS);
    expect(normalized.endsWith('x\nbye')).toBe(true);
  });
});

describe('compactMessage bounds what it formats', () => {
  test(`formats at most ${MAX_FORMATTED_SOURCE_CHARS} characters of a body and says what it left out`, async () => {
    const html = `<p>start</p>${'<p>filler text</p>'.repeat(100_000)}`;
    const message = await compactMessage(singlePart('text/html', html), { format: 'full', maxBodyChars: 50_000 });
    expect(message.bodyTruncated).toBe(true);
    expect(message.body?.startsWith('start\n\nfiller text')).toBe(true);
    expect(message.body).toMatch(/more characters not shown\]\n/);
    expect(
      message.body?.endsWith(
        `[… ${html.length - MAX_FORMATTED_SOURCE_CHARS} more characters of the message source not read]`,
      ),
    ).toBe(true);
  });

  test('a body under the limit is formatted whole, with no note', async () => {
    const message = await compactMessage(singlePart('text/plain', 'Hello   \nworld'), {
      format: 'full',
      maxBodyChars: 8_000,
    });
    expect(message.body).toBe('Hello\nworld');
    expect(message).not.toHaveProperty('bodyTruncated');
  });

  test('hostile plain text and HTML bodies of 1 MB each compact in linear time', async () => {
    for (const [mimeType, text] of [
      ['text/plain', `${' '.repeat(MB)}x`],
      ['text/html', '<!--'.repeat(MB / 4)],
      ['text/html', '<a'.repeat(MB / 2)],
    ] as const) {
      const { value: message, ms } = await cpuTimeMs(() =>
        compactMessage(singlePart(mimeType, text), { format: 'full', maxBodyChars: 8_000 }),
      );
      expect(ms).toBeLessThan(BOUND_MS);
      expect(message.body?.length).toBeLessThanOrEqual(8_100);
    }
  });
});
