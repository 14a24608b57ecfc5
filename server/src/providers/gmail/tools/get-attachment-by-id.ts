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
    "Textual attachments (text/*, JSON, CSV, XML, up to 1 MB) come back decoded in `text`; anything else comes back as base64url in `data` (Gmail's encoding).",
    'Returns { attachmentId, messageId, filename, mimeType, size, text? | data? }.',
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
    const [attachment, message] = await Promise.all([
      ctx.api
        .request({
          url: gmailUrl(`messages/${segment(input.message_id)}/attachments/${segment(input.attachment_id)}`),
        })
        .then((answer) => parseResponse(attachmentSchema, answer, 'attachment')),
      ctx.api
        .request({ url: gmailUrl(`messages/${segment(input.message_id)}`), query: { format: 'full' } })
        .then((answer) => parseResponse(messageSchema, answer, 'message')),
    ]);
    const part =
      findPart(message.payload, input.attachment_id) ??
      (input.file_name ? findByName(message.payload, input.file_name) : undefined);
    const mimeType = part?.mimeType ?? 'application/octet-stream';
    const filename = part?.filename || input.file_name || '';
    const data = attachment.data ?? '';
    const bytes = decodeBase64Url(data);
    const result = {
      attachmentId: input.attachment_id,
      messageId: input.message_id,
      filename,
      mimeType,
      size: attachment.size ?? bytes.byteLength,
    };
    if (TEXT_TYPES.test(mimeType) && bytes.byteLength <= MAX_TEXT_BYTES) {
      const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(
        part?.headers?.find((header) => header.name.toLowerCase() === 'content-type')?.value ?? '',
      )?.[1];
      return { ...result, text: decodeCharset(bytes, charset) };
    }
    return { ...result, data };
  },
});
