import { randomBytes } from 'node:crypto';
import type { SandboxUser } from '../context.js';
import { addressesOf, type Mailbox, type StoredMessage } from './mailbox.js';
import { formatRfc5322Date, headerValue, parseMime } from './mime.js';
import { parseQuery } from './search.js';

/** What happens to a message sent through Gmail: header completion, Sent copy, local delivery. */

export class DeliveryError extends Error {}

interface HeaderBlock {
  name: string;
  text: string;
}

function splitMessage(latin1: string): { blocks: HeaderBlock[]; separator: string; body: string } {
  const match = /\r?\n\r?\n/.exec(latin1);
  const head = match ? latin1.slice(0, match.index) : latin1;
  const body = match ? latin1.slice(match.index + match[0].length) : '';
  const blocks: HeaderBlock[] = [];
  for (const line of head.split(/\r?\n/)) {
    const last = blocks.at(-1);
    if (/^[ \t]/.test(line) && last) last.text += `\r\n${line}`;
    else
      blocks.push({
        name: line
          .slice(0, Math.max(line.indexOf(':'), 0))
          .trim()
          .toLowerCase(),
        text: line,
      });
  }
  return { blocks, separator: '\r\n\r\n', body };
}

function joinMessage(blocks: HeaderBlock[], body: string): Uint8Array {
  return Buffer.from(`${blocks.map((block) => block.text).join('\r\n')}\r\n\r\n${body}`, 'latin1');
}

/** Gmail fills in From, Date and Message-ID, and replaces a From the user may not send as. */
export function completeHeaders(raw: Uint8Array, sender: Mailbox, now: number): Uint8Array {
  const { blocks, body } = splitMessage(Buffer.from(raw).toString('latin1'));
  const user = sender.user;
  // A send-as alias still awaiting verification may not be used as From yet.
  const allowed = sender.settings.sendAs
    .filter((alias) => alias.verificationStatus !== 'pending')
    .map((alias) => alias.sendAsEmail.toLowerCase());
  const from = blocks.find((block) => block.name === 'from');
  const fromAddress = from ? addressesOf(from.text.slice(from.text.indexOf(':') + 1))[0] : undefined;
  const kept = blocks.filter((block) => block !== from || (fromAddress && allowed.includes(fromAddress)));
  const added: HeaderBlock[] = [];
  if (!kept.some((block) => block.name === 'from')) {
    const display = sender.settings.sendAs[0]?.displayName ?? user.name;
    added.push({ name: 'from', text: `From: ${display} <${user.email}>` });
  }
  if (!kept.some((block) => block.name === 'date')) {
    added.push({ name: 'date', text: `Date: ${formatRfc5322Date(new Date(now))}` });
  }
  if (!kept.some((block) => block.name === 'message-id')) {
    const domain = user.email.split('@')[1] ?? 'mail.gmail.com';
    added.push({ name: 'message-id', text: `Message-ID: <sandbox-${randomBytes(12).toString('hex')}@${domain}>` });
  }
  return joinMessage([...added, ...kept], body);
}

function withoutBcc(raw: Uint8Array): Uint8Array {
  const { blocks, body } = splitMessage(Buffer.from(raw).toString('latin1'));
  return joinMessage(
    blocks.filter((block) => block.name !== 'bcc'),
    body,
  );
}

function filterQuery(criteria: Record<string, unknown>): string {
  const parts: string[] = [];
  const quote = (value: string) => (/\s/.test(value) ? `"${value}"` : value);
  if (typeof criteria.from === 'string') parts.push(`from:${quote(criteria.from)}`);
  if (typeof criteria.to === 'string') parts.push(`to:${quote(criteria.to)}`);
  if (typeof criteria.subject === 'string') parts.push(`subject:${quote(criteria.subject)}`);
  if (typeof criteria.query === 'string') parts.push(criteria.query);
  if (typeof criteria.negatedQuery === 'string') parts.push(`-${quote(criteria.negatedQuery)}`);
  if (criteria.hasAttachment === true) parts.push('has:attachment');
  return parts.join(' ');
}

/** Runs the mailbox's filters over a newly delivered message, as Gmail does on arrival. */
export function applyFilters(mailbox: Mailbox, message: StoredMessage, now: number): void {
  for (const filter of mailbox.settings.filters) {
    const q = filterQuery(filter.criteria);
    if (!q) continue;
    const query = parseQuery(q, { now, userEmail: mailbox.user.email, labels: mailbox.labels });
    if (!query.predicate(message)) continue;
    mailbox.modify(
      message,
      (filter.action.addLabelIds ?? []).filter((id) => mailbox.labels.has(id)),
      filter.action.removeLabelIds ?? [],
    );
  }
}

export interface SendInput {
  sender: Mailbox;
  raw: Uint8Array;
  threadId: string | undefined;
  now: number;
  users: readonly SandboxUser[];
  mailboxOf: (user: SandboxUser) => Mailbox;
}

/** Sends: the Sent copy in the sender's mailbox, an Inbox copy for each sandbox user among the recipients. */
export function sendMessage(input: SendInput): StoredMessage {
  const raw = completeHeaders(input.raw, input.sender, input.now);
  const { headers } = parseMime(raw);
  const recipients = [...new Set(['to', 'cc', 'bcc'].flatMap((name) => addressesOf(headerValue(headers, name))))];
  if (recipients.length === 0) throw new DeliveryError('Recipient address required');
  const self = input.sender.user.email.toLowerCase();
  const labels = recipients.includes(self) ? ['SENT', 'INBOX', 'UNREAD'] : ['SENT'];
  const sent = input.sender.insert(raw, { labelIds: labels, threadId: input.threadId, internalDate: input.now });
  const delivered = withoutBcc(raw);
  for (const user of input.users) {
    const email = user.email.toLowerCase();
    if (email === self || !recipients.includes(email)) continue;
    const mailbox = input.mailboxOf(user);
    const copy = mailbox.insert(delivered, {
      labelIds: ['INBOX', 'UNREAD', 'CATEGORY_PERSONAL'],
      internalDate: input.now,
    });
    applyFilters(mailbox, copy, input.now);
  }
  return sent;
}
