import { type Address, addressParser } from 'postal-mime';
import { AppError } from '../../errors.js';
import { htmlToText } from './html-text.js';
import { encodeBase64Url } from './message-format.js';

/**
 * Builds outgoing RFC 5322 messages for messages.send, drafts.create and drafts.update,
 * which take the whole message base64url-encoded as `raw`. Non-ASCII header text becomes
 * RFC 2047 encoded-words, non-ASCII bodies are base64 with charset UTF-8, and an HTML body
 * travels as multipart/alternative with a plain-text twin for clients that show no HTML.
 */

export interface OutgoingEmail {
  to: string;
  cc?: string | undefined;
  bcc?: string | undefined;
  subject: string;
  body: string;
  contentType: 'text/plain' | 'text/html';
  inReplyTo?: string | undefined;
  references?: string | undefined;
}

const CRLF = '\r\n';
// RFC 2047 §2: an encoded-word is at most 75 characters; 45 bytes of UTF-8 encode to 60.
const ENCODED_WORD_BYTES = 45;
const BASE64_LINE = 76;

const NON_ASCII = /[^\x20-\x7e]/;

/** `=?UTF-8?B?…?=` words, split on character boundaries, folded with CRLF + space. */
export function encodeWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  let chunkBytes = 0;
  for (const char of text) {
    const bytes = Buffer.byteLength(char, 'utf8');
    if (chunkBytes + bytes > ENCODED_WORD_BYTES && chunk) {
      words.push(chunk);
      chunk = '';
      chunkBytes = 0;
    }
    chunk += char;
    chunkBytes += bytes;
  }
  if (chunk) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join(`${CRLF} `);
}

/** An unstructured header value (Subject): plain when printable ASCII and short, else encoded. */
export function encodeUnstructured(value: string): string {
  const flat = value.replace(/\r?\n/g, ' ');
  return NON_ASCII.test(flat) || flat.length > 900 ? encodeWords(flat) : flat;
}

function encodeDisplayName(name: string): string {
  if (NON_ASCII.test(name)) return encodeWords(name);
  // RFC 5322 specials force a quoted-string.
  return /[()<>[\]:;@\\,."]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name;
}

/** A character no bare address may hold (whitespace, a second `@`, or one of RFC 5322's specials). */
const ADDRESS_SPECIAL = /[\s@<>(),;:"[\]]/;

/**
 * `local@domain.tld`: one `@`, no specials, a dot inside the domain. Checked in one pass: the
 * pattern this replaces (`^[^…]+@[^…]+\.[^…]+$`) backtracked quadratically on an
 * agent-supplied address of many dots followed by an invalid character.
 */
export function isEmailAddress(address: string): boolean {
  const at = address.indexOf('@');
  if (at <= 0) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (ADDRESS_SPECIAL.test(local) || ADDRESS_SPECIAL.test(domain)) return false;
  return domain.slice(1, -1).includes('.');
}

function flatten(addresses: Address[]): { name: string; address: string }[] {
  return addresses.flatMap((entry) => (entry.group ? entry.group : [entry]));
}

/**
 * Parses a comma-separated recipient list and re-serializes it safely. Throws
 * tool_input_invalid naming the field when an entry is not an email address.
 */
export function formatAddressList(value: string, field: string): string {
  if (/[\r\n]/.test(value)) throw new AppError('tool_input_invalid', `${field} must not contain line breaks`);
  const parsed = flatten(addressParser(value));
  if (parsed.length === 0) throw new AppError('tool_input_invalid', `${field} holds no email address`);
  return parsed
    .map(({ name, address }) => {
      if (!isEmailAddress(address)) {
        throw new AppError('tool_input_invalid', `${field}: "${address || name}" is not a valid email address`);
      }
      return name ? `${encodeDisplayName(name)} <${address}>` : address;
    })
    .join(`,${CRLF} `);
}

/** RFC 5322 date-time in UTC, e.g. `Tue, 05 Mar 2024 09:30:00 +0000`. */
export function rfc5322Date(ms: number): string {
  const date = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${months[date.getUTCMonth()]} ${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

function textPart(mimeSubtype: 'plain' | 'html', text: string): string {
  const normalized = text.replace(/\r?\n/g, CRLF);
  const sevenBit =
    !NON_ASCII.test(normalized.replace(/\r\n/g, '').replace(/\t/g, ' ')) &&
    normalized.split(CRLF).every((line) => line.length <= 998);
  if (sevenBit) {
    return [
      `Content-Type: text/${mimeSubtype}; charset="UTF-8"`,
      'Content-Transfer-Encoding: 7bit',
      '',
      normalized,
    ].join(CRLF);
  }
  const base64 = Buffer.from(normalized, 'utf8').toString('base64');
  const lines = base64.match(new RegExp(`.{1,${BASE64_LINE}}`, 'g')) ?? [];
  return [`Content-Type: text/${mimeSubtype}; charset="UTF-8"`, 'Content-Transfer-Encoding: base64', '', ...lines].join(
    CRLF,
  );
}

function boundary(): string {
  return `sb_${crypto.randomUUID().replace(/-/g, '')}`;
}

function messageIdList(value: string): string {
  if (/[\r\n]/.test(value)) throw new AppError('tool_input_invalid', 'message ids must not contain line breaks');
  return value.trim();
}

/** The full RFC 5322 text of an outgoing email, CRLF line ends. */
export function buildEmail(email: OutgoingEmail, now: number): string {
  const headers: string[] = [];
  headers.push(`To: ${formatAddressList(email.to, 'to')}`);
  if (email.cc?.trim()) headers.push(`Cc: ${formatAddressList(email.cc, 'cc')}`);
  // Gmail reads Bcc from the raw message to route copies and removes it before delivery.
  if (email.bcc?.trim()) headers.push(`Bcc: ${formatAddressList(email.bcc, 'bcc')}`);
  headers.push(`Subject: ${encodeUnstructured(email.subject)}`);
  headers.push(`Date: ${rfc5322Date(now)}`);
  if (email.inReplyTo) headers.push(`In-Reply-To: ${messageIdList(email.inReplyTo)}`);
  if (email.references) headers.push(`References: ${messageIdList(email.references)}`);
  headers.push('MIME-Version: 1.0');

  if (email.contentType === 'text/plain') {
    return [...headers, textPart('plain', email.body)].join(CRLF);
  }
  const mark = boundary();
  return [
    ...headers,
    `Content-Type: multipart/alternative; boundary="${mark}"`,
    '',
    `--${mark}`,
    textPart('plain', htmlToText(email.body)),
    `--${mark}`,
    textPart('html', email.body),
    `--${mark}--`,
    '',
  ].join(CRLF);
}

/** The message as Gmail's `raw` field wants it: base64url of the RFC 5322 bytes. */
export function buildRawEmail(email: OutgoingEmail, now: number): string {
  return encodeBase64Url(buildEmail(email, now));
}

/**
 * `raw_message` of the insert/import tools: RFC 822 text, or the same already encoded as
 * base64/base64url. Returned as base64url either way.
 */
export function rawMessageParam(value: string): string {
  const compact = value.replace(/\s+/g, '');
  // A message in clear always has a "Name: value" header; encoded data has no colon.
  if (!value.includes(':') && /^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) {
    return compact.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  if (!/^[!-9;-~]+:/m.test(value)) {
    throw new AppError('tool_input_invalid', 'raw_message must be an RFC 822 message (headers, blank line, body)');
  }
  return encodeBase64Url(value.replace(/\r?\n/g, CRLF));
}
