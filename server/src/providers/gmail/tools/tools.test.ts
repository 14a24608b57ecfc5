import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALL_GMAIL_SCOPES, JOHN, startToolHarness, type ToolHarness } from '../../../../test/support/tool-harness.js';
import type { CompactMessage } from '../message-format.js';
import { gmail } from '../provider.js';
import { SCOPE } from '../scopes.js';
import { batchDeleteMessages } from './batch-delete-messages.js';
import { batchModifyMessages } from './batch-modify-messages.js';
import { createDelegate } from './create-delegate.js';
import { createDraft } from './create-draft.js';
import { createFilter } from './create-filter.js';
import { createForwardingAddress } from './create-forwarding-address.js';
import { createLabel } from './create-label.js';
import { createSendAs } from './create-send-as.js';
import { deleteDraft } from './delete-draft.js';
import { deleteFilter } from './delete-filter.js';
import { deleteForwardingAddress } from './delete-forwarding-address.js';
import { deleteLabel } from './delete-label.js';
import { deleteMessage } from './delete-message.js';
import { deleteSendAs } from './delete-send-as.js';
import { deleteThread } from './delete-thread.js';
import { fetchMails } from './fetch-mails.js';
import { getAttachmentById } from './get-attachment-by-id.js';
import { getAutoForwarding } from './get-auto-forwarding.js';
import { getContacts } from './get-contacts.js';
import { getDraft } from './get-draft.js';
import { getFilter } from './get-filter.js';
import { getForwardingAddress } from './get-forwarding-address.js';
import { getLabel } from './get-label.js';
import { getMessageById } from './get-message-by-id.js';
import { getProfile } from './get-profile.js';
import { getSendAs } from './get-send-as.js';
import { getThreadById } from './get-thread-by-id.js';
import { getVacationSettings } from './get-vacation-settings.js';
import { importMessage } from './import-message.js';
import { insertMessage } from './insert-message.js';
import { listDelegates } from './list-delegates.js';
import { listDrafts } from './list-drafts.js';
import { listFilters } from './list-filters.js';
import { listForwardingAddresses } from './list-forwarding-addresses.js';
import { listHistory } from './list-history.js';
import { listLabels } from './list-labels.js';
import { listSendAs } from './list-send-as.js';
import { listThreads } from './list-threads.js';
import { modifyMessageLabels } from './modify-message-labels.js';
import { modifyThreadLabels } from './modify-thread-labels.js';
import { replyToThread } from './reply-to-thread.js';
import { searchPeople } from './search-people.js';
import { sendDraft } from './send-draft.js';
import { sendMessage } from './send-message.js';
import { stopMailboxWatch } from './stop-mailbox-watch.js';
import { trashMessage } from './trash-message.js';
import { trashThread } from './trash-thread.js';
import { untrashMessage } from './untrash-message.js';
import { untrashThread } from './untrash-thread.js';
import { updateAutoForwarding } from './update-auto-forwarding.js';
import { updateDraft } from './update-draft.js';
import { updateLabel } from './update-label.js';
import { updateSendAs } from './update-send-as.js';
import { updateVacationSettings } from './update-vacation-settings.js';
import { verifySendAs } from './verify-send-as.js';
import { watchMailbox } from './watch-mailbox.js';

type Json = Record<string, unknown>;
interface Messages {
  messages: CompactMessage[];
}

let h: ToolHarness;
let counter = 0;

function raw(subject: string, body = 'hello', from = 'sender@ext.example'): string {
  return `From: ${from}\r\nTo: ${JOHN}\r\nSubject: ${subject}\r\nDate: Mon, 09 Nov 2026 08:00:00 +0000\r\n\r\n${body}`;
}

async function newMessage(labels = ['INBOX', 'UNREAD']): Promise<{ id: string; threadId: string; subject: string }> {
  const subject = `Fixture ${++counter} uq${counter}x`;
  const message = await h.run<{ id: string; threadId: string }>(insertMessage, {
    raw_message: raw(subject),
    label_ids: labels,
  });
  return { ...message, subject };
}

async function readOne(id: string): Promise<CompactMessage> {
  const result = await h.run<Messages>(getMessageById, { message_id: id });
  return result.messages[0] as CompactMessage;
}

beforeAll(async () => {
  h = await startToolHarness({ provider: gmail, scopes: ALL_GMAIL_SCOPES });
});
afterAll(async () => {
  await h?.close();
});

describe('gmail message tools against the sandbox', () => {
  test('gmail_get_message_by_id returns one message under messages[]', async () => {
    const { id, subject } = await newMessage();
    const result = await h.run<Messages>(getMessageById, { message_id: id });
    expect(result.messages).toHaveLength(1);
    expect(result.messages[0]).toMatchObject({ id, subject, body: 'hello', from: 'sender@ext.example' });
  });

  test('gmail_get_attachment_by_id decodes a text attachment', async () => {
    const mime = [
      `From: a@ext.example`,
      `To: ${JOHN}`,
      'Subject: csv attached',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="m"',
      '',
      '--m',
      'Content-Type: text/plain',
      '',
      'see csv',
      '--m',
      'Content-Type: text/csv; charset=UTF-8; name="a.csv"',
      'Content-Disposition: attachment; filename="a.csv"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('name,total\nÅsa,3\n').toString('base64'),
      '--m--',
      '',
    ].join('\r\n');
    const { id } = await h.run<{ id: string }>(insertMessage, { raw_message: mime, label_ids: ['INBOX'] });
    const message = await readOne(id);
    const attachment = message.attachments?.[0];
    expect(attachment).toMatchObject({ filename: 'a.csv', mimeType: 'text/csv' });
    const result = await h.run<Json>(getAttachmentById, {
      message_id: id,
      attachment_id: attachment?.attachmentId,
      file_name: 'a.csv',
    });
    expect(result).toMatchObject({ filename: 'a.csv', mimeType: 'text/csv', text: 'name,total\nÅsa,3\n' });
    expect(result).not.toHaveProperty('data');
  });

  test('gmail_modify_message_labels marks a message read and starred', async () => {
    const { id } = await newMessage();
    const result = await h.run<{ labelIds: string[] }>(modifyMessageLabels, {
      message_id: id,
      add_label_ids: ['STARRED'],
      remove_label_ids: ['UNREAD'],
    });
    expect(result.labelIds).toContain('STARRED');
    expect(result.labelIds).not.toContain('UNREAD');
    await expect(h.run(modifyMessageLabels, { message_id: id })).rejects.toMatchObject({ code: 'tool_input_invalid' });
  });

  test('gmail_batch_modify_messages archives several messages', async () => {
    const a = await newMessage();
    const b = await newMessage();
    const result = await h.run<Json>(batchModifyMessages, { message_ids: [a.id, b.id], remove_label_ids: ['INBOX'] });
    expect(result).toMatchObject({ success: true, modified: 2 });
    expect((await readOne(a.id)).labelIds).not.toContain('INBOX');
    expect((await readOne(b.id)).labelIds).not.toContain('INBOX');
  });

  test('gmail_trash_message and gmail_untrash_message move a message in and out of Trash', async () => {
    const { id } = await newMessage();
    expect((await h.run<{ labelIds: string[] }>(trashMessage, { message_id: id })).labelIds).toContain('TRASH');
    expect((await h.run<{ labelIds: string[] }>(untrashMessage, { message_id: id })).labelIds).not.toContain('TRASH');
  });

  test('gmail_delete_message deletes for good', async () => {
    const { id } = await newMessage();
    expect(await h.run(deleteMessage, { message_id: id })).toEqual({ success: true, id });
    await expect(readOne(id)).rejects.toMatchObject({ code: 'provider_not_found' });
  });

  test('gmail_batch_delete_messages deletes several messages for good', async () => {
    const a = await newMessage();
    const b = await newMessage();
    expect(await h.run(batchDeleteMessages, { message_ids: [a.id, b.id, a.id] })).toMatchObject({
      success: true,
      deleted: 2,
    });
    await expect(readOne(b.id)).rejects.toMatchObject({ code: 'provider_not_found' });
  });

  test('gmail_insert_message stores RFC 822 text or base64url source', async () => {
    const encoded = Buffer.from(raw('Encoded insert ei1')).toString('base64url');
    const { id } = await h.run<{ id: string }>(insertMessage, { raw_message: encoded, label_ids: ['INBOX'] });
    expect((await readOne(id)).subject).toBe('Encoded insert ei1');
    await expect(h.run(insertMessage, { raw_message: 'just some words, not mail' })).rejects.toMatchObject({
      code: 'tool_input_invalid',
    });
  });

  test('gmail_import_message imports a message with its Date header as internal date', async () => {
    const { id } = await h.run<{ id: string }>(importMessage, {
      raw_message: raw('Imported im1'),
      label_ids: ['INBOX'],
    });
    const message = await readOne(id);
    expect(message.subject).toBe('Imported im1');
    expect(message.date).toBe('2026-11-09T08:00:00.000Z');
  });
});

describe('gmail sending tools against the sandbox', () => {
  test('gmail_send_message sends UTF-8 mail that the recipient receives intact', async () => {
    const sent = await h.run<{ id: string; labelIds: string[] }>(sendMessage, {
      to: 'Jane Doe <jane.doe@example.com>',
      subject: 'Café ☕ plans',
      body: 'Grüße — see you at 10?',
    });
    expect(sent.labelIds).toContain('SENT');
    const inJane = await h.run<Messages>(
      fetchMails,
      { query: 'subject:plans', max_results: 1 },
      h.contextFor({ email: 'jane.doe@example.com' }),
    );
    expect(inJane.messages[0]).toMatchObject({ subject: 'Café ☕ plans', body: 'Grüße — see you at 10?' });
    expect(inJane.messages[0]?.from).toContain(JOHN);
  });

  test('gmail_send_message with content_type text/html sends multipart/alternative', async () => {
    const sent = await h.run<{ id: string }>(sendMessage, {
      to: 'jane.doe@example.com',
      subject: 'HTML hello',
      body: '<p>Hi <b>Jane</b></p>',
      content_type: 'text/html',
    });
    const result = await h.run<Messages>(getMessageById, { message_id: sent.id, format: 'full_html' });
    expect(result.messages[0]).toMatchObject({ body: 'Hi Jane', html: '<p>Hi <b>Jane</b></p>' });
  });

  test('gmail_send_message refuses an invalid recipient', async () => {
    await expect(h.run(sendMessage, { to: 'not an address', subject: 's', body: 'b' })).rejects.toMatchObject({
      code: 'tool_input_invalid',
    });
  });

  test('gmail_reply_to_thread replies in the thread with Re: subject', async () => {
    const threads = await h.run<{ threads: { id: string }[] }>(listThreads, { query: 'subject:"Q3 roadmap review"' });
    const threadId = threads.threads[0]?.id as string;
    const sent = await h.run<{ threadId: string }>(replyToThread, {
      thread_id: threadId,
      to: 'priya@acme-corp.example',
      body: 'One more thing.',
    });
    expect(sent.threadId).toBe(threadId);
    const thread = await h.run<{ messages: CompactMessage[] }>(getThreadById, { thread_id: threadId });
    expect(thread.messages.at(-1)).toMatchObject({ subject: 'Re: Q3 roadmap review', body: 'One more thing.' });
  });

  test('gmail_create_draft, gmail_get_draft, gmail_update_draft, gmail_list_drafts, gmail_send_draft work together', async () => {
    const created = await h.run<{ id: string }>(createDraft, {
      to: 'jane.doe@example.com',
      subject: 'Draft one',
      body: 'v1',
    });
    const read = await h.run<{ id: string; message: CompactMessage }>(getDraft, { draft_id: created.id });
    expect(read.message).toMatchObject({ subject: 'Draft one', body: 'v1' });
    await h.run(updateDraft, { draft_id: created.id, to: 'jane.doe@example.com', subject: 'Draft one', body: 'v2' });
    expect((await h.run<{ message: CompactMessage }>(getDraft, { draft_id: created.id })).message.body).toBe('v2');
    const list = await h.run<{ drafts: { id: string }[] }>(listDrafts, {});
    expect(list.drafts.map((draft) => draft.id)).toContain(created.id);
    const sent = await h.run<{ labelIds: string[] }>(sendDraft, { draft_id: created.id });
    expect(sent.labelIds).toContain('SENT');
  });

  test('gmail_delete_draft removes a draft', async () => {
    const created = await h.run<{ id: string }>(createDraft, { to: 'jane.doe@example.com', subject: 'Bye', body: 'x' });
    expect(await h.run(deleteDraft, { draft_id: created.id })).toEqual({ success: true, id: created.id });
    await expect(h.run(getDraft, { draft_id: created.id })).rejects.toMatchObject({ code: 'provider_not_found' });
  });
});

describe('gmail thread, label, history and profile tools against the sandbox', () => {
  test('gmail_list_threads lists conversations', async () => {
    const result = await h.run<{ threads: { id: string; snippet: string }[] }>(listThreads, { max_results: 3 });
    expect(result.threads).toHaveLength(3);
    expect(result.threads[0]).toHaveProperty('snippet');
  });

  test('gmail_get_thread_by_id returns every message, with requested headers', async () => {
    const threads = await h.run<{ threads: { id: string }[] }>(listThreads, { query: 'subject:"Q3 roadmap review"' });
    const thread = await h.run<{ id: string; messages: CompactMessage[] }>(getThreadById, {
      thread_id: threads.threads[0]?.id,
      format: 'metadata',
      metadata_headers: ['Message-ID'],
    });
    expect(thread.messages.length).toBeGreaterThanOrEqual(2);
    expect(thread.messages[0]?.headers?.[0]?.name.toLowerCase()).toBe('message-id');
  });

  test('gmail_get_thread_by_id over the result limit answers the oldest messages that fit and names the others', async () => {
    const threads = await h.run<{ threads: { id: string }[] }>(listThreads, { query: 'subject:"Q3 roadmap review"' });
    const input = { thread_id: threads.threads[0]?.id };
    const whole = await h.run<{ messages: CompactMessage[] }>(getThreadById, input);
    const ids = whole.messages.map((message) => message.id);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    const limit = Buffer.byteLength(JSON.stringify(whole)) - 1;
    const cut = await h.run<{ messages: CompactMessage[]; truncated?: true; omittedMessageIds?: string[] }>(
      getThreadById,
      input,
      h.contextFor({ maxResultBytes: limit }),
    );
    expect(Buffer.byteLength(JSON.stringify(cut))).toBeLessThanOrEqual(limit);
    expect(cut.truncated).toBe(true);
    expect(cut.messages.length).toBeGreaterThan(0);
    expect([...cut.messages.map((message) => message.id), ...(cut.omittedMessageIds ?? [])]).toEqual(ids);
  });

  test('gmail_modify_thread_labels, gmail_trash_thread, gmail_untrash_thread, gmail_delete_thread', async () => {
    const { threadId } = await newMessage();
    const modified = await h.run<{ messages: { labelIds: string[] }[] }>(modifyThreadLabels, {
      thread_id: threadId,
      add_label_ids: ['STARRED'],
    });
    expect(modified.messages[0]?.labelIds).toContain('STARRED');
    const trashed = await h.run<{ messages: { labelIds: string[] }[] }>(trashThread, { thread_id: threadId });
    expect(trashed.messages[0]?.labelIds).toContain('TRASH');
    const restored = await h.run<{ messages: { labelIds: string[] }[] }>(untrashThread, { thread_id: threadId });
    expect(restored.messages[0]?.labelIds).not.toContain('TRASH');
    expect(await h.run(deleteThread, { thread_id: threadId })).toEqual({ success: true, id: threadId });
  });

  test('gmail_create_label, gmail_get_label, gmail_update_label, gmail_list_labels, gmail_delete_label', async () => {
    const label = await h.run<{ id: string; name: string }>(createLabel, { name: 'Receipts' });
    expect(label.name).toBe('Receipts');
    expect(await h.run(getLabel, { label_id: label.id })).toMatchObject({ id: label.id, name: 'Receipts' });
    expect(await h.run(updateLabel, { label_id: label.id, name: 'Receipts 2026' })).toMatchObject({
      name: 'Receipts 2026',
    });
    const all = await h.run<{ labels: { id: string }[] }>(listLabels, {});
    expect(all.labels.map((l) => l.id)).toEqual(expect.arrayContaining(['INBOX', label.id]));
    expect(await h.run(deleteLabel, { label_id: label.id })).toEqual({ success: true, id: label.id });
    await expect(h.run(updateLabel, { label_id: label.id })).rejects.toMatchObject({ code: 'tool_input_invalid' });
  });

  test('gmail_get_profile and gmail_list_history see a new message', async () => {
    const profile = await h.run<{ emailAddress: string; historyId: string }>(getProfile, {});
    expect(profile.emailAddress).toBe(JOHN);
    const { id } = await newMessage();
    const history = await h.run<{ history: { messagesAdded?: { message: { id: string } }[] }[] }>(listHistory, {
      start_history_id: profile.historyId,
      history_types: ['messageAdded'],
    });
    const added = history.history.flatMap((record) => record.messagesAdded ?? []).map((entry) => entry.message.id);
    expect(added).toContain(id);
  });

  test('gmail_watch_mailbox and gmail_stop_mailbox_watch', async () => {
    const watch = await h.run<{ historyId: string; expiration: string }>(watchMailbox, {
      topic_name: 'projects/demo/topics/gmail',
      label_ids: ['INBOX'],
    });
    expect(watch.historyId).toBeTruthy();
    expect(await h.run(stopMailboxWatch, {})).toEqual({ success: true });
  });
});

describe('gmail settings tools against the sandbox', () => {
  test('gmail_update_vacation_settings keeps fields not given; gmail_get_vacation_settings reads them', async () => {
    await h.run(updateVacationSettings, {
      enable_auto_reply: true,
      response_subject: 'Away',
      response_body_plain_text: 'Back Monday',
      start_time: '2026-12-01T00:00:00Z',
    });
    await h.run(updateVacationSettings, { enable_auto_reply: true, end_time: '1796688000000' });
    expect(await h.run(getVacationSettings, {})).toMatchObject({
      enableAutoReply: true,
      responseSubject: 'Away',
      responseBodyPlainText: 'Back Monday',
      startTime: String(Date.parse('2026-12-01T00:00:00Z')),
      endTime: '1796688000000',
    });
    await expect(
      h.run(updateVacationSettings, { enable_auto_reply: true, start_time: 'next week' }),
    ).rejects.toMatchObject({ code: 'tool_input_invalid' });
  });

  test('gmail_get_auto_forwarding and gmail_update_auto_forwarding', async () => {
    expect(await h.run(getAutoForwarding, {})).toHaveProperty('enabled');
    await expect(h.run(updateAutoForwarding, { enabled: true })).rejects.toMatchObject({ code: 'tool_input_invalid' });
    expect(await h.run(updateAutoForwarding, { enabled: false })).toMatchObject({ enabled: false });
  });

  test('gmail_create_filter, gmail_get_filter, gmail_list_filters, gmail_delete_filter', async () => {
    const filter = await h.run<{ id: string; action: Json }>(createFilter, {
      from: 'news@shop.example',
      should_archive: true,
      should_mark_read: true,
    });
    expect(filter.action).toEqual({ removeLabelIds: ['INBOX', 'UNREAD'] });
    expect(await h.run(getFilter, { filter_id: filter.id })).toMatchObject({
      id: filter.id,
      criteria: { from: 'news@shop.example' },
    });
    expect((await h.run<{ filter: { id: string }[] }>(listFilters, {})).filter.map((f) => f.id)).toContain(filter.id);
    expect(await h.run(deleteFilter, { filter_id: filter.id })).toEqual({ success: true, id: filter.id });
    await expect(h.run(createFilter, { should_star: true })).rejects.toMatchObject({ code: 'tool_input_invalid' });
    await expect(h.run(createFilter, { from: 'x@y.example' })).rejects.toMatchObject({ code: 'tool_input_invalid' });
  });

  test('gmail_list_forwarding_addresses answers a list', async () => {
    expect(await h.run(listForwardingAddresses, {})).toEqual({ forwardingAddresses: expect.any(Array) });
  });

  test('gmail_list_send_as, gmail_get_send_as, gmail_update_send_as set the signature', async () => {
    const list = await h.run<{ sendAs: { sendAsEmail: string }[] }>(listSendAs, {});
    expect(list.sendAs.map((entry) => entry.sendAsEmail)).toContain(JOHN);
    expect(await h.run(updateSendAs, { send_as_email: JOHN, signature: '<b>John</b>' })).toMatchObject({
      signature: '<b>John</b>',
    });
    expect(await h.run(getSendAs, { send_as_email: JOHN })).toMatchObject({
      sendAsEmail: JOHN,
      signature: '<b>John</b>',
    });
  });
});

describe('gmail sharing settings tools against the sandbox', () => {
  test('gmail_create_forwarding_address, gmail_get_forwarding_address, gmail_delete_forwarding_address', async () => {
    expect(await h.run(createForwardingAddress, { forwarding_email: 'fw@ext.example' })).toEqual({
      forwardingEmail: 'fw@ext.example',
      verificationStatus: 'pending',
    });
    // An address of the user's own organization needs no confirmation mail.
    expect(await h.run(createForwardingAddress, { forwarding_email: 'jane.doe@example.com' })).toEqual({
      forwardingEmail: 'jane.doe@example.com',
      verificationStatus: 'accepted',
    });
    expect(await h.run(getForwardingAddress, { forwarding_email: 'fw@ext.example' })).toEqual({
      forwardingEmail: 'fw@ext.example',
      verificationStatus: 'pending',
    });
    const listed = await h.run<{ forwardingAddresses: { forwardingEmail: string }[] }>(listForwardingAddresses, {});
    expect(listed.forwardingAddresses.map((entry) => entry.forwardingEmail)).toEqual(
      expect.arrayContaining(['fw@ext.example', 'jane.doe@example.com']),
    );
    expect(await h.run(deleteForwardingAddress, { forwarding_email: 'fw@ext.example' })).toEqual({
      success: true,
      forwardingEmail: 'fw@ext.example',
    });
    await expect(h.run(getForwardingAddress, { forwarding_email: 'fw@ext.example' })).rejects.toMatchObject({
      code: 'provider_not_found',
    });
    await expect(
      h.run(createForwardingAddress, { forwarding_email: 'x@ext.example' }, h.contextFor({ scopes: [SCOPE.full] })),
    ).rejects.toMatchObject({
      code: 'insufficient_scope',
    });
  });

  test('gmail_create_send_as, gmail_verify_send_as, gmail_delete_send_as', async () => {
    expect(await h.run(createSendAs, { send_as_email: 'sales@corp.example', display_name: 'Sales' })).toMatchObject({
      sendAsEmail: 'sales@corp.example',
      displayName: 'Sales',
      treatAsAlias: true,
      isPrimary: false,
      verificationStatus: 'pending',
    });
    expect(await h.run(verifySendAs, { send_as_email: 'sales@corp.example' })).toEqual({
      success: true,
      sendAsEmail: 'sales@corp.example',
    });
    expect(await h.run(getSendAs, { send_as_email: 'sales@corp.example' })).toMatchObject({
      verificationStatus: 'pending',
    });
    expect(await h.run(deleteSendAs, { send_as_email: 'sales@corp.example' })).toEqual({
      success: true,
      sendAsEmail: 'sales@corp.example',
    });
    await expect(h.run(getSendAs, { send_as_email: 'sales@corp.example' })).rejects.toMatchObject({
      code: 'provider_not_found',
    });
    // The primary address stays, and an accepted alias cannot be "verified" again.
    await expect(h.run(deleteSendAs, { send_as_email: JOHN })).rejects.toMatchObject({ code: 'provider_bad_request' });
    await expect(h.run(verifySendAs, { send_as_email: JOHN })).rejects.toMatchObject({ code: 'provider_bad_request' });
  });

  test('gmail_list_delegates and gmail_create_delegate', async () => {
    const alex = h.contextFor({ email: 'alex.rivera@example.com' });
    expect(await h.run(listDelegates, {}, alex)).toEqual({ delegates: [] });
    expect(await h.run(createDelegate, { delegate_email: 'mei.tanaka@example.com' }, alex)).toEqual({
      delegateEmail: 'mei.tanaka@example.com',
      verificationStatus: 'accepted',
    });
    expect(await h.run(listDelegates, {}, alex)).toEqual({
      delegates: [{ delegateEmail: 'mei.tanaka@example.com', verificationStatus: 'accepted' }],
    });
    await expect(h.run(createDelegate, { delegate_email: 'assistant@corp.example' }, alex)).rejects.toMatchObject({
      code: 'provider_bad_request',
    });
  });
});

describe('gmail contact tools against the sandbox People API', () => {
  interface Person {
    resourceName: string;
    names?: { displayName: string }[];
    emailAddresses?: { value: string }[];
    phoneNumbers?: { value: string }[];
    organizations?: { name: string }[];
  }

  /** Sees each URL the tool sends, then lets the request through to the sandbox. */
  function spying(): { urls: URL[]; fetch: typeof fetch } {
    const urls: URL[] = [];
    const spy: typeof fetch = (input, init) => {
      urls.push(new URL(input instanceof Request ? input.url : String(input)));
      return h.sandbox.fetch(input, init);
    };
    return { urls, fetch: spy };
  }

  test('gmail_get_contacts pages through the saved contacts with the default fields', async () => {
    const first = await h.run<{ connections: Person[]; nextPageToken?: string; totalPeople: number }>(getContacts, {
      max_results: 5,
    });
    expect(first.connections).toHaveLength(5);
    expect(first.totalPeople).toBeGreaterThan(5);
    expect(first.nextPageToken).toEqual(expect.any(String));
    const rest = await h.run<{ connections: Person[]; nextPageToken?: string }>(getContacts, {
      max_results: 5,
      page_token: first.nextPageToken,
    });
    const everyone = [...first.connections, ...rest.connections];
    expect(everyone).toHaveLength(first.totalPeople);
    expect(rest.nextPageToken).toBeUndefined();
    const sarah = everyone.find((person) => person.names?.[0]?.displayName === 'Sarah Lee');
    expect(sarah).toMatchObject({
      resourceName: expect.stringMatching(/^people\/c\d+$/),
      emailAddresses: [{ value: 'sarah.lee@globex.example' }, { value: 'sarah.lee.home@mail.example' }],
      phoneNumbers: [{ value: '+1 415-555-0187' }],
    });
    expect(sarah?.organizations).toBeUndefined();
    const emails = everyone.flatMap((person) => person.emailAddresses?.map((email) => email.value) ?? []);
    expect(emails).toContain('jane.doe@example.com');
  });

  test('gmail_get_contacts returns the person_fields asked for, and needs a contacts scope', async () => {
    const some = await h.run<{ connections: Person[] }>(getContacts, {
      max_results: 50,
      person_fields: ['names', 'organizations'],
    });
    expect(some.connections.find((person) => person.organizations?.[0]?.name === 'Globex')).toBeDefined();
    expect(some.connections.every((person) => person.emailAddresses === undefined)).toBe(true);
    await expect(h.run(getContacts, {}, h.contextFor({ scopes: [SCOPE.full] }))).rejects.toMatchObject({
      code: 'insufficient_scope',
    });
  });

  test('gmail_search_people warms the cache with an empty query, then finds saved contacts', async () => {
    const spy = spying();
    const found = await h.run<{ results: { person: Person }[] }>(
      searchPeople,
      { query: 'sarah' },
      h.contextFor({ fetch: spy.fetch }),
    );
    expect(spy.urls.map((url) => [url.pathname, url.searchParams.get('query')])).toEqual([
      ['/v1/people:searchContacts', ''],
      ['/v1/people:searchContacts', 'sarah'],
    ]);
    expect(found.results).toEqual([
      {
        person: expect.objectContaining({
          names: [expect.objectContaining({ displayName: 'Sarah Lee' })],
          phoneNumbers: [expect.objectContaining({ value: '+1 415-555-0187' })],
        }),
      },
    ]);
    expect(await h.run(searchPeople, { query: 'zzz-nobody' })).toEqual({ results: [] });
  });

  test('gmail_search_people searches other contacts with their allowed fields and scope', async () => {
    const spy = spying();
    const other = h.contextFor({ scopes: [SCOPE.otherContactsReadonly], fetch: spy.fetch });
    const found = await h.run<{ results: { person: Person }[] }>(
      searchPeople,
      { query: 'billing', other_contacts: true, person_fields: ['names', 'organizations'] },
      other,
    );
    expect(spy.urls.at(-1)?.pathname).toBe('/v1/otherContacts:search');
    expect(spy.urls.at(-1)?.searchParams.get('readMask')).toBe('names');
    expect(found.results.map((result) => result.person.resourceName)).toEqual([
      expect.stringMatching(/^otherContacts\/c\d+$/),
    ]);
    expect(found.results[0]?.person.names?.[0]?.displayName).toBe('Acme Billing');
    // contacts.readonly alone does not reach "other contacts".
    await expect(
      h.run(
        searchPeople,
        { query: 'billing', other_contacts: true },
        h.contextFor({ scopes: [SCOPE.contactsReadonly] }),
      ),
    ).rejects.toMatchObject({ code: 'insufficient_scope' });
  });
});
