import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { SandboxContext, SandboxPrincipal, SandboxUser } from '../context.js';
import { googleError, invalidArgument, notFound } from '../google-errors.js';
import { applyFilters, DeliveryError, sendMessage } from './delivery.js';
import {
  attachmentOf,
  formatMessage,
  labelWithCounts,
  type MessageFormat,
  messageLabels,
  messageRef,
} from './format.js';
import { UNASSIGNABLE_LABELS } from './labels.js';
import { Mailbox, type StoredMessage } from './mailbox.js';
import { parseMime } from './mime.js';
import { boolParam, forbidden, listParam, noContent, paginate, readJson } from './routes-support.js';
import { GMAIL_SCOPES, isMetadataOnly } from './scopes.js';
import { parseQuery } from './search.js';
import { seedMailbox } from './seed.js';
import { registerSettingsRoutes } from './settings.js';

/** What the Gmail emulator needs beyond the shared contract: the other users, for local delivery. */
export interface GmailContext extends SandboxContext {
  readonly users: readonly SandboxUser[];
  authenticate(request: Request, acceptedScopes: string[], method?: string): SandboxPrincipal | Response;
}

export interface GmailAccess {
  principal: SandboxPrincipal;
  mailbox: Mailbox;
  metadataOnly: boolean;
}

type Handler = (c: Context, access: GmailAccess) => Response | Promise<Response>;

const FORMATS = ['full', 'metadata', 'minimal', 'raw'] as const;

const rawMessageSchema = z.object({
  raw: z.string().optional(),
  threadId: z.string().optional(),
  labelIds: z.array(z.string()).optional(),
});
const draftSchema = z.object({ id: z.string().optional(), message: rawMessageSchema.optional() });
const modifySchema = z.object({
  addLabelIds: z.array(z.string()).optional(),
  removeLabelIds: z.array(z.string()).optional(),
});
const batchModifySchema = modifySchema.extend({ ids: z.array(z.string()).optional() });
const labelSchema = z.object({
  name: z.string().optional(),
  messageListVisibility: z.enum(['show', 'hide']).optional(),
  labelListVisibility: z.enum(['labelShow', 'labelShowIfUnread', 'labelHide']).optional(),
  color: z.object({ textColor: z.string().optional(), backgroundColor: z.string().optional() }).optional(),
});

const RAW_REQUIRED = "'raw' RFC822 payload message string or uploading message via /upload/* URL required";

function decodeRaw(value: string): Uint8Array {
  // Node's base64 decoder reads both alphabets; Gmail accepts either in practice.
  return Buffer.from(value, 'base64');
}

/** The message of an upload (`uploadType=media` or `multipart`), and its JSON metadata. */
async function readUpload(c: Context): Promise<{ raw: Uint8Array; metadata: unknown } | Response> {
  const uploadType = c.req.query('uploadType') ?? 'media';
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (uploadType === 'media') return { raw: bytes, metadata: {} };
  if (uploadType !== 'multipart') return invalidArgument(`Unsupported uploadType: ${uploadType}`);
  const contentType = c.req.header('content-type') ?? '';
  const envelope = Buffer.concat([Buffer.from(`Content-Type: ${contentType}\r\n\r\n`, 'latin1'), bytes]);
  const [metadataPart, mediaPart] = parseMime(envelope).parts;
  if (!mediaPart) return invalidArgument('Multipart upload needs a metadata part and a media part.');
  let metadata: unknown = {};
  try {
    const text = Buffer.from(metadataPart?.body ?? [])
      .toString('utf8')
      .trim();
    metadata = text ? JSON.parse(text) : {};
  } catch {
    return invalidArgument('Invalid JSON payload received.');
  }
  return { raw: mediaPart.body, metadata };
}

function colleagueOf(user: SandboxUser, users: readonly SandboxUser[]): SandboxUser | undefined {
  const index = users.findIndex((candidate) => candidate.email === user.email);
  return users.length > 1 ? users[(index + 1) % users.length] : undefined;
}

/** Gmail API v1 at Google's paths (`/gmail/v1/...` and `/upload/gmail/v1/...`). */
export function createGmailApi(ctx: GmailContext): Hono {
  const app = new Hono();
  const mailboxOf = (user: SandboxUser): Mailbox =>
    ctx.userData('gmail', user, (owner) => {
      const mailbox = new Mailbox(owner);
      seedMailbox(mailbox, ctx.clock.now(), colleagueOf(owner, ctx.users));
      return mailbox;
    });

  function route(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    scopes: string[],
    name: string,
    handler: Handler,
  ): void {
    app.on(method, path, async (c) => {
      const principal = ctx.authenticate(c.req.raw, scopes, `caribou.api.proto.MailboxService.${name}`);
      if (principal instanceof Response) return principal;
      const userId = c.req.param('userId') ?? 'me';
      if (userId !== 'me' && userId.toLowerCase() !== principal.user.email.toLowerCase()) {
        return forbidden(`Delegation denied for ${principal.user.email}`);
      }
      return handler(c, {
        principal,
        mailbox: mailboxOf(principal.user),
        metadataOnly: isMetadataOnly(principal.scopes),
      });
    });
  }

  const G = '/gmail/v1/users/:userId';
  const U = '/upload/gmail/v1/users/:userId';

  function findMessage(mailbox: Mailbox, id: string | undefined): StoredMessage | undefined {
    return id ? mailbox.messages.get(id) : undefined;
  }

  function formatParam(c: Context, access: GmailAccess): MessageFormat | Response {
    const format = c.req.query('format') ?? 'full';
    if (!(FORMATS as readonly string[]).includes(format)) return invalidArgument(`Invalid format: ${format}`);
    if (access.metadataOnly && (format === 'full' || format === 'raw')) {
      return forbidden(`Metadata scope doesn't allow format ${format.toUpperCase()}`);
    }
    return format as MessageFormat;
  }

  function checkLabels(mailbox: Mailbox, ids: string[]): Response | undefined {
    const bad = ids.find((id) => !mailbox.labels.has(id) || UNASSIGNABLE_LABELS.has(id));
    return bad === undefined ? undefined : invalidArgument(`Invalid label: ${bad}`);
  }

  /** Messages matching list parameters, newest first. */
  function search(c: Context, access: GmailAccess, includeSpamTrashByDefault = false): StoredMessage[] | Response {
    const { mailbox } = access;
    const q = c.req.query('q') ?? '';
    if (q && access.metadataOnly) return forbidden("Metadata scope does not support 'q' parameter");
    const labelIds = listParam(c, 'labelIds');
    // Gmail refuses a label id the mailbox does not have instead of listing nothing.
    const unknownLabel = labelIds.find((id) => !mailbox.labels.has(id));
    if (unknownLabel !== undefined) return invalidArgument(`Invalid label: ${unknownLabel}`);
    const query = parseQuery(q, { now: ctx.clock.now(), userEmail: mailbox.user.email, labels: mailbox.labels });
    const showSpamTrash =
      includeSpamTrashByDefault ||
      boolParam(c, 'includeSpamTrash') ||
      query.reachesSpamTrash ||
      labelIds.includes('SPAM') ||
      labelIds.includes('TRASH');
    return [...mailbox.messages.values()]
      .filter(
        (message) =>
          (showSpamTrash || (!message.labelIds.has('SPAM') && !message.labelIds.has('TRASH'))) &&
          labelIds.every((id) => message.labelIds.has(id)) &&
          query.predicate(message),
      )
      .sort((a, b) => b.internalDate - a.internalDate);
  }

  function messagesFromBody(access: GmailAccess, ids: string[]): StoredMessage[] | Response {
    const found = ids.map((id) => access.mailbox.messages.get(id));
    if (found.some((message) => message === undefined)) return notFound();
    return found.filter((message): message is StoredMessage => message !== undefined);
  }

  // ---- profile ----------------------------------------------------------------------------

  route('GET', `${G}/profile`, GMAIL_SCOPES.profile, 'GetProfile', (c, { mailbox }) => {
    const threads = new Set([...mailbox.messages.values()].map((message) => message.threadId));
    return c.json({
      emailAddress: mailbox.user.email,
      messagesTotal: mailbox.messages.size,
      threadsTotal: threads.size,
      historyId: String(mailbox.historyId),
    });
  });

  // ---- messages ---------------------------------------------------------------------------

  route('GET', `${G}/messages`, GMAIL_SCOPES.read, 'ListMessages', (c, access) => {
    const found = search(c, access);
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

  async function send(c: Context, access: GmailAccess, raw: Uint8Array, threadId: string | undefined) {
    if (raw.byteLength === 0) return invalidArgument(RAW_REQUIRED);
    try {
      const sent = sendMessage({
        sender: access.mailbox,
        raw,
        threadId,
        now: ctx.clock.now(),
        users: ctx.users,
        mailboxOf,
      });
      return c.json(messageLabels(sent));
    } catch (error) {
      if (error instanceof DeliveryError) return invalidArgument(error.message);
      throw error;
    }
  }

  route('POST', `${G}/messages/send`, GMAIL_SCOPES.send, 'SendMessage', async (c, access) => {
    const body = await readJson(c, rawMessageSchema);
    if (body instanceof Response) return body;
    return send(c, access, decodeRaw(body.raw ?? ''), body.threadId);
  });

  route('POST', `${U}/messages/send`, GMAIL_SCOPES.send, 'SendMessage', async (c, access) => {
    const upload = await readUpload(c);
    if (upload instanceof Response) return upload;
    const metadata = rawMessageSchema.safeParse(upload.metadata);
    return send(c, access, upload.raw, metadata.success ? metadata.data.threadId : undefined);
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

  // ---- threads ----------------------------------------------------------------------------

  function formatThread(mailbox: Mailbox, threadId: string, format: MessageFormat, metadataHeaders: string[]) {
    const messages = mailbox.threadMessages(threadId);
    return {
      id: threadId,
      historyId: String(Math.max(...messages.map((message) => message.historyId))),
      messages: messages.map((message) => formatMessage(message, format, metadataHeaders)),
    };
  }

  route('GET', `${G}/threads`, GMAIL_SCOPES.read, 'ListThreads', (c, access) => {
    const found = search(c, access);
    if (found instanceof Response) return found;
    const threads: { id: string; snippet: string; historyId: string }[] = [];
    const seen = new Set<string>();
    for (const message of found) {
      if (seen.has(message.threadId)) continue;
      seen.add(message.threadId);
      const all = access.mailbox.threadMessages(message.threadId);
      threads.push({
        id: message.threadId,
        snippet: message.snippet,
        historyId: String(Math.max(...all.map((entry) => entry.historyId))),
      });
    }
    const page = paginate(c, threads, 100, 500);
    if (page instanceof Response) return page;
    return c.json({
      ...(page.items.length > 0 ? { threads: page.items } : {}),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      resultSizeEstimate: threads.length,
    });
  });

  route('GET', `${G}/threads/:id`, GMAIL_SCOPES.read, 'GetThread', (c, access) => {
    const threadId = c.req.param('id') ?? '';
    if (access.mailbox.threadMessages(threadId).length === 0) return notFound();
    const format = formatParam(c, access);
    if (format instanceof Response) return format;
    if (format === 'raw') return invalidArgument('Invalid format: RAW is not supported for threads');
    return c.json(formatThread(access.mailbox, threadId, format, listParam(c, 'metadataHeaders')));
  });

  function threadChange(
    name: string,
    scopes: string[],
    path: string,
    change: (c: Context) => Promise<{ add: string[]; remove: string[] } | Response>,
  ): void {
    route('POST', `${G}/threads/:id${path}`, scopes, name, async (c, access) => {
      const labels = await change(c);
      if (labels instanceof Response) return labels;
      const threadId = c.req.param('id') ?? '';
      const messages = access.mailbox.threadMessages(threadId);
      if (messages.length === 0) return notFound();
      const bad = checkLabels(access.mailbox, [...labels.add, ...labels.remove]);
      if (bad) return bad;
      for (const message of messages) access.mailbox.modify(message, labels.add, labels.remove);
      return c.json(formatThread(access.mailbox, threadId, 'minimal', []));
    });
  }
  threadChange('ModifyThread', GMAIL_SCOPES.modify, '/modify', async (c) => {
    const body = await readJson(c, modifySchema);
    if (body instanceof Response) return body;
    return { add: body.addLabelIds ?? [], remove: body.removeLabelIds ?? [] };
  });
  threadChange('TrashThread', GMAIL_SCOPES.modify, '/trash', async () => ({ add: ['TRASH'], remove: [] }));
  threadChange('UntrashThread', GMAIL_SCOPES.modify, '/untrash', async () => ({ add: [], remove: ['TRASH'] }));

  route('DELETE', `${G}/threads/:id`, GMAIL_SCOPES.full, 'DeleteThread', (c, access) => {
    const messages = access.mailbox.threadMessages(c.req.param('id') ?? '');
    if (messages.length === 0) return notFound();
    for (const message of messages) access.mailbox.remove(message);
    return noContent();
  });

  // ---- labels -----------------------------------------------------------------------------

  route('GET', `${G}/labels`, GMAIL_SCOPES.labelsRead, 'ListLabels', (c, { mailbox }) =>
    c.json({ labels: [...mailbox.labels.values()] }),
  );

  route('GET', `${G}/labels/:id`, GMAIL_SCOPES.labelsRead, 'GetLabel', (c, { mailbox }) => {
    const label = labelWithCounts(mailbox, c.req.param('id') ?? '');
    return label ? c.json(label) : notFound();
  });

  function nameTaken(mailbox: Mailbox, name: string, exceptId?: string): boolean {
    const wanted = name.trim().toLowerCase();
    return [...mailbox.labels.values()].some((label) => label.id !== exceptId && label.name.toLowerCase() === wanted);
  }

  const labelExists = () =>
    googleError(409, { message: 'Label name exists or conflicts', reason: 'duplicate', status: 'ALREADY_EXISTS' });

  route('POST', `${G}/labels`, GMAIL_SCOPES.labelsWrite, 'CreateLabel', async (c, { mailbox }) => {
    const body = await readJson(c, labelSchema);
    if (body instanceof Response) return body;
    const name = body.name?.trim();
    if (!name) return invalidArgument('Invalid label name');
    if (nameTaken(mailbox, name)) return labelExists();
    const label = mailbox.createLabel({
      name,
      messageListVisibility: body.messageListVisibility ?? 'show',
      labelListVisibility: body.labelListVisibility ?? 'labelShow',
      ...(body.color ? { color: body.color } : {}),
    });
    return c.json(label);
  });

  for (const method of ['PATCH', 'PUT'] as const) {
    route(
      method,
      `${G}/labels/:id`,
      GMAIL_SCOPES.labelsWrite,
      method === 'PUT' ? 'UpdateLabel' : 'PatchLabel',
      async (c, { mailbox }) => {
        const body = await readJson(c, labelSchema);
        if (body instanceof Response) return body;
        const label = mailbox.labels.get(c.req.param('id') ?? '');
        if (!label) return notFound();
        if (label.type === 'system') return invalidArgument('Invalid update request');
        const name = body.name?.trim();
        if (method === 'PUT' && !name) return invalidArgument('Invalid label name');
        if (name !== undefined) {
          if (!name) return invalidArgument('Invalid label name');
          if (nameTaken(mailbox, name, label.id)) return labelExists();
          label.name = name;
        }
        if (body.messageListVisibility) label.messageListVisibility = body.messageListVisibility;
        if (body.labelListVisibility) label.labelListVisibility = body.labelListVisibility;
        if (body.color) label.color = body.color;
        return c.json(label);
      },
    );
  }

  route('DELETE', `${G}/labels/:id`, GMAIL_SCOPES.labelsWrite, 'DeleteLabel', (c, { mailbox }) => {
    const label = mailbox.labels.get(c.req.param('id') ?? '');
    if (!label) return notFound();
    if (label.type === 'system') return invalidArgument('Invalid delete request');
    mailbox.deleteLabel(label.id);
    return noContent();
  });

  // ---- drafts -----------------------------------------------------------------------------

  function draftJson(mailbox: Mailbox, draftId: string, format: MessageFormat | 'labels') {
    const message = mailbox.messages.get(mailbox.drafts.get(draftId) ?? '');
    if (!message) return undefined;
    return { id: draftId, message: format === 'labels' ? messageLabels(message) : formatMessage(message, format) };
  }

  function saveDraft(mailbox: Mailbox, raw: Uint8Array, threadId: string | undefined, draftId?: string) {
    const id = draftId ?? mailbox.newDraftId();
    const previous = mailbox.messages.get(mailbox.drafts.get(id) ?? '');
    const message = mailbox.insert(raw, { labelIds: ['DRAFT'], threadId, internalDate: ctx.clock.now() });
    if (previous) mailbox.remove(previous);
    mailbox.drafts.set(id, message.id);
    return id;
  }

  route('GET', `${G}/drafts`, GMAIL_SCOPES.draftsRead, 'ListDrafts', (c, access) => {
    const found = search(c, access);
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
      const response = await send(c, access, draftMessage.raw, draftMessage.threadId);
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

  // ---- history ----------------------------------------------------------------------------

  const historyTypes = ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'];

  route('GET', `${G}/history`, GMAIL_SCOPES.read, 'ListHistory', (c, { mailbox }) => {
    const startParam = c.req.query('startHistoryId');
    if (!startParam) return invalidArgument('Missing required parameter: startHistoryId');
    const start = Number(startParam);
    if (!Number.isInteger(start) || start < 0) return invalidArgument('Invalid startHistoryId');
    if (start < mailbox.oldestHistoryId) return notFound();
    const types = listParam(c, 'historyTypes');
    const unknownType = types.find((type) => !historyTypes.includes(type));
    if (unknownType) return invalidArgument(`Invalid value for historyTypes: ${unknownType}`);
    const labelId = c.req.query('labelId');
    const records = mailbox.history
      .filter(
        (record) =>
          record.id > start &&
          (types.length === 0 || types.includes(record.type)) &&
          (!labelId || record.messageLabels.includes(labelId) || record.labelIds.includes(labelId)),
      )
      .map((record) => {
        const message = { id: record.messageId, threadId: record.threadId };
        const withLabels = { ...message, labelIds: record.messageLabels };
        const detail =
          record.type === 'messageAdded'
            ? { messagesAdded: [{ message: withLabels }] }
            : record.type === 'messageDeleted'
              ? { messagesDeleted: [{ message }] }
              : {
                  [record.type === 'labelAdded' ? 'labelsAdded' : 'labelsRemoved']: [
                    { message: withLabels, labelIds: record.labelIds },
                  ],
                };
        return { id: String(record.id), messages: [message], ...detail };
      });
    const page = paginate(c, records, 100, 500);
    if (page instanceof Response) return page;
    return c.json({
      ...(page.items.length > 0 ? { history: page.items } : {}),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      historyId: String(mailbox.historyId),
    });
  });

  // ---- push notifications: accepted and ignored, there is no Pub/Sub offline ---------------

  route('POST', `${G}/watch`, GMAIL_SCOPES.read, 'Watch', (c, { mailbox }) =>
    c.json({ historyId: String(mailbox.historyId), expiration: String(ctx.clock.now() + 7 * 86_400_000) }),
  );
  route('POST', `${G}/stop`, GMAIL_SCOPES.read, 'Stop', () => noContent());

  registerSettingsRoutes(route, G, ctx.users);

  return app;
}

export type GmailRoute = (
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  scopes: string[],
  name: string,
  handler: Handler,
) => void;
