import { type Address, decodeWords } from 'postal-mime';
import type { GmailHeader, GmailMessage, GmailMessagePart } from './gmail-types.js';
import { htmlToText } from './html-text.js';
import { rawMailParser } from './raw-mail-parser.js';

/**
 * Gmail messages, turned from Gmail's MIME tree (or raw RFC 822 source) into the compact,
 * model-friendly shape every message tool returns: Gmail's own camelCase ids and labels,
 * the headers a reader needs, a decoded plain-text body, and attachments listed, never inlined.
 */

/** What a caller of a message tool can ask for; Gmail's own formats plus `full_html`. */
export const MESSAGE_FORMATS = ['full', 'full_html', 'metadata', 'minimal', 'raw'] as const;
export type MessageFormat = (typeof MESSAGE_FORMATS)[number];

/** The `format` query value sent to Gmail for each of our formats. */
export function gmailFormat(format: MessageFormat): 'full' | 'metadata' | 'minimal' | 'raw' {
  return format === 'full_html' ? 'full' : format;
}

/** Headers fetched in `metadata` format: the ones the compact shape shows. */
export const SUMMARY_HEADERS = ['From', 'To', 'Cc', 'Bcc', 'Reply-To', 'Subject', 'Date'];

export interface AttachmentSummary {
  filename: string;
  mimeType: string;
  size: number;
  /** For gmail_get_attachment_by_id; absent when the message was read in `raw` format. */
  attachmentId?: string;
}

export interface CompactMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  snippet: string;
  /** Milliseconds since the epoch when Gmail received the message, as Gmail gives it. */
  internalDate: string;
  /** The same instant as ISO 8601 UTC. */
  date: string;
  from?: string;
  to?: string;
  cc?: string;
  bcc?: string;
  replyTo?: string;
  subject?: string;
  body?: string;
  bodyTruncated?: true;
  html?: string;
  htmlTruncated?: true;
  attachments?: AttachmentSummary[];
  /** Only the headers a caller asked for by name (gmail_get_thread_by_id `metadata_headers`). */
  headers?: GmailHeader[];
  /** RFC 822 source, base64url, in `raw` format only. */
  raw?: string;
  /** Why the message lacks what its format promises: a `raw` source too costly to decode. */
  note?: string;
}

export interface CompactOptions {
  format: MessageFormat;
  /** Longest body (and html) kept, in characters. */
  maxBodyChars: number;
  /** Extra headers to list under `headers`. */
  headerNames?: string[];
  /** Loads a body part Gmail left out of the message because it is large. */
  loadPartData?: (attachmentId: string) => Promise<string | undefined>;
}

export function decodeBase64Url(data: string): Uint8Array {
  return new Uint8Array(Buffer.from(data, 'base64url'));
}

export function encodeBase64Url(data: string | Uint8Array): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)).toString('base64url');
}

/** The decoder of the common case, made once (`decode` without `stream` keeps no state). */
const utf8 = new TextDecoder('utf-8');

/** Decodes text in the given charset; unknown charsets fall back to UTF-8 rather than fail. */
export function decodeCharset(bytes: Uint8Array, charset: string | undefined): string {
  const name = charset?.trim().toLowerCase();
  if (!name || name === 'utf-8' || name === 'utf8') return utf8.decode(bytes);
  try {
    return new TextDecoder(name).decode(bytes);
  } catch {
    return utf8.decode(bytes);
  }
}

export function headerValue(headers: GmailHeader[] | undefined, name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers?.find((header) => header.name.toLowerCase() === lower)?.value;
}

/** Decodes RFC 2047 encoded-words (`=?UTF-8?B?…?=`) left in a header value. */
export function decodeHeader(value: string): string {
  return value.includes('=?') ? decodeWords(value) : value;
}

function contentTypeParam(contentType: string | undefined, param: string): string | undefined {
  if (!contentType) return undefined;
  const match = new RegExp(`;\\s*${param}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}

/**
 * Normalizes a plain-text body: LF line ends, no trailing spaces, no long runs of blank lines.
 * Trailing blanks are cut line by line: `/[ \t]+$/gm` retries from every blank of a run that
 * is not at a line end, which took 14 s on a mail of 60,000 spaces.
 */
export function normalizePlainText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[\u200b-\u200d\ufeff]/g, '')
    .split('\n')
    .map(withoutTrailingBlanks)
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function withoutTrailingBlanks(line: string): string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
  return end === line.length ? line : line.slice(0, end);
}

/**
 * Longest part of a body, in characters (UTF-16 code units; bytes for ASCII mail), that is
 * formatted into text: the rest is left out and the body says so. The formatters are linear
 * (1–90 ms per million characters of hostile markup on a loaded 2-core test machine, the
 * worst a mail of 90,000 never-closed links), so this bounds the time one mail
 * holds the event loop; the longest body a tool returns (50,000 characters) rarely needs
 * more than a tenth of it.
 */
export const MAX_FORMATTED_SOURCE_CHARS = 1_000_000;

/** Cuts text at a word boundary near `max` and says how much was left out. */
export function truncateText(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  let cut = text.lastIndexOf(' ', max);
  if (cut < max * 0.8) cut = max;
  return { text: `${text.slice(0, cut)}\n[… ${text.length - cut} more characters not shown]`, truncated: true };
}

function isoDate(internalDate: string | undefined): string {
  const ms = Number(internalDate);
  return Number.isFinite(ms) && internalDate ? new Date(ms).toISOString() : '';
}

function base(message: GmailMessage): CompactMessage {
  return {
    id: message.id,
    threadId: message.threadId ?? '',
    labelIds: message.labelIds ?? [],
    snippet: message.snippet ? htmlSnippet(message.snippet) : '',
    internalDate: message.internalDate ?? '',
    date: isoDate(message.internalDate),
  };
}

// Gmail's snippet is HTML-escaped text ("&#39;", "&amp;").
function htmlSnippet(snippet: string): string {
  return snippet.includes('&') ? htmlToText(snippet) : snippet;
}

function addAddressHeaders(target: CompactMessage, headers: GmailHeader[] | undefined): void {
  const pick = (name: string) => {
    const value = headerValue(headers, name);
    return value === undefined ? undefined : decodeHeader(value).trim();
  };
  target.from = pick('From') ?? '';
  target.to = pick('To') ?? '';
  const cc = pick('Cc');
  if (cc) target.cc = cc;
  const bcc = pick('Bcc');
  if (bcc) target.bcc = bcc;
  const replyTo = pick('Reply-To');
  if (replyTo) target.replyTo = replyTo;
  target.subject = pick('Subject') ?? '';
}

function addRequestedHeaders(target: CompactMessage, headers: GmailHeader[] | undefined, names: string[] | undefined) {
  if (!names?.length) return;
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  target.headers = (headers ?? [])
    .filter((header) => wanted.has(header.name.toLowerCase()))
    .map((header) => ({ name: header.name, value: decodeHeader(header.value) }));
}

interface CollectedParts {
  plain: GmailMessagePart[];
  html: GmailMessagePart[];
  attachments: AttachmentSummary[];
}

function isAttachment(part: GmailMessagePart): boolean {
  if (part.filename) return true;
  const disposition = headerValue(part.headers, 'Content-Disposition') ?? '';
  return /^\s*attachment/i.test(disposition);
}

function collectParts(part: GmailMessagePart, into: CollectedParts): void {
  if (part.parts?.length) {
    for (const child of part.parts) collectParts(child, into);
    return;
  }
  const mimeType = (part.mimeType ?? '').toLowerCase();
  if (isAttachment(part)) {
    into.attachments.push({
      filename: part.filename ?? '',
      mimeType: part.mimeType ?? 'application/octet-stream',
      size: part.body?.size ?? 0,
      ...(part.body?.attachmentId ? { attachmentId: part.body.attachmentId } : {}),
    });
  } else if (mimeType === 'text/plain') {
    into.plain.push(part);
  } else if (mimeType === 'text/html') {
    into.html.push(part);
  } else if (part.body?.attachmentId) {
    // An unnamed non-text part (an inline image without a filename): still fetchable.
    into.attachments.push({
      filename: '',
      mimeType: part.mimeType ?? 'application/octet-stream',
      size: part.body.size ?? 0,
      attachmentId: part.body.attachmentId,
    });
  }
}

async function partText(part: GmailMessagePart, options: CompactOptions): Promise<string> {
  let data = part.body?.data;
  // Gmail moves a large text part out of the message, like an attachment without a name.
  if (!data && part.body?.attachmentId && options.loadPartData)
    data = await options.loadPartData(part.body.attachmentId);
  if (!data) return '';
  const charset = contentTypeParam(headerValue(part.headers, 'Content-Type'), 'charset');
  return decodeCharset(decodeBase64Url(data), charset);
}

/** The body's text, from at most MAX_FORMATTED_SOURCE_CHARS of its source. */
function formatBody(plain: string, html: string): { text: string; unread: number } {
  const usePlain = plain.trim() !== '';
  const source = usePlain ? plain : html;
  if (!source) return { text: '', unread: 0 };
  const read = source.length > MAX_FORMATTED_SOURCE_CHARS ? source.slice(0, MAX_FORMATTED_SOURCE_CHARS) : source;
  return { text: usePlain ? normalizePlainText(read) : htmlToText(read), unread: source.length - read.length };
}

function setBodies(target: CompactMessage, plain: string, html: string, options: CompactOptions): void {
  const formatted = formatBody(plain, html);
  const body = truncateText(formatted.text, options.maxBodyChars);
  target.body = body.text;
  if (formatted.unread > 0) target.body += `\n[… ${formatted.unread} more characters of the message source not read]`;
  if (body.truncated || formatted.unread > 0) target.bodyTruncated = true;
  if ((options.format === 'full_html' || options.format === 'raw') && html) {
    const cut = truncateText(html, options.maxBodyChars);
    target.html = cut.text;
    if (cut.truncated) target.htmlTruncated = true;
  }
}

/** The compact form of a message Gmail returned in `full`, `metadata` or `minimal` format. */
export async function compactMessage(message: GmailMessage, options: CompactOptions): Promise<CompactMessage> {
  if (options.format === 'raw') return compactRawMessage(message, options);
  const compact = base(message);
  if (options.format === 'minimal') return compact;
  const headers = message.payload?.headers;
  addAddressHeaders(compact, headers);
  addRequestedHeaders(compact, headers, options.headerNames);
  if (options.format === 'metadata') return compact;

  const collected: CollectedParts = { plain: [], html: [], attachments: [] };
  if (message.payload) collectParts(message.payload, collected);
  const plain = (await Promise.all(collected.plain.map((part) => partText(part, options)))).join('\n\n');
  const html = (await Promise.all(collected.html.map((part) => partText(part, options)))).join('\n');
  setBodies(compact, plain, html, options);
  compact.attachments = collected.attachments;
  return compact;
}

function formatAddress(address: Address): string {
  if (address.group) return `${address.name}: ${address.group.map(formatAddress).join(', ')};`;
  return address.name ? `${address.name} <${address.address}>` : address.address;
}

/** What a `raw` message whose source was too costly to parse (raw-mail-parser.ts) says instead of a body. */
export const RAW_TOO_COSTLY_NOTE =
  'The message source was too costly to decode here: headers, body and attachments are not listed, the whole RFC 822 source is in raw (base64url); format "full" reads them as Gmail decoded them.';

/** The compact form of a message read in `raw` format: the RFC 822 source parsed with postal-mime. */
async function compactRawMessage(message: GmailMessage, options: CompactOptions): Promise<CompactMessage> {
  const compact = base(message);
  if (!message.raw) return compact;
  const parse = await rawMailParser.parse(decodeBase64Url(message.raw));
  if ('tooCostly' in parse) {
    compact.body = '';
    compact.bodyTruncated = true;
    compact.note = RAW_TOO_COSTLY_NOTE;
    compact.raw = message.raw;
    return compact;
  }
  const email = parse.mail;
  addAddressHeaders(compact, email.headers);
  // postal-mime decodes address lists itself; its decoded form is the more readable one.
  if (email.from) compact.from = formatAddress(email.from);
  if (email.to) compact.to = email.to.map(formatAddress).join(', ');
  if (email.cc?.length) compact.cc = email.cc.map(formatAddress).join(', ');
  if (email.subject !== undefined) compact.subject = email.subject;
  addRequestedHeaders(compact, email.headers, options.headerNames);
  setBodies(compact, email.text ?? '', email.html ?? '', options);
  compact.attachments = email.attachments;
  compact.raw = message.raw;
  return compact;
}
