import { randomBytes } from 'node:crypto';
import { addressParser } from 'postal-mime';
import type { SandboxUser } from '../context.js';
import { htmlToText } from './html-text.js';
import { type Label, SYSTEM_LABELS } from './labels.js';
import { headerValue, isAttachment, leavesOf, type MimeNode, parseMime, textOf } from './mime.js';

export interface StoredMessage {
  id: string;
  threadId: string;
  labelIds: Set<string>;
  internalDate: number;
  historyId: number;
  raw: Uint8Array;
  tree: MimeNode;
  snippet: string;
  /** attachmentId by partId, for leaves that carry a filename. */
  attachmentIds: Map<string, string>;
  /** Lower-cased text used by search: headers and bodies. */
  search: {
    from: string;
    to: string;
    cc: string;
    bcc: string;
    subject: string;
    body: string;
    filenames: string[];
    messageId: string;
  };
}

export type HistoryType = 'messageAdded' | 'messageDeleted' | 'labelAdded' | 'labelRemoved';

export interface HistoryRecord {
  id: number;
  type: HistoryType;
  messageId: string;
  threadId: string;
  /** Labels of the message after the change (for messageAdded) or the labels changed. */
  labelIds: string[];
  /** Labels the message had right after the change, for the labelId filter. */
  messageLabels: string[];
}

export interface Filter {
  id: string;
  criteria: Record<string, unknown>;
  action: { addLabelIds?: string[]; removeLabelIds?: string[]; forward?: string };
}

export interface SendAs {
  sendAsEmail: string;
  displayName: string;
  replyToAddress: string;
  signature: string;
  isPrimary: boolean;
  isDefault: boolean;
  treatAsAlias: boolean;
  /** Absent on the primary address, as in Gmail's answers. */
  verificationStatus?: 'accepted' | 'pending';
}

export interface ForwardingAddress {
  forwardingEmail: string;
  verificationStatus: 'accepted' | 'pending';
}

export interface Delegate {
  delegateEmail: string;
  verificationStatus: 'accepted' | 'pending' | 'rejected' | 'expired';
}

export interface MailSettings {
  filters: Filter[];
  sendAs: SendAs[];
  forwardingAddresses: ForwardingAddress[];
  delegates: Delegate[];
  vacation: Record<string, unknown>;
  imap: Record<string, unknown>;
  pop: Record<string, unknown>;
  language: Record<string, unknown>;
  autoForwarding: Record<string, unknown>;
}

function hexId(): string {
  // Gmail ids are 16 hex digits; the leading 1 keeps them a constant width.
  return `1${randomBytes(8).toString('hex').slice(1)}`;
}

function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

// Gmail's snippet is HTML-escaped plain text of about 200 characters.
function snippetOf(text: string): string {
  return collapseWhitespace(text)
    .slice(0, 200)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Bare addresses of an address header, lower-cased. */
export function addressesOf(value: string | undefined): string[] {
  if (!value) return [];
  return addressParser(value, { flatten: true })
    .map((mailbox) => mailbox.address?.toLowerCase() ?? '')
    .filter(Boolean);
}

/** One user's Gmail: messages, labels, drafts, history and settings. */
export class Mailbox {
  readonly user: SandboxUser;
  historyId = 1000 + Math.floor(Math.random() * 9000);
  /** History before this id is gone; an older startHistoryId gets 404 like Gmail's. */
  oldestHistoryId: number;
  readonly messages = new Map<string, StoredMessage>();
  readonly labels = new Map<string, Label>();
  /** draft id → message id */
  readonly drafts = new Map<string, string>();
  readonly history: HistoryRecord[] = [];
  readonly settings: MailSettings;
  private nextUserLabel = 1;

  constructor(user: SandboxUser) {
    this.user = user;
    this.oldestHistoryId = this.historyId;
    for (const label of SYSTEM_LABELS) this.labels.set(label.id, { ...label });
    this.settings = {
      filters: [],
      sendAs: [
        {
          sendAsEmail: user.email,
          displayName: user.name,
          replyToAddress: '',
          signature: '',
          isPrimary: true,
          isDefault: true,
          treatAsAlias: false,
        },
      ],
      forwardingAddresses: [],
      delegates: [],
      vacation: {
        enableAutoReply: false,
        responseBodyPlainText: '',
        restrictToContacts: false,
        restrictToDomain: false,
      },
      imap: { enabled: true, autoExpunge: true, expungeBehavior: 'archive', maxFolderSize: 0 },
      pop: { accessWindow: 'disabled', disposition: 'leaveInInbox' },
      language: { displayLanguage: 'en' },
      autoForwarding: { enabled: false },
    };
  }

  /** Seeding writes no history: it happened "before" any client could have asked. */
  sealHistory(): void {
    this.oldestHistoryId = this.historyId;
    this.history.length = 0;
  }

  private record(type: HistoryType, message: StoredMessage, labelIds: string[]): void {
    this.historyId += 1;
    message.historyId = this.historyId;
    this.history.push({
      id: this.historyId,
      type,
      messageId: message.id,
      threadId: message.threadId,
      labelIds,
      messageLabels: [...message.labelIds],
    });
  }

  findThreadFor(tree: MimeNode): string | undefined {
    const refs = `${headerValue(tree.headers, 'in-reply-to') ?? ''} ${headerValue(tree.headers, 'references') ?? ''}`;
    // `[^<>]`: a match attempt stops at the next `<`, so a `<` without `>` costs no rescan.
    const ids: string[] = refs.match(/<[^<>]+>/g) ?? [];
    if (ids.length === 0) return undefined;
    for (const message of this.messages.values()) {
      if (ids.includes(message.search.messageId)) return message.threadId;
    }
    return undefined;
  }

  /** Stores a raw RFC 822 message. `threadId` is honoured when that thread exists. */
  insert(raw: Uint8Array, options: { labelIds: string[]; threadId?: string; internalDate?: number }): StoredMessage {
    const tree = parseMime(raw);
    const id = hexId();
    const threadId =
      (options.threadId && this.threadMessages(options.threadId).length > 0 ? options.threadId : undefined) ??
      this.findThreadFor(tree) ??
      id;
    const text = textOf(tree, 'text/plain') ?? htmlToText(textOf(tree, 'text/html') ?? '');
    const attachmentIds = new Map<string, string>();
    const filenames: string[] = [];
    for (const leaf of leavesOf(tree)) {
      if (!isAttachment(leaf.node)) continue;
      attachmentIds.set(leaf.partId, `ANGjdJ_sandbox_${randomBytes(24).toString('base64url')}`);
      filenames.push(leaf.node.filename.toLowerCase());
    }
    const date = Date.parse(headerValue(tree.headers, 'date') ?? '');
    const message: StoredMessage = {
      id,
      threadId,
      labelIds: new Set(options.labelIds),
      internalDate: options.internalDate ?? (Number.isNaN(date) ? 0 : date),
      historyId: this.historyId,
      raw,
      tree,
      snippet: snippetOf(text),
      attachmentIds,
      search: {
        from: (headerValue(tree.headers, 'from') ?? '').toLowerCase(),
        to: (headerValue(tree.headers, 'to') ?? '').toLowerCase(),
        cc: (headerValue(tree.headers, 'cc') ?? '').toLowerCase(),
        bcc: (headerValue(tree.headers, 'bcc') ?? '').toLowerCase(),
        subject: (headerValue(tree.headers, 'subject') ?? '').toLowerCase(),
        body: collapseWhitespace(text).toLowerCase(),
        filenames,
        messageId: (headerValue(tree.headers, 'message-id') ?? '').trim(),
      },
    };
    this.messages.set(id, message);
    this.record('messageAdded', message, [...message.labelIds]);
    return message;
  }

  modify(message: StoredMessage, add: string[], remove: string[]): void {
    const added = add.filter((label) => !message.labelIds.has(label));
    const removed = remove.filter((label) => message.labelIds.has(label) && !add.includes(label));
    for (const label of added) message.labelIds.add(label);
    for (const label of removed) message.labelIds.delete(label);
    if (added.length > 0) this.record('labelAdded', message, added);
    if (removed.length > 0) this.record('labelRemoved', message, removed);
  }

  remove(message: StoredMessage): void {
    this.messages.delete(message.id);
    for (const [draftId, messageId] of this.drafts) if (messageId === message.id) this.drafts.delete(draftId);
    this.record('messageDeleted', message, []);
  }

  threadMessages(threadId: string): StoredMessage[] {
    return [...this.messages.values()]
      .filter((message) => message.threadId === threadId)
      .sort((a, b) => a.internalDate - b.internalDate);
  }

  createLabel(input: Omit<Label, 'id' | 'type'>): Label {
    const label: Label = { ...input, id: `Label_${this.nextUserLabel++}`, type: 'user' };
    this.labels.set(label.id, label);
    return label;
  }

  deleteLabel(id: string): void {
    this.labels.delete(id);
    for (const message of this.messages.values()) this.modify(message, [], [id]);
  }

  newDraftId(): string {
    return `r${BigInt.asIntN(64, randomBytes(8).readBigInt64BE()).toString()}`;
  }
}
