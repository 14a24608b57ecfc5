import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ALL_GMAIL_SCOPES,
  startToolHarness,
  type ToolHarness,
  toolContext,
} from '../../../../test/support/tool-harness.js';
import { ProviderError } from '../../../errors.js';
import type { CompactMessage } from '../message-format.js';
import { gmail } from '../provider.js';
import { SCOPE } from '../scopes.js';
import { fetchMails } from './fetch-mails.js';
import { getAttachmentById } from './get-attachment-by-id.js';
import { insertMessage } from './insert-message.js';
import { trashMessage } from './trash-message.js';

interface FetchResult {
  messages: CompactMessage[];
  nextPageToken?: string;
  resultSizeEstimate: number;
  truncated?: true;
  omittedMessageIds?: string[];
  note?: string;
}

let h: ToolHarness;

function rfc822(headers: Record<string, string>, body: string): string {
  return `${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n')}\r\n\r\n${body}`;
}

async function insert(raw: string, labels = ['INBOX', 'UNREAD']): Promise<string> {
  const inserted = await h.run<{ id: string }>(insertMessage, {
    raw_message: raw,
    label_ids: labels,
    internal_date_source: 'dateHeader',
  });
  return inserted.id;
}

async function fetchOne(query: string, extra: Record<string, unknown> = {}): Promise<CompactMessage> {
  const result = await h.run<FetchResult>(fetchMails, { query, max_results: 1, ...extra });
  const [message] = result.messages;
  if (!message) throw new Error(`no message for ${query}`);
  return message;
}

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

beforeAll(async () => {
  h = await startToolHarness({ provider: gmail, scopes: ALL_GMAIL_SCOPES });
});
afterAll(async () => {
  await h?.close();
});

describe('gmail_fetch_mails', () => {
  test('returns the newest inbox mail in the compact shape, without html by default', async () => {
    const result = await h.run<FetchResult>(fetchMails, { max_results: 3 });
    expect(result.messages).toHaveLength(3);
    expect(result.resultSizeEstimate).toBeGreaterThanOrEqual(3);
    expect(result.nextPageToken).toBeTruthy();
    const dates = result.messages.map((message) => Number(message.internalDate));
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
    for (const message of result.messages) {
      expect(Object.keys(message)).toEqual(
        expect.arrayContaining([
          'id',
          'threadId',
          'labelIds',
          'snippet',
          'internalDate',
          'date',
          'from',
          'to',
          'subject',
          'body',
          'attachments',
        ]),
      );
      expect(message).not.toHaveProperty('html');
      expect(message).not.toHaveProperty('raw');
      expect(message.date).toBe(new Date(Number(message.internalDate)).toISOString());
      expect(message.body?.length).toBeGreaterThan(0);
    }
  });

  test('a search query finds the invoice and lists its PDF attachment without inlining it', async () => {
    const message = await fetchOne('from:billing@acme-corp.example has:attachment');
    expect(message.subject).toBe('Your invoice INV-2041');
    expect(message.from).toBe('Acme Billing <billing@acme-corp.example>');
    expect(message.body).toContain('INV-2041 for $1,280.00');
    expect(message.attachments).toEqual([
      {
        filename: 'INV-2041.pdf',
        mimeType: 'application/pdf',
        size: expect.any(Number),
        attachmentId: expect.any(String),
      },
    ]);
    expect(JSON.stringify(message)).not.toContain('JVBER'); // no base64 PDF in the answer

    const attachment = await h.run<{ data: string; mimeType: string; filename: string }>(getAttachmentById, {
      message_id: message.id,
      attachment_id: message.attachments?.[0]?.attachmentId,
    });
    expect(attachment.mimeType).toBe('application/pdf');
    expect(attachment.filename).toBe('INV-2041.pdf');
    expect(Buffer.from(attachment.data, 'base64url').toString('latin1')).toMatch(/^%PDF-1\.4/);
  });

  test('label_ids keeps only messages carrying every label', async () => {
    const result = await h.run<FetchResult>(fetchMails, { label_ids: ['INBOX', 'UNREAD'], max_results: 50 });
    expect(result.messages.length).toBeGreaterThan(0);
    for (const message of result.messages)
      expect(message.labelIds).toEqual(expect.arrayContaining(['INBOX', 'UNREAD']));
  });

  test('page_token walks the next page without repeating messages', async () => {
    const first = await h.run<FetchResult>(fetchMails, { max_results: 2 });
    const second = await h.run<FetchResult>(fetchMails, { max_results: 2, page_token: first.nextPageToken });
    expect(second.messages).toHaveLength(2);
    const ids = [...first.messages, ...second.messages].map((message) => message.id);
    expect(new Set(ids).size).toBe(4);
  });

  test('include_spam_trash brings back trashed mail that is hidden otherwise', async () => {
    const id = await insert(
      rfc822(
        {
          From: 'x@spam.example',
          To: 'john.doe@example.com',
          Subject: 'Trash me zq9',
          Date: 'Mon, 02 Nov 2026 10:00:00 +0000',
        },
        'bye',
      ),
    );
    await h.run(trashMessage, { message_id: id });
    const hidden = await h.run<FetchResult>(fetchMails, { query: 'subject:zq9' });
    expect(hidden.messages).toEqual([]);
    expect(hidden.resultSizeEstimate).toBe(0);
    const shown = await h.run<FetchResult>(fetchMails, { query: 'subject:zq9', include_spam_trash: true });
    expect(shown.messages.map((message) => message.id)).toEqual([id]);
    expect(shown.messages[0]?.labelIds).toContain('TRASH');
  });

  test('format metadata returns headers without body; minimal returns ids, labels and snippet only', async () => {
    const metadata = await fetchOne('from:billing@acme-corp.example', { format: 'metadata' });
    expect(metadata.subject).toBe('Your invoice INV-2041');
    expect(metadata).not.toHaveProperty('body');
    expect(metadata).not.toHaveProperty('attachments');
    const minimal = await fetchOne('from:billing@acme-corp.example', { format: 'minimal' });
    expect(Object.keys(minimal).sort()).toEqual(['date', 'id', 'internalDate', 'labelIds', 'snippet', 'threadId']);
  });

  test('HTML-only mail becomes readable text; format full_html adds the html itself', async () => {
    const html =
      '<html><head><style>p{color:red}</style></head><body><h1>Weekly&nbsp;report</h1><p>Sales are <b>up</b> 12%.</p><ul><li>North</li><li>South</li></ul><p>See <a href="https://dash.example/r/7">the dashboard</a>.</p></body></html>';
    await insert(
      rfc822(
        {
          From: 'reports@corp.example',
          To: 'john.doe@example.com',
          Subject: 'Weekly report hx7',
          Date: 'Tue, 03 Nov 2026 10:00:00 +0000',
          'MIME-Version': '1.0',
          'Content-Type': 'text/html; charset=UTF-8',
        },
        html,
      ),
    );
    const plain = await fetchOne('subject:hx7');
    expect(plain.body).toBe(
      'Weekly report\n\nSales are up 12%.\n\n- North\n- South\n\nSee the dashboard (https://dash.example/r/7).',
    );
    expect(plain).not.toHaveProperty('html');
    const withHtml = await fetchOne('subject:hx7', { format: 'full_html' });
    expect(withHtml.html).toContain('<b>up</b>');
    expect(withHtml.body).toBe(plain.body);
  });

  test('multipart/alternative prefers the text part; encoded headers and Latin-1 bodies are decoded', async () => {
    const raw = [
      'From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <jm@example.de>',
      'To: john.doe@example.com',
      'Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_M=FCnchen?= kq4',
      'Date: Wed, 04 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=ISO-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Sch=F6ne Gr=FC=DFe!',
      '--b1',
      'Content-Type: text/html; charset=UTF-8',
      '',
      '<p>HTML version</p>',
      '--b1--',
      '',
    ].join('\r\n');
    await insert(raw);
    const message = await fetchOne('kq4');
    expect(message.from).toBe('Jürgen Müller <jm@example.de>');
    expect(message.subject).toBe('Grüße aus München kq4');
    expect(message.body).toBe('Schöne Grüße!');
  });

  test('format raw decodes the RFC 822 source with postal-mime and returns it as base64url', async () => {
    const message = await fetchOne('kq4', { format: 'raw' });
    expect(message.subject).toBe('Grüße aus München kq4');
    expect(message.body).toBe('Schöne Grüße!');
    expect(message.html).toContain('HTML version');
    expect(Buffer.from(message.raw ?? '', 'base64url').toString('latin1')).toContain(
      'Content-Type: multipart/alternative',
    );
  });

  test('very long bodies are trimmed and flagged', async () => {
    const long = Array.from({ length: 3000 }, (_, i) => `word${i}`).join(' ');
    await insert(
      rfc822(
        {
          From: 'a@b.example',
          To: 'john.doe@example.com',
          Subject: 'Long one lw3',
          Date: 'Thu, 05 Nov 2026 10:00:00 +0000',
        },
        long,
      ),
    );
    const message = await fetchOne('subject:lw3');
    expect(message.bodyTruncated).toBe(true);
    expect(message.body?.length).toBeLessThan(8_100);
    expect(message.body).toMatch(/more characters not shown\]$/);
  });

  test('reads messages with at most 5 requests in flight', async () => {
    for (let i = 0; i < 12; i++) {
      await insert(
        rfc822(
          {
            From: 'bulk@b.example',
            To: 'john.doe@example.com',
            Subject: `Bulk ${i} cc8`,
            Date: `Fri, 06 Nov 2026 10:${String(i).padStart(2, '0')}:00 +0000`,
          },
          `n${i}`,
        ),
      );
    }
    let inFlight = 0;
    let peak = 0;
    const counting: typeof fetch = async (input, init) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return await h.sandbox.fetch(input, init);
      } finally {
        inFlight--;
      }
    };
    const result = await h.run<FetchResult>(
      fetchMails,
      { query: 'cc8', max_results: 12 },
      h.contextFor({ fetch: counting }),
    );
    expect(result.messages).toHaveLength(12);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(5);
  });

  describe('large mail against the result limit', () => {
    const LIMIT = 5_000_000;
    /** 1.5 MB of text in lines of RFC 5322's longest (998): about 2 MB of base64url in format "raw". */
    const BULKY_BODY = `${'y'.repeat(996)}\r\n`.repeat(1_500);
    /** The message reads (messages.get) sent since `from`. */
    const readsSince = (from: number) =>
      h.requests.slice(from).filter((request) => /\/messages\/[^/]+$/.test(request.path)).length;

    beforeAll(async () => {
      for (let i = 0; i < 12; i++) {
        await insert(
          rfc822(
            {
              From: 'scanner@b.example',
              To: 'john.doe@example.com',
              Subject: `Bulky scan ${i} bq5`,
              Date: `Sat, 07 Nov 2026 10:${String(i).padStart(2, '0')}:00 +0000`,
            },
            BULKY_BODY,
          ),
        );
      }
    });

    test('stops reading raw mail once the answer passes the result limit, and names the messages left out', async () => {
      const listed = await h.run<FetchResult>(fetchMails, { query: 'bq5', max_results: 12, format: 'minimal' });
      expect(listed.messages).toHaveLength(12);
      const before = h.requests.length;
      const result = await h.run<FetchResult>(
        fetchMails,
        { query: 'bq5', max_results: 12, format: 'raw' },
        h.contextFor({ maxResultBytes: LIMIT }),
      );
      expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(LIMIT);
      expect(result.messages.length).toBeGreaterThan(0);
      expect(result.messages[0]?.raw?.length).toBeGreaterThan(1_990_000);
      expect(result.truncated).toBe(true);
      expect(result.note).toMatch(/gmail_get_message_by_id/);
      // What fits comes first, newest first as listed; the rest is named so the agent can read it.
      expect([...result.messages.map((message) => message.id), ...(result.omittedMessageIds ?? [])]).toEqual(
        listed.messages.map((message) => message.id),
      );
      // No read starts once the budget is spent: at most the reads already in flight (5) go past it.
      expect(readsSince(before)).toBeLessThanOrEqual(result.messages.length + 5);
      expect(readsSince(before)).toBeLessThan(12);
    });

    test('answers the same mail whole, without a truncated flag, when it fits', async () => {
      const result = await h.run<FetchResult>(
        fetchMails,
        { query: 'bq5', max_results: 12 },
        h.contextFor({ maxResultBytes: LIMIT }),
      );
      expect(result.messages).toHaveLength(12);
      expect(result).not.toHaveProperty('truncated');
      expect(result).not.toHaveProperty('omittedMessageIds');
    });

    test('fails with tool_result_too_large, saying how to ask for less, when the first message alone is too large', async () => {
      const before = h.requests.length;
      const error = await h
        .run(fetchMails, { query: 'bq5', max_results: 12, format: 'raw' }, h.contextFor({ maxResultBytes: 1_000_000 }))
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'tool_result_too_large' });
      expect((error as Error).message).toMatch(/over this server's limit of 1000000 bytes; ask for format "full"/);
      expect(readsSince(before)).toBeLessThanOrEqual(5);
    });
  });

  test('a message deleted between listing and reading is skipped, not fatal', async () => {
    const listed = await h.run<FetchResult>(fetchMails, { max_results: 3, format: 'minimal' });
    const gone = listed.messages[1]?.id;
    h.sandbox.state.faults.add({
      match: { method: 'GET', pathPrefix: `/gmail/v1/users/me/messages/${gone}` },
      status: 404,
    });
    const result = await h.run<FetchResult>(fetchMails, { max_results: 3, format: 'minimal' });
    expect(result.messages.map((message) => message.id)).toEqual(
      listed.messages.map((m) => m.id).filter((id) => id !== gone),
    );
  });

  test('an unknown label is refused with the known labels; a display name resolves to its id', async () => {
    const error = await h.run(fetchMails, { label_ids: ['Label_does_not_exist'] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'tool_input_invalid' });
    expect((error as Error).message).toContain('"Label_does_not_exist"');
    expect((error as Error).message).toContain('INBOX');
    const byName = await h.run<FetchResult>(fetchMails, { label_ids: ['inbox', 'unread'], max_results: 5 });
    expect(byName.messages.length).toBeGreaterThan(0);
    for (const message of byName.messages)
      expect(message.labelIds).toEqual(expect.arrayContaining(['INBOX', 'UNREAD']));
  });

  test('a bad page token is a provider bad-request error', async () => {
    const error = await rejection(h.run(fetchMails, { page_token: 'not-a-token' }));
    expect(error.code).toBe('provider_bad_request');
  });

  test('input outside the bounds is refused before any call', async () => {
    const before = h.requests.length;
    for (const input of [{ max_results: 0 }, { max_results: 501 }, { format: 'html' }])
      await expect(h.run(fetchMails, input)).rejects.toMatchObject({ code: 'tool_input_invalid' });
    expect(h.requests.length).toBe(before);
  });

  test('a token Google rejects surfaces as provider_unauthorized after the engine retried once with a refresh', async () => {
    let tokenCalls = 0;
    const ctx = toolContext({
      apiOrigins: gmail.apiOrigins,
      baseUrl: h.sandbox.url,
      fetch: h.sandbox.fetch,
      accessToken: () => {
        tokenCalls++;
        return 'ya29.revoked';
      },
    });
    const error = await rejection(h.run(fetchMails, {}, ctx));
    expect(error.code).toBe('provider_unauthorized');
    expect(tokenCalls).toBe(2);
  });

  test('with only gmail.metadata: metadata format works, full format is refused by Google', async () => {
    const ctx = h.contextFor({ scopes: [SCOPE.metadata] });
    const result = await h.run<FetchResult>(fetchMails, { format: 'metadata', max_results: 2 }, ctx);
    expect(result.messages[0]?.subject).toBeTruthy();
    // Google answers 403 PERMISSION_DENIED "Metadata scope doesn't allow format FULL".
    const error = await rejection(h.run(fetchMails, { max_results: 1 }, ctx));
    expect(error.code).toBe('insufficient_scope');
    expect(error.message).toMatch(/metadata scope/i);
  });
});
