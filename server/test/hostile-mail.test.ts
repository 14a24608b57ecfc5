import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RAW_TOO_COSTLY_NOTE } from '../src/providers/gmail/message-format.js';
import { RAW_PARSE_TIME_LIMIT_MS } from '../src/providers/gmail/raw-mail-parser.js';
import { postgresAvailableFor, WITHOUT_POSTGRES } from './support/database.js';
import { CLI, type ServerProcess, startServerProcess } from './support/process.js';
import { replicaEnv, type Stack, startStack } from './support/stack.js';

/**
 * Issue 13, finding 2: anyone can mail a user a body that the gateway's formatting chews on
 * for a minute, and while it does, nothing else (not even /healthz) is answered. Here the
 * user's agent reads such mails with the real gmail_fetch_mails through a Switchboard on a
 * socket, and a second client keeps asking /healthz meanwhile.
 */

/**
 * What /healthz may take while a hostile mail is read. Parsed on the event loop, the messages
 * here froze it for 6 s and more; the bound leaves room for a loaded machine (163 ms was seen
 * with a mutation run beside the suite), not for a freeze.
 */
const HEALTHZ_BOUND_MS = 500;

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
// 500,000 short lines (1.5 MB) took postal-mime 6 s on the event loop when read in format raw.
const SHORT_LINES = `Hello from the lines\r\n${'a\r\n'.repeat(500_000)}`;

interface RawRead {
  id: string;
  subject?: string;
  body: string;
  bodyTruncated?: true;
  note?: string;
  raw: string;
}

/** Asks `url`/healthz over and over until `stop` settles; returns each answer's time in ms. */
async function pollHealthz(url: string, stop: Promise<unknown>): Promise<number[]> {
  let stopped = false;
  void stop.finally(() => {
    stopped = true;
  });
  const times: number[] = [];
  while (!stopped) {
    const started = performance.now();
    const answer = await fetch(`${url}/healthz`);
    await answer.text();
    times.push(performance.now() - started);
    expect(answer.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return times;
}

/** Seeds the hostile and a friendly message; returns the hostile one's id. */
async function seedLines(stack: Stack): Promise<string> {
  const insert = (raw: string) =>
    stack.api<{ data: { id: string } }>('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_insert_message',
      connector: 'MY_GMAIL',
      identifier: 'john-doe',
      params: { raw_message: raw, label_ids: ['INBOX'] },
    });
  const hostile = await insert(rfc822('hostile lines', 'text/plain', SHORT_LINES));
  expect(hostile.status).toBe(200);
  expect((await insert(rfc822('friendly lines', 'text/plain', 'Hello from a friend\r\n'))).status).toBe(200);
  return hostile.body.data.id;
}

/** A raw read of the hostile message: its source and a note, no decoded body. */
function expectSourceOnly(message: RawRead | undefined, id: string) {
  expect(message).toMatchObject({ id, body: '', bodyTruncated: true, note: RAW_TOO_COSTLY_NOTE });
  expect(Buffer.from(message?.raw ?? '', 'base64url').toString()).toContain('Subject: hostile lines');
}

/** The parse's time, plus reading the message and passing 1.5 MB of source around. */
const RAW_READ_BOUND_MS = RAW_PARSE_TIME_LIMIT_MS + 1_500;

describe('a hostile mail does not freeze the gateway', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Room in an execute_tool body for the 1.5 MB message gmail_insert_message seeds.
    stack = await startStack({ listen: true, env: { SWITCHBOARD_MAX_BODY_BYTES: '4000000' } });
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

  it(`gmail_fetch_mails reads 250 KB of unclosed comments and 60,000 spaces while /healthz answers within ${HEALTHZ_BOUND_MS} ms`, async () => {
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
      const [answer, polled] = await Promise.all([read, pollHealthz(stack.url, read)]);
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

  it(`a raw read of 500,000 short lines answers the source with a note within the parse time limit, while /healthz answers within ${HEALTHZ_BOUND_MS} ms`, async () => {
    const id = await seedLines(stack);
    const times: number[] = [];
    /** Runs a raw read with /healthz polled meanwhile; returns its messages and how long it took. */
    async function readRaw(tool: string, params: Record<string, unknown>) {
      const started = performance.now();
      const reading = execute(tool, { ...params, format: 'raw' });
      const [answer, polled] = await Promise.all([reading, pollHealthz(stack.url, reading)]);
      times.push(...polled);
      expect(answer.status).toBe(200);
      return { messages: answer.body.data.messages as RawRead[], ms: performance.now() - started };
    }

    const listed = await readRaw('gmail_fetch_mails', { query: 'subject:lines', max_results: 10 });
    expect(listed.ms).toBeLessThan(RAW_READ_BOUND_MS);
    expect(listed.messages).toHaveLength(2);
    expectSourceOnly(
      listed.messages.find((message) => message.id === id),
      id,
    );
    // The costly parse ended its thread; the friendly mail, parsed on a new one, is decoded as ever.
    expect(listed.messages.find((message) => message.id !== id)).toMatchObject({
      subject: 'friendly lines',
      body: 'Hello from a friend',
    });

    const one = await readRaw('gmail_get_message_by_id', { message_id: id });
    expect(one.ms).toBeLessThan(RAW_READ_BOUND_MS);
    expectSourceOnly(one.messages[0], id);
    expect(Math.max(...times)).toBeLessThan(HEALTHZ_BOUND_MS);
  });
});

// The parser's thread loads postal-mime by a URL resolved at run time: this checks it does from
// the bundle (dist/cli.js and its chunks) too. A second process on the same database needs Postgres.
const withPostgres = describe.skipIf(!postgresAvailableFor('hostile-mail.test.ts (built server)'));

withPostgres(`the built server (dist/cli.js) decodes raw mail off its event loop${WITHOUT_POSTGRES}`, () => {
  let stack: Stack;
  let built: ServerProcess | undefined;
  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`build the server first (npm run build): ${CLI} is missing`);
    stack = await startStack({ listen: true, engine: 'postgres', env: { SWITCHBOARD_MAX_BODY_BYTES: '4000000' } });
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
    built = await startServerProcess(replicaEnv(stack));
  });
  afterAll(async () => {
    built?.child.kill('SIGKILL');
    await stack?.close();
  });

  async function readRaw(id: string): Promise<RawRead | undefined> {
    const response = await fetch(`${built?.url}/api/v1/execute_tool`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        tool_name: 'gmail_get_message_by_id',
        connector: 'MY_GMAIL',
        identifier: 'john-doe',
        params: { message_id: id, format: 'raw' },
      }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: { messages: RawRead[] } }).data.messages[0];
  }

  it(`decodes a friendly raw mail, and answers 500,000 short lines with the source and a note while /healthz answers within ${HEALTHZ_BOUND_MS} ms`, async () => {
    const id = await seedLines(stack);
    const listed = await stack.api<{ data: { messages: RawRead[] } }>('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_fetch_mails',
      connector: 'MY_GMAIL',
      identifier: 'john-doe',
      params: { query: 'subject:friendly', format: 'minimal' },
    });
    const friendlyId = listed.body.data.messages[0]?.id ?? '';
    expect(await readRaw(friendlyId)).toMatchObject({ subject: 'friendly lines', body: 'Hello from a friend' });

    const started = performance.now();
    const reading = readRaw(id);
    const [hostile, times] = await Promise.all([reading, pollHealthz(built?.url ?? '', reading)]);
    expect(performance.now() - started).toBeLessThan(RAW_READ_BOUND_MS);
    expectSourceOnly(hostile, id);
    expect(Math.max(...times)).toBeLessThan(HEALTHZ_BOUND_MS);
  });
});
