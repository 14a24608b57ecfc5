import type { Mailbox, StoredMessage } from './mailbox.js';
import type { MimeNode } from './mime.js';

/** JSON shapes of Gmail v1 resources, built from stored messages. */
export type MessageFormat = 'full' | 'metadata' | 'minimal' | 'raw';

export interface MessagePartBody {
  size: number;
  data?: string;
  attachmentId?: string;
}

export interface MessagePart {
  partId: string;
  mimeType: string;
  filename: string;
  headers: { name: string; value: string }[];
  body: MessagePartBody;
  parts?: MessagePart[];
}

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

function partOf(node: MimeNode, partId: string, message: StoredMessage): MessagePart {
  const part: MessagePart = {
    partId,
    mimeType: node.mimeType,
    filename: node.filename,
    headers: node.headers,
    body: { size: 0 },
  };
  if (node.parts.length > 0) {
    part.parts = node.parts.map((child, index) =>
      partOf(child, partId === '' ? String(index) : `${partId}.${index}`, message),
    );
    return part;
  }
  const attachmentId = message.attachmentIds.get(partId);
  if (attachmentId) part.body = { attachmentId, size: node.body.byteLength };
  else if (node.body.byteLength > 0) part.body = { size: node.body.byteLength, data: base64url(node.body) };
  return part;
}

export function messageRef(message: StoredMessage) {
  return { id: message.id, threadId: message.threadId };
}

export function messageLabels(message: StoredMessage) {
  return { id: message.id, threadId: message.threadId, labelIds: [...message.labelIds] };
}

export function formatMessage(message: StoredMessage, format: MessageFormat, metadataHeaders: string[] = []) {
  const base = {
    id: message.id,
    threadId: message.threadId,
    labelIds: [...message.labelIds],
    snippet: message.snippet,
    sizeEstimate: message.raw.byteLength,
    historyId: String(message.historyId),
    internalDate: String(message.internalDate),
  };
  switch (format) {
    case 'minimal':
      return base;
    case 'raw':
      return { ...base, raw: base64url(message.raw) };
    case 'metadata': {
      const wanted = metadataHeaders.map((name) => name.toLowerCase());
      const headers =
        wanted.length === 0
          ? message.tree.headers
          : message.tree.headers.filter((header) => wanted.includes(header.name.toLowerCase()));
      return { ...base, payload: { mimeType: message.tree.mimeType, headers } };
    }
    default:
      return { ...base, payload: partOf(message.tree, '', message) };
  }
}

export function attachmentOf(message: StoredMessage, attachmentId: string): { size: number; data: string } | undefined {
  for (const [partId, id] of message.attachmentIds) {
    if (id !== attachmentId) continue;
    let node: MimeNode | undefined = message.tree;
    for (const index of partId.split('.')) node = node?.parts[Number(index)];
    if (node) return { size: node.body.byteLength, data: base64url(node.body) };
  }
  return undefined;
}

export function labelWithCounts(mailbox: Mailbox, labelId: string) {
  const label = mailbox.labels.get(labelId);
  if (!label) return undefined;
  const messages = [...mailbox.messages.values()].filter((message) => message.labelIds.has(labelId));
  const threads = new Map<string, boolean>();
  for (const message of messages) {
    threads.set(message.threadId, (threads.get(message.threadId) ?? false) || message.labelIds.has('UNREAD'));
  }
  return {
    ...label,
    messagesTotal: messages.length,
    messagesUnread: messages.filter((message) => message.labelIds.has('UNREAD')).length,
    threadsTotal: threads.size,
    threadsUnread: [...threads.values()].filter(Boolean).length,
  };
}
