import type { Context } from 'hono';
import { z } from 'zod';
import { invalidArgument, notFound } from '../google-errors.js';
import { formatMessage, type MessageFormat, messageLabels, messageRef } from './format.js';
import type { Mailbox } from './mailbox.js';
import { decodeRaw, formatParam, rawMessageSchema, readUpload, search } from './message-requests.js';
import { sendFrom } from './messages.js';
import { noContent, paginate, readJson } from './routes-support.js';
import { G, type GmailRoutes, U } from './routing.js';
import { GMAIL_SCOPES } from './scopes.js';

const draftSchema = z.object({ id: z.string().optional(), message: rawMessageSchema.optional() });

function draftJson(mailbox: Mailbox, draftId: string, format: MessageFormat | 'labels') {
  const message = mailbox.messages.get(mailbox.drafts.get(draftId) ?? '');
  if (!message) return undefined;
  return { id: draftId, message: format === 'labels' ? messageLabels(message) : formatMessage(message, format) };
}

async function draftInput(c: Context, upload: boolean) {
  if (!upload) {
    const body = await readJson(c, draftSchema);
    if (body instanceof Response) return body;
    return { id: body.id, raw: decodeRaw(body.message?.raw ?? ''), threadId: body.message?.threadId };
  }
  const received = await readUpload(c);
  if (received instanceof Response) return received;
  const metadata = draftSchema.safeParse(received.metadata);
  const data = metadata.success ? metadata.data : {};
  return { id: data.id, raw: received.raw, threadId: data.message?.threadId };
}

/** users.drafts.*: list, get, create, update, send and delete; a draft is a DRAFT-labelled message. */
export function registerDraftRoutes(routes: GmailRoutes): void {
  const { route, ctx } = routes;

  function saveDraft(mailbox: Mailbox, raw: Uint8Array, threadId: string | undefined, draftId?: string) {
    const id = draftId ?? mailbox.newDraftId();
    const previous = mailbox.messages.get(mailbox.drafts.get(id) ?? '');
    const message = mailbox.insert(raw, { labelIds: ['DRAFT'], threadId, internalDate: ctx.clock.now() });
    if (previous) mailbox.remove(previous);
    mailbox.drafts.set(id, message.id);
    return id;
  }

  route('GET', `${G}/drafts`, GMAIL_SCOPES.draftsRead, 'ListDrafts', (c, access) => {
    const found = search(c, access, ctx.clock.now());
    if (found instanceof Response) return found;
    const byMessage = new Map([...access.mailbox.drafts].map(([draftId, messageId]) => [messageId, draftId]));
    const drafts = found.flatMap((message) => {
      const id = byMessage.get(message.id);
      return id ? [{ id, message: messageRef(message) }] : [];
    });
    const page = paginate(c, drafts, 100, 500);
    if (page instanceof Response) return page;
    return c.json({
      ...(page.items.length > 0 ? { drafts: page.items } : {}),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      resultSizeEstimate: drafts.length,
    });
  });

  route('GET', `${G}/drafts/:id`, GMAIL_SCOPES.draftsRead, 'GetDraft', (c, access) => {
    const format = formatParam(c, access);
    if (format instanceof Response) return format;
    const draft = draftJson(access.mailbox, c.req.param('id') ?? '', format);
    return draft ? c.json(draft) : notFound();
  });

  for (const [prefix, upload] of [
    [G, false],
    [U, true],
  ] as const) {
    route('POST', `${prefix}/drafts`, GMAIL_SCOPES.drafts, 'CreateDraft', async (c, { mailbox }) => {
      const input = await draftInput(c, upload);
      if (input instanceof Response) return input;
      if (input.raw.byteLength === 0) return invalidArgument('Missing draft message');
      const id = saveDraft(mailbox, input.raw, input.threadId);
      return c.json(draftJson(mailbox, id, 'labels'));
    });

    route('PUT', `${prefix}/drafts/:id`, GMAIL_SCOPES.drafts, 'UpdateDraft', async (c, { mailbox }) => {
      const input = await draftInput(c, upload);
      if (input instanceof Response) return input;
      const id = c.req.param('id') ?? '';
      if (!mailbox.drafts.has(id)) return notFound();
      if (input.raw.byteLength === 0) return invalidArgument('Missing draft message');
      saveDraft(mailbox, input.raw, input.threadId, id);
      return c.json(draftJson(mailbox, id, 'labels'));
    });

    route('POST', `${prefix}/drafts/send`, GMAIL_SCOPES.drafts, 'SendDraft', async (c, access) => {
      const input = await draftInput(c, upload);
      if (input instanceof Response) return input;
      const { mailbox } = access;
      if (!input.id || !mailbox.drafts.has(input.id)) {
        return invalidArgument(input.id ? 'Invalid draft' : 'Missing draft id');
      }
      if (input.raw.byteLength > 0) saveDraft(mailbox, input.raw, input.threadId, input.id);
      const draftMessage = mailbox.messages.get(mailbox.drafts.get(input.id) ?? '');
      if (!draftMessage) return notFound();
      const response = await sendFrom(routes, c, access, draftMessage.raw, draftMessage.threadId);
      if (response.ok) {
        mailbox.drafts.delete(input.id);
        mailbox.remove(draftMessage);
      }
      return response;
    });
  }

  route('DELETE', `${G}/drafts/:id`, GMAIL_SCOPES.drafts, 'DeleteDraft', (c, { mailbox }) => {
    const id = c.req.param('id') ?? '';
    const message = mailbox.messages.get(mailbox.drafts.get(id) ?? '');
    if (!message) return notFound();
    mailbox.remove(message);
    mailbox.drafts.delete(id);
    return noContent();
  });
}
