import { decodeWords } from 'postal-mime';

/**
 * A small RFC 2045/2046 structure parser: Gmail's `payload` is the MIME tree itself
 * (partId, headers, body per part), which postal-mime flattens away, so the tree is ours.
 * Bodies are kept as bytes after the transfer encoding is undone, as Gmail returns them.
 */
export interface MimeHeader {
  name: string;
  value: string;
}

export interface MimeNode {
  headers: MimeHeader[];
  /** Lower-cased `type/subtype`. */
  mimeType: string;
  params: Record<string, string>;
  filename: string;
  /** Transfer-decoded content of a leaf; empty for a multipart. */
  body: Uint8Array;
  parts: MimeNode[];
}

const MAX_DEPTH = 20;

function splitHeaderAndBody(text: string): { head: string; body: string } {
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return { head: text, body: '' };
  return { head: text.slice(0, match.index), body: text.slice(match.index + match[0].length) };
}

/** Header values arrive as bytes: undo 8-bit UTF-8 and RFC 2047 encoded words. */
export function decodeHeaderValue(latin1: string): string {
  const utf8 = Buffer.from(latin1, 'latin1').toString('utf8');
  return decodeWords(utf8);
}

export function parseHeaders(head: string): MimeHeader[] {
  const headers: MimeHeader[] = [];
  for (const line of head.split(/\r?\n/)) {
    const last = headers.at(-1);
    if (/^[ \t]/.test(line) && last) {
      last.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return headers.map((header) => ({ name: header.name, value: decodeHeaderValue(header.value) }));
}

export function headerValue(headers: MimeHeader[], name: string): string | undefined {
  const wanted = name.toLowerCase();
  return headers.find((header) => header.name.toLowerCase() === wanted)?.value;
}

/** `type/subtype; a=b; c="d e"` → value and parameters (RFC 2231 `name*=` values decoded). */
export function parseParameterizedHeader(value: string): { value: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  const pattern = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  const semicolon = value.indexOf(';');
  const main = (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  for (const match of value.slice(Math.max(semicolon, 0)).matchAll(pattern)) {
    let key = (match[1] ?? '').toLowerCase();
    let raw = (match[2] ?? '').trim();
    if (raw.startsWith('"')) raw = raw.slice(1, -1).replace(/\\(.)/g, '$1');
    if (key.endsWith('*')) {
      key = key.slice(0, -1);
      const quote = raw.indexOf("'", raw.indexOf("'") + 1);
      try {
        raw = decodeURIComponent(quote >= 0 ? raw.slice(quote + 1) : raw);
      } catch {
        // keep the raw value when it is not valid percent-encoding
      }
    }
    params[key] = raw;
  }
  return { value: main, params };
}

function decodeQuotedPrintable(latin1: string): Uint8Array {
  const joined = latin1.replace(/=\r?\n/g, '');
  const decoded = joined.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  return Buffer.from(decoded, 'latin1');
}

function decodeTransfer(latin1: string, encoding: string): Uint8Array {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(latin1.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(latin1);
    default:
      return Buffer.from(latin1, 'latin1');
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = new RegExp(`(?:^|\\r?\\n)--${escapeRegExp(boundary)}(--)?[ \\t]*(?=\\r?\\n|$)`, 'g');
  const parts: string[] = [];
  let start: number | undefined;
  for (const match of body.matchAll(delimiter)) {
    if (start !== undefined) parts.push(body.slice(start, match.index).replace(/^\r?\n/, ''));
    if (match[1] === '--') return parts;
    start = match.index + match[0].length;
  }
  // A missing closing delimiter: keep what came after the last one, as mail readers do.
  if (start !== undefined) parts.push(body.slice(start).replace(/^\r?\n/, ''));
  return parts;
}

function parseNode(latin1: string, depth: number): MimeNode {
  const { head, body } = splitHeaderAndBody(latin1);
  const headers = parseHeaders(head);
  const contentType = parseParameterizedHeader(headerValue(headers, 'content-type') ?? 'text/plain');
  const disposition = parseParameterizedHeader(headerValue(headers, 'content-disposition') ?? '');
  const mimeType = contentType.value.includes('/') ? contentType.value : 'text/plain';
  const filename = decodeWords(disposition.params.filename ?? contentType.params.name ?? '');
  const boundary = contentType.params.boundary;
  if (mimeType.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
    return {
      headers,
      mimeType,
      params: contentType.params,
      filename,
      body: new Uint8Array(),
      parts: splitMultipart(body, boundary).map((part) => parseNode(part, depth + 1)),
    };
  }
  const encoding = headerValue(headers, 'content-transfer-encoding') ?? '7bit';
  return { headers, mimeType, params: contentType.params, filename, body: decodeTransfer(body, encoding), parts: [] };
}

export function parseMime(raw: Uint8Array): MimeNode {
  return parseNode(Buffer.from(raw).toString('latin1'), 0);
}

/** Every leaf in document order, with Gmail's partId (`0`, `1.0`, …; the root is ``). */
export function leavesOf(node: MimeNode, partId = ''): { node: MimeNode; partId: string }[] {
  if (node.parts.length === 0) return [{ node, partId }];
  return node.parts.flatMap((child, index) => leavesOf(child, partId === '' ? String(index) : `${partId}.${index}`));
}

export function isAttachment(node: MimeNode): boolean {
  return node.parts.length === 0 && node.filename !== '';
}

/** Text of the first leaf of a type, charset-decoded. */
export function textOf(node: MimeNode, mimeType: string): string | undefined {
  const leaf = leavesOf(node).find((entry) => entry.node.mimeType === mimeType && !isAttachment(entry.node));
  if (!leaf) return undefined;
  const charset = leaf.node.params.charset ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(leaf.node.body);
  } catch {
    return new TextDecoder('utf-8').decode(leaf.node.body);
  }
}

// ---- composing ------------------------------------------------------------------------

export interface ComposeAttachment {
  filename: string;
  mimeType: string;
  content: Uint8Array;
}

export interface ComposeInput {
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  date: Date;
  messageId: string;
  inReplyTo?: string;
  references?: string;
  text: string;
  html?: string;
  attachments?: ComposeAttachment[];
}

function encodeHeaderWord(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date in UTC, e.g. `Tue, 24 Nov 2026 16:32:21 +0000`. */
export function formatRfc5322Date(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

function base64Lines(bytes: Uint8Array): string {
  return (
    Buffer.from(bytes)
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\r\n');
}

function textPart(mimeType: string, text: string): string {
  return `Content-Type: ${mimeType}; charset="UTF-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(
    Buffer.from(text, 'utf8'),
  )}`;
}

/** Builds an RFC 822 message as it would leave a mail client; the result is ASCII. */
export function composeMessage(input: ComposeInput, boundarySeed: string): string {
  const headers = [
    `From: ${encodeHeaderWord(input.from)}`,
    `To: ${input.to.map(encodeHeaderWord).join(', ')}`,
    ...(input.cc?.length ? [`Cc: ${input.cc.map(encodeHeaderWord).join(', ')}`] : []),
    `Subject: ${encodeHeaderWord(input.subject)}`,
    `Date: ${formatRfc5322Date(input.date)}`,
    `Message-ID: ${input.messageId}`,
    ...(input.inReplyTo ? [`In-Reply-To: ${input.inReplyTo}`] : []),
    ...(input.references ? [`References: ${input.references}`] : []),
    'MIME-Version: 1.0',
  ];
  let body = input.html
    ? `Content-Type: multipart/alternative; boundary="alt-${boundarySeed}"\r\n\r\n--alt-${boundarySeed}\r\n${textPart(
        'text/plain',
        input.text,
      )}\r\n--alt-${boundarySeed}\r\n${textPart('text/html', input.html)}\r\n--alt-${boundarySeed}--`
    : textPart('text/plain', input.text);
  if (input.attachments?.length) {
    const attachments = input.attachments.map(
      (attachment) =>
        `Content-Type: ${attachment.mimeType}; name="${attachment.filename}"\r\nContent-Disposition: attachment; filename="${
          attachment.filename
        }"\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(attachment.content)}`,
    );
    body = `Content-Type: multipart/mixed; boundary="mix-${boundarySeed}"\r\n\r\n${[body, ...attachments]
      .map((part) => `--mix-${boundarySeed}\r\n${part}`)
      .join('\r\n')}\r\n--mix-${boundarySeed}--`;
  }
  return `${headers.join('\r\n')}\r\n${body}\r\n`;
}
