import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { attachmentSchema, type GmailMessagePart, messageSchema, parseResponse } from '../gmail-types.js';
import { decodeBase64Url, decodeCharset } from '../message-format.js';
import { messageIdField } from '../params.js';
import { READ_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

/** Attachments decoded to text for the caller when their type is textual and they are this small. */
const MAX_TEXT_BYTES = 1_000_000;

/**
 * Larger attachments are described but not returned: 5 MB is about 6.7 MB of base64url, which
 * fits the default 10 MB result limit with room for the rest, and more than a model can read
 * anyway (a 20 MB PDF came back as a 28 MB MCP result, and 12 of them at once took 1.1 GB).
 * Cutting a binary file short would hand over bytes no program can open, so an agent gets
 * the size and a note it can relay to the user instead.
 */
export const MAX_INLINE_ATTACHMENT_BYTES = 5_000_000;

const TEXT_TYPES =
  /^(text\/|application\/(json|xml|csv|x-yaml|yaml|javascript|x-sh|ld\+json)|image\/svg\+xml|message\/)/i;

function findPart(part: GmailMessagePart | undefined, attachmentId: string): GmailMessagePart | undefined {
  if (!part) return undefined;
  if (part.body?.attachmentId === attachmentId) return part;
  for (const child of part.parts ?? []) {
    const found = findPart(child, attachmentId);
    if (found) return found;
  }
  return undefined;
}

function findByName(part: GmailMessagePart | undefined, filename: string): GmailMessagePart | undefined {
  if (!part) return undefined;
  if (part.filename === filename) return part;
  for (const child of part.parts ?? []) {
    const found = findByName(child, filename);
    if (found) return found;
  }
  return undefined;
}

export const getAttachmentById = defineTool({
  name: 'gmail_get_attachment_by_id',
  description: [
    "Download one attachment of an email, using the `attachmentId` listed in the message's `attachments` (from gmail_fetch_mails, gmail_get_message_by_id or gmail_get_thread_by_id).",
    "Textual attachments (text/*, JSON, CSV, XML, up to 1 MB) come back decoded in `text`; anything else up to 5 MB comes back as base64url in `data` (Gmail's encoding).",
    'Larger attachments are not returned: `note` says so and gives their size.',
    'Returns { attachmentId, messageId, filename, mimeType, size, text? | data? | note? }.',
  ].join(' '),
  input: z.object({
    message_id: messageIdField.describe('Id of the message the attachment belongs to.'),
    attachment_id: z.string().min(1).describe("The `attachmentId` from the message's `attachments` list."),
    file_name: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The attachment's filename, as listed; helps find its type, since Gmail may renew attachment ids between reads.",
      ),
  }),
  annotations: readOnly('Get email attachment'),
  scopes: READ_SCOPES,
  async run(input, ctx) {
    // The message first: its part gives the attachment's size, so an oversized one is never downloaded.
    const message = parseResponse(
      messageSchema,
      await ctx.api.request({ url: gmailUrl(`messages/${segment(input.message_id)}`), query: { format: 'full' } }),
      'message',
    );
    const part =
      findPart(message.payload, input.attachment_id) ??
      (input.file_name ? findByName(message.payload, input.file_name) : undefined);
    const mimeType = part?.mimeType ?? 'application/octet-stream';
    const filename = part?.filename || input.file_name || '';
    const described = {
      attachmentId: input.attachment_id,
      messageId: input.message_id,
      filename,
      mimeType,
    };
    const tooLarge = (size: number) => ({
      ...described,
      size,
      note: `This attachment is ${size} bytes, larger than the ${MAX_INLINE_ATTACHMENT_BYTES} bytes a tool result carries, so its content is not returned. Tell the user to open it in Gmail.`,
    });
    const listedSize = part?.body?.size;
    if (listedSize !== undefined && listedSize > MAX_INLINE_ATTACHMENT_BYTES) return tooLarge(listedSize);

    const attachment = parseResponse(
      attachmentSchema,
      await ctx.api.request({
        url: gmailUrl(`messages/${segment(input.message_id)}/attachments/${segment(input.attachment_id)}`),
      }),
      'attachment',
    );
    const data = attachment.data ?? '';
    // base64url without padding: 4 characters carry 3 bytes.
    const size = attachment.size ?? Math.floor((data.length * 3) / 4);
    if (size > MAX_INLINE_ATTACHMENT_BYTES) return tooLarge(size);
    const bytes = decodeBase64Url(data);
    const result = { ...described, size };
    if (TEXT_TYPES.test(mimeType) && bytes.byteLength <= MAX_TEXT_BYTES) {
      const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(
        part?.headers?.find((header) => header.name.toLowerCase() === 'content-type')?.value ?? '',
      )?.[1];
      return { ...result, text: decodeCharset(bytes, charset) };
    }
    return { ...result, data };
  },
});
