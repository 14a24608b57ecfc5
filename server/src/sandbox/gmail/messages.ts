import type { Context } from 'hono';
import { z } from 'zod';
import { invalidArgument, notFound } from '../google-errors.js';
import { applyFilters, DeliveryError, sendMessage } from './delivery.js';
import { attachmentOf, formatMessage, messageLabels, messageRef } from './format.js';
import {
  checkLabels,
  decodeRaw,
  findMessage,
  formatParam,
  messagesFromBody,
  modifySchema,
  RAW_REQUIRED,
  rawMessageSchema,
  readUpload,
  search,
} from './message-requests.js';
import { listParam, noContent, paginate, readJson } from './routes-support.js';
import { G, type GmailAccess, type GmailRoutes, U } from './routing.js';
import { GMAIL_SCOPES } from './scopes.js';

const batchModifySchema = modifySchema.extend({ ids: z.array(z.string()).optional() });

/** Sends a raw message from the caller's mailbox, delivering it to local recipients (delivery.ts). */
export async function sendFrom(
  routes: GmailRoutes,
  c: Context,
  access: GmailAccess,
  raw: Uint8Array,
  threadId: string | undefined,
): Promise<Response> {
  if (raw.byteLength === 0) return invalidArgument(RAW_REQUIRED);
  try {
    const sent = sendMessage({
      sender: access.mailbox,
      raw,
      threadId,
      now: routes.ctx.clock.now(),
      users: routes.ctx.users,
      mailboxOf: routes.mailboxOf,
    });
    return c.json(messageLabels(sent));
  } catch (error) {
    if (error instanceof DeliveryError) return invalidArgument(error.message);
    throw error;
  }
}

/** users.messages.*: list, get, attachments, send, insert, import, modify, trash and delete. */
export function registerMessageRoutes(routes: GmailRoutes): void {
  const { route, ctx } = routes;

  route('GET', `${G}/messages`, GMAIL_SCOPES.read, 'ListMessages', (c, access) => {
    const found = search(c, access, ctx.clock.now());
    if (found instanceof Response) return found;
    const page = paginate(c, found, 100, 500);
    if (page instanceof Response) return page;
    return c.json({
      ...(page.items.length > 0 ? { messages: page.items.map(messageRef) } : {}),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      resultSizeEstimate: found.length,
    });
  });

  route('GET', `${G}/messages/:id`, GMAIL_SCOPES.read, 'GetMessage', (c, access) => {
    const message = findMessage(access.mailbox, c.req.param('id'));
    if (!message) return notFound();
    const format = formatParam(c, access);
    if (format instanceof Response) return format;
    return c.json(formatMessage(message, format, listParam(c, 'metadataHeaders')));
  });

  route(
    'GET',
    `${G}/messages/:messageId/attachments/:id`,
    GMAIL_SCOPES.readBodies,
    'GetAttachment',
    (c, { mailbox }) => {
      const message = findMessage(mailbox, c.req.param('messageId'));
      const attachment = message ? attachmentOf(message, c.req.param('id') ?? '') : undefined;
      if (!attachment) return notFound();
      return c.json(attachment);
    },
  );

  route('POST', `${G}/messages/send`, GMAIL_SCOPES.send, 'SendMessage', async (c, access) => {
    const body = await readJson(c, rawMessageSchema);
    if (body instanceof Response) return body;
    return sendFrom(routes, c, access, decodeRaw(body.raw ?? ''), body.threadId);
  });

  route('POST', `${U}/messages/send`, GMAIL_SCOPES.send, 'SendMessage', async (c, access) => {
    const upload = await readUpload(c);
    if (upload instanceof Response) return upload;
    const metadata = rawMessageSchema.safeParse(upload.metadata);
    return sendFrom(routes, c, access, upload.raw, metadata.success ? metadata.data.threadId : undefined);
  });

  function store(
    c: Context,
    access: GmailAccess,
    body: z.output<typeof rawMessageSchema>,
    raw: Uint8Array,
    defaultLabels: string[],
    defaultDateSource: 'receivedTime' | 'dateHeader',
  ) {
    if (raw.byteLength === 0) return invalidArgument(RAW_REQUIRED);
    const labelIds = [...new Set([...defaultLabels, ...(body.labelIds ?? [])])];
    const bad = labelIds.find((id) => !access.mailbox.labels.has(id));
    if (bad) return invalidArgument(`Invalid label: ${bad}`);
    const source = c.req.query('internalDateSource') ?? defaultDateSource;
    const message = access.mailbox.insert(raw, {
      labelIds,
      threadId: body.threadId,
      ...(source === 'receivedTime' ? { internalDate: ctx.clock.now() } : {}),
    });
    if (message.internalDate === 0) message.internalDate = ctx.clock.now();
    if (defaultLabels.includes('INBOX')) applyFilters(access.mailbox, message, ctx.clock.now());
    return c.json(messageLabels(message));
  }

  for (const [path, defaults, dateSource, name] of [
    ['messages', [] as string[], 'receivedTime', 'InsertMessage'],
    ['messages/import', ['INBOX', 'UNREAD'], 'dateHeader', 'ImportMessage'],
  ] as const) {
    route('POST', `${G}/${path}`, GMAIL_SCOPES.insert, name, async (c, access) => {
      const body = await readJson(c, rawMessageSchema);
      if (body instanceof Response) return body;
      return store(c, access, body, decodeRaw(body.raw ?? ''), [...defaults], dateSource);
    });
    route('POST', `${U}/${path}`, GMAIL_SCOPES.insert, name, async (c, access) => {
      const upload = await readUpload(c);
      if (upload instanceof Response) return upload;
      const metadata = rawMessageSchema.safeParse(upload.metadata);
      return store(c, access, metadata.success ? metadata.data : {}, upload.raw, [...defaults], dateSource);
    });
  }

  route('POST', `${G}/messages/batchModify`, GMAIL_SCOPES.modify, 'BatchModifyMessages', async (c, access) => {
    const body = await readJson(c, batchModifySchema);
    if (body instanceof Response) return body;
    const add = body.addLabelIds ?? [];
    const remove = body.removeLabelIds ?? [];
    const bad = checkLabels(access.mailbox, [...add, ...remove]);
    if (bad) return bad;
    if ((body.ids ?? []).length > 1000) return invalidArgument('Too many ids: at most 1000');
    const messages = messagesFromBody(access, body.ids ?? []);
    if (messages instanceof Response) return messages;
    for (const message of messages) access.mailbox.modify(message, add, remove);
    return noContent();
  });

  route('POST', `${G}/messages/batchDelete`, GMAIL_SCOPES.full, 'BatchDeleteMessages', async (c, access) => {
    const body = await readJson(c, z.object({ ids: z.array(z.string()).optional() }));
    if (body instanceof Response) return body;
    for (const id of body.ids ?? []) {
      const message = access.mailbox.messages.get(id);
      if (message) access.mailbox.remove(message);
    }
    return noContent();
  });

  route('POST', `${G}/messages/:id/modify`, GMAIL_SCOPES.modify, 'ModifyMessage', async (c, access) => {
    const body = await readJson(c, modifySchema);
    if (body instanceof Response) return body;
    const message = findMessage(access.mailbox, c.req.param('id'));
    if (!message) return notFound();
    const add = body.addLabelIds ?? [];
    const remove = body.removeLabelIds ?? [];
    const bad = checkLabels(access.mailbox, [...add, ...remove]);
    if (bad) return bad;
    access.mailbox.modify(message, add, remove);
    return c.json(messageLabels(message));
  });

  route('POST', `${G}/messages/:id/trash`, GMAIL_SCOPES.modify, 'TrashMessage', (c, access) => {
    const message = findMessage(access.mailbox, c.req.param('id'));
    if (!message) return notFound();
    access.mailbox.modify(message, ['TRASH'], []);
    return c.json(messageLabels(message));
  });

  route('POST', `${G}/messages/:id/untrash`, GMAIL_SCOPES.modify, 'UntrashMessage', (c, access) => {
    const message = findMessage(access.mailbox, c.req.param('id'));
    if (!message) return notFound();
    access.mailbox.modify(message, [], ['TRASH']);
    return c.json(messageLabels(message));
  });

  route('DELETE', `${G}/messages/:id`, GMAIL_SCOPES.full, 'DeleteMessage', (c, access) => {
    const message = findMessage(access.mailbox, c.req.param('id'));
    if (!message) return notFound();
    access.mailbox.remove(message);
    return noContent();
  });
}
