import type { Context } from 'hono';
import { z } from 'zod';
import { invalidArgument, notFound } from '../google-errors.js';
import type { MessageFormat } from './format.js';
import { UNASSIGNABLE_LABELS } from './labels.js';
import type { Mailbox, StoredMessage } from './mailbox.js';
import { parseMime } from './mime.js';
import { boolParam, forbidden, listParam } from './routes-support.js';
import type { GmailAccess } from './routing.js';
import { parseQuery } from './search.js';

/** Request reading shared by the message, thread and draft routes. */

const FORMATS = ['full', 'metadata', 'minimal', 'raw'] as const;

export const rawMessageSchema = z.object({
  raw: z.string().optional(),
  threadId: z.string().optional(),
  labelIds: z.array(z.string()).optional(),
});

export const modifySchema = z.object({
  addLabelIds: z.array(z.string()).optional(),
  removeLabelIds: z.array(z.string()).optional(),
});

export const RAW_REQUIRED = "'raw' RFC822 payload message string or uploading message via /upload/* URL required";

export function decodeRaw(value: string): Uint8Array {
  // Node's base64 decoder reads both alphabets; Gmail accepts either in practice.
  return Buffer.from(value, 'base64');
}

/** The message of an upload (`uploadType=media` or `multipart`), and its JSON metadata. */
export async function readUpload(c: Context): Promise<{ raw: Uint8Array; metadata: unknown } | Response> {
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

export function findMessage(mailbox: Mailbox, id: string | undefined): StoredMessage | undefined {
  return id ? mailbox.messages.get(id) : undefined;
}

export function formatParam(c: Context, access: GmailAccess): MessageFormat | Response {
  const format = c.req.query('format') ?? 'full';
  if (!(FORMATS as readonly string[]).includes(format)) return invalidArgument(`Invalid format: ${format}`);
  if (access.metadataOnly && (format === 'full' || format === 'raw')) {
    return forbidden(`Metadata scope doesn't allow format ${format.toUpperCase()}`);
  }
  return format as MessageFormat;
}

export function checkLabels(mailbox: Mailbox, ids: string[]): Response | undefined {
  const bad = ids.find((id) => !mailbox.labels.has(id) || UNASSIGNABLE_LABELS.has(id));
  return bad === undefined ? undefined : invalidArgument(`Invalid label: ${bad}`);
}

/** Messages matching list parameters, newest first. */
export function search(c: Context, access: GmailAccess, now: number): StoredMessage[] | Response {
  const { mailbox } = access;
  const q = c.req.query('q') ?? '';
  if (q && access.metadataOnly) return forbidden("Metadata scope does not support 'q' parameter");
  const labelIds = listParam(c, 'labelIds');
  // Gmail refuses a label id the mailbox does not have instead of listing nothing.
  const unknownLabel = labelIds.find((id) => !mailbox.labels.has(id));
  if (unknownLabel !== undefined) return invalidArgument(`Invalid label: ${unknownLabel}`);
  const query = parseQuery(q, { now, userEmail: mailbox.user.email, labels: mailbox.labels });
  const showSpamTrash =
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

export function messagesFromBody(access: GmailAccess, ids: string[]): StoredMessage[] | Response {
  const found = ids.map((id) => access.mailbox.messages.get(id));
  if (found.some((message) => message === undefined)) return notFound();
  return found.filter((message): message is StoredMessage => message !== undefined);
}
