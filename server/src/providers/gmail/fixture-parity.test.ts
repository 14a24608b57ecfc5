import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { inProcessFetch } from '../../../test/support/in-process.js';
import {
  ALL_GMAIL_SCOPES,
  runTool,
  startToolHarness,
  type ToolHarness,
  toolContext,
} from '../../../test/support/tool-harness.js';
import type { CompactMessage } from './message-format.js';
import { gmail } from './provider.js';
import { fetchMails } from './tools/fetch-mails.js';
import { insertMessage } from './tools/insert-message.js';

/**
 * gmail_fetch_mails must read Google's real answers and the sandbox's the same way. The
 * fixtures are hand-written in the shape of Google's API reference (messages.list, and
 * messages.get in full format for a multipart/alternative mail and a mail with an
 * attachment); the .eml files are the same two mails as RFC 822 source for the sandbox.
 */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** Recorded Google answers, served in process at this made-up origin. */
const RECORDED_URL = 'http://recorded-google.test';
let h: ToolHarness;
let recordedFetch: typeof fetch;

beforeAll(async () => {
  h = await startToolHarness({ provider: gmail, scopes: ALL_GMAIL_SCOPES });
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
  recordedFetch = inProcessFetch({ [RECORDED_URL]: recorded.fetch });
});

afterAll(async () => {
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
  const recordedCtx = toolContext({
    apiOrigins: gmail.apiOrigins,
    baseUrl: RECORDED_URL,
    accessToken: 'token',
    fetch: recordedFetch,
  });
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
