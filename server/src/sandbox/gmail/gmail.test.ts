import { auth, gmail, type gmail_v1 } from '@googleapis/gmail';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../../test/support/clock.js';
import { type RunningSandbox, startSandbox } from '../../../test/support/sandbox.js';

const MAIL = 'https://mail.google.com/';
const G = 'https://www.googleapis.com/auth/gmail.';
const JOHN = 'john.doe@example.com';
const JANE = 'jane.doe@example.com';

let sandbox: RunningSandbox;
const clock = manualClock();

beforeAll(async () => {
  sandbox = await startSandbox({ clock });
});
afterAll(async () => {
  await sandbox.close();
});

/** Google's own client, pointed at the sandbox with a sandbox-issued token. */
function clientFor(email: string, scopes: string[] = [MAIL, `${G}settings.basic`]): gmail_v1.Gmail {
  const { access_token } = sandbox.state.oauth.issueTokenDirectly({ email, scopes });
  const credentials = new auth.OAuth2();
  credentials.setCredentials({ access_token });
  return gmail({ version: 'v1', rootUrl: `${sandbox.url}/`, auth: credentials });
}

function rfc822(lines: string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

const b64url = (text: string) => Buffer.from(text).toString('base64url');

describe('Gmail v1 through @googleapis/gmail', () => {
  it('lists the seeded inbox newest first with ids, thread ids and a result size', async () => {
    const john = clientFor(JOHN);
    const { data } = await john.users.messages.list({ userId: 'me', labelIds: ['INBOX'] });
    expect(data.messages?.length).toBeGreaterThanOrEqual(6);
    expect(data.resultSizeEstimate).toBe(data.messages?.length);
    for (const message of data.messages ?? []) expect(message.id).toMatch(/^[0-9a-f]{16}$/);
    const dates = await Promise.all(
      (data.messages ?? []).map(async (m) =>
        Number((await john.users.messages.get({ userId: 'me', id: m.id ?? '', format: 'minimal' })).data.internalDate),
      ),
    );
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
  });

  it('pages with maxResults and nextPageToken', async () => {
    const john = clientFor(JOHN);
    const first = await john.users.messages.list({ userId: 'me', maxResults: 3 });
    expect(first.data.messages).toHaveLength(3);
    const second = await john.users.messages.list({
      userId: 'me',
      maxResults: 3,
      pageToken: first.data.nextPageToken ?? '',
    });
    expect(second.data.messages?.[0]?.id).not.toBe(first.data.messages?.[0]?.id);
  });

  it('searches with Gmail operators', async () => {
    const john = clientFor(JOHN);
    const ids = async (q: string) => (await john.users.messages.list({ userId: 'me', q })).data.messages ?? [];
    expect(await ids('from:marco is:unread')).toHaveLength(1);
    expect(await ids('has:attachment')).toHaveLength(2);
    expect(await ids('filename:pdf')).toHaveLength(1);
    expect(await ids('subject:"Q3 roadmap"')).toHaveLength(2);
    expect(await ids('in:sent')).toHaveLength(1);
    expect(await ids('newer_than:1d')).toHaveLength(2);
    expect(await ids('older_than:5d')).toHaveLength(1);
    expect(await ids('category:promotions OR is:starred')).toHaveLength(2);
    expect(await ids('lisbon -has:attachment')).toHaveLength(0);
    expect(await ids('from:nobody@nowhere.example')).toHaveLength(0);
    const empty = await john.users.messages.list({ userId: 'me', q: 'from:nobody@nowhere.example' });
    expect(empty.data).toEqual({ resultSizeEstimate: 0 });
  });

  it('returns a multipart/alternative message as a MIME tree with text and HTML parts', async () => {
    const john = clientFor(JOHN);
    const [ref] =
      (await john.users.messages.list({ userId: 'me', q: 'from:notifications@github.example' })).data.messages ?? [];
    const { data } = await john.users.messages.get({ userId: 'me', id: ref?.id ?? '' });
    expect(data.payload?.partId).toBe('');
    expect(data.payload?.mimeType).toBe('multipart/alternative');
    expect(data.payload?.headers).toContainEqual({
      name: 'Subject',
      value: '[acme/switchboard] Add Gmail sandbox (PR #42)',
    });
    const [text, html] = data.payload?.parts ?? [];
    expect(text).toMatchObject({ partId: '0', mimeType: 'text/plain', filename: '' });
    expect(html).toMatchObject({ partId: '1', mimeType: 'text/html' });
    expect(Buffer.from(html?.body?.data ?? '', 'base64url').toString()).toContain('<b>maria-k</b>');
    expect(html?.body?.size).toBe(Buffer.from(html?.body?.data ?? '', 'base64url').length);
    expect(data.snippet).toContain('maria-k requested your review');
    expect(data.historyId).toMatch(/^\d+$/);
    expect(data.sizeEstimate).toBeGreaterThan(100);
  });

  it('serves an attachment by its attachmentId, and raw decodes to the same message', async () => {
    const john = clientFor(JOHN);
    const [ref] = (await john.users.messages.list({ userId: 'me', q: 'filename:pdf' })).data.messages ?? [];
    const full = (await john.users.messages.get({ userId: 'me', id: ref?.id ?? '' })).data;
    expect(full.payload?.mimeType).toBe('multipart/mixed');
    const pdfPart = full.payload?.parts?.[1];
    expect(pdfPart).toMatchObject({ partId: '1', mimeType: 'application/pdf', filename: 'INV-2041.pdf' });
    expect(pdfPart?.body?.data).toBeUndefined();
    const attachment = await john.users.messages.attachments.get({
      userId: 'me',
      messageId: ref?.id ?? '',
      id: pdfPart?.body?.attachmentId ?? '',
    });
    const pdf = Buffer.from(attachment.data.data ?? '', 'base64url');
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(attachment.data.size).toBe(pdf.length);

    const raw = (await john.users.messages.get({ userId: 'me', id: ref?.id ?? '', format: 'raw' })).data;
    expect(raw.payload).toBeUndefined();
    const parsed = await PostalMime.parse(Buffer.from(raw.raw ?? '', 'base64url'));
    expect(parsed.subject).toBe('Your invoice INV-2041');
    expect(parsed.attachments[0]?.filename).toBe('INV-2041.pdf');
    const textPart = full.payload?.parts?.[0];
    expect(parsed.text?.trim()).toBe(
      Buffer.from(textPart?.body?.data ?? '', 'base64url')
        .toString()
        .trim(),
    );
  });

  it('returns only the asked headers in metadata format', async () => {
    const john = clientFor(JOHN);
    const [ref] = (await john.users.messages.list({ userId: 'me', maxResults: 1 })).data.messages ?? [];
    const { data } = await john.users.messages.get({
      userId: 'me',
      id: ref?.id ?? '',
      format: 'metadata',
      metadataHeaders: ['From', 'Subject'],
    });
    expect(data.payload?.headers?.map((h) => h.name)).toEqual(['From', 'Subject']);
    expect(data.payload?.parts).toBeUndefined();
  });

  it('forbids bodies and search to a token that holds only gmail.metadata', async () => {
    const meta = clientFor(JOHN, [`${G}metadata`]);
    const [ref] = (await meta.users.messages.list({ userId: 'me' })).data.messages ?? [];
    await expect(meta.users.messages.get({ userId: 'me', id: ref?.id ?? '', format: 'full' })).rejects.toMatchObject({
      status: 403,
    });
    await expect(meta.users.messages.list({ userId: 'me', q: 'dinner' })).rejects.toMatchObject({ status: 403 });
  });

  it("sends a message that lands in the sender's SENT and in a sandbox recipient's inbox, in the right thread", async () => {
    const john = clientFor(JOHN);
    const jane = clientFor(JANE);
    const [lunch] = (await john.users.messages.list({ userId: 'me', q: 'subject:lunch' })).data.messages ?? [];
    const lunchHeaders = (await john.users.messages.get({ userId: 'me', id: lunch?.id ?? '', format: 'metadata' })).data
      .payload?.headers;
    const lunchMessageId = lunchHeaders?.find((h) => h.name === 'Message-ID')?.value ?? '';
    const raw = rfc822([
      `To: Jane Doe <${JANE}>`,
      'Subject: Re: Lunch tomorrow?',
      `In-Reply-To: ${lunchMessageId}`,
      `References: ${lunchMessageId}`,
      'Content-Type: text/plain; charset=UTF-8',
      '',
      'Sounds great — see you at 12:30!',
    ]);
    const { data: sent } = await john.users.messages.send({
      userId: 'me',
      requestBody: { raw: b64url(raw), threadId: lunch?.threadId ?? '' },
    });
    expect(sent.labelIds).toEqual(['SENT']);
    expect(sent.threadId).toBe(lunch?.threadId);
    const stored = (await john.users.messages.get({ userId: 'me', id: sent.id ?? '' })).data;
    expect(stored.payload?.headers?.find((h) => h.name === 'From')?.value).toBe(`John Doe <${JOHN}>`);
    expect(stored.snippet).toBe('Sounds great — see you at 12:30!');

    const inbox =
      (await jane.users.messages.list({ userId: 'me', q: 'from:john.doe@example.com is:unread' })).data.messages ?? [];
    expect(inbox).toHaveLength(1);
    const received = (await jane.users.messages.get({ userId: 'me', id: inbox[0]?.id ?? '' })).data;
    expect(received.labelIds).toEqual(expect.arrayContaining(['INBOX', 'UNREAD']));
    expect(received.id).not.toBe(sent.id);
  });

  it('sends through the media upload endpoint', async () => {
    const john = clientFor(JOHN);
    // The client builds upload URLs from the per-call rootUrl only, so uploads need it repeated here.
    const perCall = { rootUrl: `${sandbox.url}/` };
    const { data } = await john.users.messages.send(
      {
        userId: 'me',
        media: {
          mimeType: 'message/rfc822',
          body: rfc822(['To: someone@else.example', 'Subject: via upload', '', 'hello']),
        },
      },
      perCall,
    );
    expect(data.labelIds).toEqual(['SENT']);
    const multipart = await john.users.messages.send(
      {
        userId: 'me',
        requestBody: {},
        media: {
          mimeType: 'message/rfc822',
          body: rfc822(['To: someone@else.example', 'Subject: via multipart', '', 'hi']),
        },
      },
      perCall,
    );
    const got = await john.users.messages.get({
      userId: 'me',
      id: multipart.data.id ?? '',
      format: 'metadata',
      metadataHeaders: ['Subject'],
    });
    expect(got.data.payload?.headers).toEqual([{ name: 'Subject', value: 'via multipart' }]);
  });

  it('refuses to send a message without recipients', async () => {
    const john = clientFor(JOHN);
    await expect(
      john.users.messages.send({ userId: 'me', requestBody: { raw: b64url(rfc822(['Subject: nobody', '', 'x'])) } }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('modifies labels and keeps label counts right', async () => {
    const john = clientFor(JOHN);
    const before = (await john.users.labels.get({ userId: 'me', id: 'UNREAD' })).data;
    const [dinner] = (await john.users.messages.list({ userId: 'me', q: 'subject:dinner' })).data.messages ?? [];
    const { data } = await john.users.messages.modify({
      userId: 'me',
      id: dinner?.id ?? '',
      requestBody: { removeLabelIds: ['UNREAD'], addLabelIds: ['STARRED'] },
    });
    expect(data.labelIds).toContain('STARRED');
    expect(data.labelIds).not.toContain('UNREAD');
    const after = (await john.users.labels.get({ userId: 'me', id: 'UNREAD' })).data;
    expect(after.messagesTotal).toBe((before.messagesTotal ?? 0) - 1);
    expect(after).toMatchObject({ id: 'UNREAD', type: 'system' });
    await expect(
      john.users.messages.modify({ userId: 'me', id: dinner?.id ?? '', requestBody: { addLabelIds: ['NOPE'] } }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('trashes and untrashes; trashed mail leaves the default list', async () => {
    const john = clientFor(JOHN);
    const [newsletter] =
      (await john.users.messages.list({ userId: 'me', q: 'category:promotions' })).data.messages ?? [];
    const id = newsletter?.id ?? '';
    expect((await john.users.messages.trash({ userId: 'me', id })).data.labelIds).toContain('TRASH');
    const listed = (await john.users.messages.list({ userId: 'me' })).data.messages ?? [];
    expect(listed.map((m) => m.id)).not.toContain(id);
    const inTrash = (await john.users.messages.list({ userId: 'me', labelIds: ['TRASH'] })).data.messages ?? [];
    expect(inTrash.map((m) => m.id)).toContain(id);
    expect((await john.users.messages.untrash({ userId: 'me', id })).data.labelIds).not.toContain('TRASH');
  });

  it('creates, renames and deletes a user label, and refuses a duplicate name with 409', async () => {
    const john = clientFor(JOHN);
    const { data: label } = await john.users.labels.create({ userId: 'me', requestBody: { name: 'Receipts' } });
    expect(label).toMatchObject({ id: expect.stringMatching(/^Label_\d+$/), name: 'Receipts', type: 'user' });
    await expect(john.users.labels.create({ userId: 'me', requestBody: { name: 'receipts' } })).rejects.toMatchObject({
      status: 409,
    });
    const [invoice] = (await john.users.messages.list({ userId: 'me', q: 'subject:invoice' })).data.messages ?? [];
    await john.users.messages.modify({
      userId: 'me',
      id: invoice?.id ?? '',
      requestBody: { addLabelIds: [label.id ?? ''] },
    });
    expect((await john.users.messages.list({ userId: 'me', q: 'label:receipts' })).data.messages).toHaveLength(1);
    const renamed = await john.users.labels.patch({ userId: 'me', id: label.id ?? '', requestBody: { name: 'Bills' } });
    expect(renamed.data.name).toBe('Bills');
    await john.users.labels.delete({ userId: 'me', id: label.id ?? '' });
    const labels = (await john.users.labels.list({ userId: 'me' })).data.labels ?? [];
    expect(labels.map((l) => l.id)).not.toContain(label.id);
    expect(labels.map((l) => l.id)).toEqual(
      expect.arrayContaining(['INBOX', 'SENT', 'DRAFT', 'SPAM', 'TRASH', 'UNREAD']),
    );
    await expect(john.users.labels.delete({ userId: 'me', id: 'INBOX' })).rejects.toMatchObject({ status: 400 });
  });

  it('creates, lists, updates and sends a draft', async () => {
    const john = clientFor(JOHN);
    const draftRaw = (subject: string) => b64url(rfc822([`To: ${JANE}`, `Subject: ${subject}`, '', 'draft body']));
    const { data: draft } = await john.users.drafts.create({
      userId: 'me',
      requestBody: { message: { raw: draftRaw('v1') } },
    });
    expect(draft.id).toBeTruthy();
    expect(draft.message?.labelIds).toEqual(['DRAFT']);
    const listed = (await john.users.drafts.list({ userId: 'me' })).data.drafts ?? [];
    expect(listed.map((d) => d.id)).toContain(draft.id);
    await john.users.drafts.update({
      userId: 'me',
      id: draft.id ?? '',
      requestBody: { message: { raw: draftRaw('v2') } },
    });
    const got = await john.users.drafts.get({ userId: 'me', id: draft.id ?? '', format: 'metadata' });
    expect(got.data.message?.payload?.headers?.find((h) => h.name === 'Subject')?.value).toBe('v2');
    const { data: sent } = await john.users.drafts.send({ userId: 'me', requestBody: { id: draft.id ?? '' } });
    expect(sent.labelIds).toEqual(['SENT']);
    await expect(john.users.drafts.get({ userId: 'me', id: draft.id ?? '' })).rejects.toMatchObject({ status: 404 });
  });

  it('lists history since a historyId', async () => {
    const jane = clientFor(JANE);
    const { historyId } = (await jane.users.getProfile({ userId: 'me' })).data;
    const [first] = (await jane.users.messages.list({ userId: 'me' })).data.messages ?? [];
    await jane.users.messages.modify({ userId: 'me', id: first?.id ?? '', requestBody: { addLabelIds: ['STARRED'] } });
    await jane.users.messages.insert({
      userId: 'me',
      requestBody: { raw: b64url(rfc822(['From: a@b.example', 'Subject: inserted', '', 'x'])), labelIds: ['INBOX'] },
    });
    const { data } = await jane.users.history.list({ userId: 'me', startHistoryId: historyId ?? '' });
    expect(data.history?.map((h) => Object.keys(h).filter((k) => k !== 'id' && k !== 'messages'))).toEqual([
      ['labelsAdded'],
      ['messagesAdded'],
    ]);
    expect(data.history?.[0]?.labelsAdded?.[0]).toMatchObject({ labelIds: ['STARRED'], message: { id: first?.id } });
    expect(Number(data.historyId)).toBeGreaterThan(Number(historyId));
    const onlyAdded = await jane.users.history.list({
      userId: 'me',
      startHistoryId: historyId ?? '',
      historyTypes: ['messageAdded'],
    });
    expect(onlyAdded.data.history).toHaveLength(1);
    await expect(jane.users.history.list({ userId: 'me', startHistoryId: '1' })).rejects.toMatchObject({ status: 404 });
  });

  it('groups a message and its reply into one thread', async () => {
    const john = clientFor(JOHN);
    const threads = (await john.users.threads.list({ userId: 'me', q: 'subject:"Q3 roadmap"' })).data.threads ?? [];
    expect(threads).toHaveLength(1);
    const { data } = await john.users.threads.get({ userId: 'me', id: threads[0]?.id ?? '' });
    expect(data.messages?.map((m) => m.labelIds?.includes('SENT'))).toEqual([false, true]);
    const modified = await john.users.threads.modify({
      userId: 'me',
      id: data.id ?? '',
      requestBody: { addLabelIds: ['IMPORTANT'] },
    });
    expect(modified.data.messages?.every((m) => m.labelIds?.includes('IMPORTANT'))).toBe(true);
  });

  it("keeps each user's mail apart", async () => {
    const john = clientFor(JOHN);
    const jane = clientFor(JANE);
    const janeIds = ((await jane.users.messages.list({ userId: 'me' })).data.messages ?? []).map((m) => m.id ?? '');
    for (const id of janeIds) {
      await expect(john.users.messages.get({ userId: 'me', id })).rejects.toMatchObject({ status: 404 });
    }
    await expect(john.users.messages.list({ userId: JANE })).rejects.toMatchObject({ status: 403 });
    expect((await john.users.getProfile({ userId: JOHN })).data.emailAddress).toBe(JOHN);
  });

  it("answers an unknown message id with Google's 404 body", async () => {
    const response = await fetch(`${sandbox.url}/gmail/v1/users/me/messages/0000000000000000`, {
      headers: {
        authorization: `Bearer ${sandbox.state.oauth.issueTokenDirectly({ email: JOHN, scopes: [MAIL] }).access_token}`,
      },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        code: 404,
        message: 'Requested entity was not found.',
        errors: [{ message: 'Requested entity was not found.', domain: 'global', reason: 'notFound' }],
        status: 'NOT_FOUND',
      },
    });
  });

  it('edits the send-as signature and applies filters to arriving mail', async () => {
    const jane = clientFor(JANE);
    const patched = await jane.users.settings.sendAs.patch({
      userId: 'me',
      sendAsEmail: JANE,
      requestBody: { signature: '— Jane' },
    });
    expect(patched.data).toMatchObject({ sendAsEmail: JANE, signature: '— Jane', isPrimary: true });
    const { data: label } = await jane.users.labels.create({ userId: 'me', requestBody: { name: 'From John' } });
    await jane.users.settings.filters.create({
      userId: 'me',
      requestBody: { criteria: { from: JOHN }, action: { addLabelIds: [label.id ?? ''], removeLabelIds: ['INBOX'] } },
    });
    await clientFor(JOHN).users.messages.send({
      userId: 'me',
      requestBody: { raw: b64url(rfc822([`To: ${JANE}`, 'Subject: filtered', '', 'x'])) },
    });
    const filtered = (await jane.users.messages.list({ userId: 'me', q: 'subject:filtered' })).data.messages ?? [];
    const got = await jane.users.messages.get({ userId: 'me', id: filtered[0]?.id ?? '', format: 'minimal' });
    expect(got.data.labelIds).toContain(label.id);
    expect(got.data.labelIds).not.toContain('INBOX');
    expect((await jane.users.settings.filters.list({ userId: 'me' })).data.filter).toHaveLength(1);
  });

  it("refreshes by itself through google-auth-library against the sandbox's token endpoint", async () => {
    const issued = sandbox.state.oauth.issueTokenDirectly({
      email: JOHN,
      scopes: [`${G}readonly`],
      clientId: 'lib-client',
    });
    const john = sandbox.state.findUser(JOHN);
    if (john) sandbox.state.oauth.expireAccessTokensOf(john);
    const credentials = new auth.OAuth2({
      clientId: 'lib-client',
      clientSecret: 'lib-secret',
      endpoints: { oauth2TokenUrl: `${sandbox.url}/token` },
    });
    credentials.setCredentials({
      access_token: issued.access_token,
      refresh_token: issued.refresh_token,
      expiry_date: clock.now() + 3_600_000,
    });
    const client = gmail({ version: 'v1', rootUrl: `${sandbox.url}/`, auth: credentials });
    const before = sandbox.state.readCounters().tokenCalls.refresh_token ?? 0;
    const { data } = await client.users.getProfile({ userId: 'me' });
    expect(data.emailAddress).toBe(JOHN);
    expect(sandbox.state.readCounters().tokenCalls.refresh_token).toBe(before + 1);
  });
});
