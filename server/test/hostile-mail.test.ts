import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/stack.js';

/**
 * Issue 13, finding 2: anyone can mail a user a body that the gateway's formatting chews on
 * for a minute, and while it does, nothing else (not even /healthz) is answered. Here the
 * user's agent reads such mails with the real gmail_fetch_mails through a Switchboard on a
 * socket, and a second client keeps asking /healthz meanwhile.
 */

const HEALTHZ_BOUND_MS = 100;

function rfc822(subject: string, contentType: string, body: string): string {
  return [
    'From: stranger@elsewhere.example',
    'To: john.doe@example.com',
    `Subject: ${subject}`,
    'Date: Mon, 09 Nov 2026 08:00:00 +0000',
    'MIME-Version: 1.0',
    `Content-Type: ${contentType}; charset=UTF-8`,
    '',
    body,
  ].join('\r\n');
}

// 250 KB of comments that never close took the old formatter 60 s. The lone `>` at the end
// is for the sandbox, whose own snippet code would otherwise chew on it while storing.
const UNCLOSED_COMMENTS = `<p>Hello from the comments</p>${'<!--'.repeat(62_500)} >`;
// 60,000 spaces followed by more text on the line took the old plain-text normalizer 14 s.
const SPACES = `Hello from the spaces\n${' '.repeat(60_000)}end of the line\n`;

describe('a hostile mail does not freeze the gateway', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ listen: true });
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
  });
  afterAll(() => stack?.close());

  const execute = (tool: string, params: Record<string, unknown>) =>
    stack.api<{ data: Record<string, unknown> }>('POST', '/api/v1/execute_tool', {
      tool_name: tool,
      connector: 'MY_GMAIL',
      identifier: 'john-doe',
      params,
    });

  /** Asks /healthz over and over until `stop` settles; returns each answer's time in ms. */
  async function pollHealthz(stop: Promise<unknown>): Promise<number[]> {
    let stopped = false;
    void stop.finally(() => {
      stopped = true;
    });
    const times: number[] = [];
    while (!stopped) {
      const started = performance.now();
      const answer = await fetch(`${stack.url}/healthz`);
      await answer.text();
      times.push(performance.now() - started);
      expect(answer.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return times;
  }

  it('gmail_fetch_mails reads 250 KB of unclosed comments and 60,000 spaces while /healthz answers within 100 ms', async () => {
    for (const raw of [
      rfc822('hostile comments', 'text/html', UNCLOSED_COMMENTS),
      rfc822('hostile spaces', 'text/plain', SPACES),
    ]) {
      const inserted = await execute('gmail_insert_message', { raw_message: raw, label_ids: ['INBOX', 'UNREAD'] });
      expect(inserted.status).toBe(200);
    }

    const times: number[] = [];
    for (let round = 0; round < 3; round++) {
      const read = execute('gmail_fetch_mails', { query: 'subject:hostile', max_results: 10 });
      const [answer, polled] = await Promise.all([read, pollHealthz(read)]);
      times.push(...polled);
      expect(answer.status).toBe(200);
      const messages = answer.body.data.messages as { subject: string; body: string; bodyTruncated?: true }[];
      const bySubject = Object.fromEntries(messages.map((message) => [message.subject, message]));
      expect(bySubject['hostile comments']?.body).toBe('Hello from the comments');
      expect(bySubject['hostile spaces']?.body).toMatch(/^Hello from the spaces\n {1000}/);
      expect(bySubject['hostile spaces']?.bodyTruncated).toBe(true);
    }
    expect(times.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...times)).toBeLessThan(HEALTHZ_BOUND_MS);
  });
});
