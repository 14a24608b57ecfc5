import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { CompactMessage } from './message-format.js';
import { apiFor, contextFor, type GmailHarness, runTool, startGmailHarness } from './test-harness.js';
import { fetchMails } from './tools/fetch-mails.js';
import { insertMessage } from './tools/insert-message.js';

/**
 * gmail_fetch_mails must read Google's real answers and the sandbox's the same way. The
 * fixtures are hand-written in the shape of Google's API reference (messages.list, and
 * messages.get in full format for a multipart/alternative mail and a mail with an
 * attachment); the .eml files are the same two mails as RFC 822 source for the sandbox.
 */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

let h: GmailHarness;
let closeRecorded: () => void;
let recordedUrl: string;

beforeAll(async () => {
  h = await startGmailHarness();
  const recorded = new Hono();
  const byId: Record<string, string> = {
    '18f3a1c2d4e5f601': fixture('message-alternative.json'),
    '18f3a1c2d4e5f602': fixture('message-attachment.json'),
  };
  recorded.get('/gmail/v1/users/me/messages', (c) =>
    c.body(fixture('messages-list.json'), 200, { 'content-type': 'application/json' }),
  );
  recorded.get('/gmail/v1/users/me/messages/:id', (c) => {
    const body = byId[c.req.param('id')];
    return body ? c.body(body, 200, { 'content-type': 'application/json' }) : c.json({ error: { code: 404 } }, 404);
  });
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve) => {
    const started = serve({ fetch: recorded.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({ server: started, port: info.port }),
    );
  });
  closeRecorded = () => server.close();
  recordedUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  closeRecorded?.();
  await h?.close();
});

// Ids, thread ids, label sets and attachment ids are minted by each mailbox; the content is what must match.
function comparable(message: CompactMessage) {
  const { id: _id, threadId: _threadId, labelIds: _labelIds, attachments, ...rest } = message;
  return { ...rest, attachments: attachments?.map(({ attachmentId: _attachmentId, ...attachment }) => attachment) };
}

test('gmail_fetch_mails gives the same messages from recorded Google answers and from the sandbox', async () => {
  for (const name of ['message-attachment.eml', 'message-alternative.eml']) {
    await h.run(insertMessage, {
      raw_message: fixture(name),
      label_ids: ['INBOX'],
      internal_date_source: 'dateHeader',
    });
  }
  const fromSandbox = await h.run<{ messages: CompactMessage[] }>(fetchMails, {
    query: 'from:example.org',
    max_results: 2,
  });
  const recordedCtx = contextFor(apiFor(recordedUrl, () => 'token'));
  const fromGoogle = (await runTool(fetchMails, { max_results: 2 }, recordedCtx)) as {
    messages: CompactMessage[];
    nextPageToken: string;
  };

  expect(fromGoogle.nextPageToken).toBe('09876543210');
  expect(fromGoogle.messages[0]).toMatchObject({
    id: '18f3a1c2d4e5f601',
    subject: 'Project kickoff',
    body: 'Hi John,\nKickoff is Thursday at 10.\nAna',
    date: '2026-11-17T09:00:00.000Z',
    attachments: [],
  });
  expect(fromGoogle.messages[1]?.attachments).toEqual([
    {
      filename: 'receipt-77.txt',
      mimeType: 'text/plain',
      size: 15,
      attachmentId: 'ANGjdJ8wXyZ-recorded-attachment-id',
    },
  ]);
  expect(fromSandbox.messages.map(comparable)).toEqual(fromGoogle.messages.map(comparable));
});
