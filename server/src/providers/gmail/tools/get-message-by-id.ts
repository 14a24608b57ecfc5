import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { readMessage, SINGLE_BODY_CHARS } from '../message-reader.js';
import { messageFormatField, messageIdField } from '../params.js';
import { READ_METADATA_SCOPES } from '../scopes.js';

export const getMessageById = defineTool({
  name: 'gmail_get_message_by_id',
  description: [
    'Read one email by its Gmail message id, with a longer body limit than gmail_fetch_mails (up to 50,000 characters before trimming).',
    'Use it after gmail_fetch_mails, gmail_list_threads or gmail_list_history gave you an id; use gmail_get_thread_by_id to read the whole conversation.',
    'Returns { messages: [{ id, threadId, labelIds, snippet, internalDate, date, from, to, cc?, subject, body, html? (format "full_html"/"raw"), attachments: [{ filename, mimeType, size, attachmentId }] }] } with exactly one message.',
  ].join(' '),
  input: z.object({
    message_id: messageIdField,
    format: messageFormatField('full'),
  }),
  annotations: readOnly('Get email'),
  scopes: READ_METADATA_SCOPES,
  async run(input, ctx) {
    const message = await readMessage(ctx, input.message_id, { format: input.format, maxBodyChars: SINGLE_BODY_CHARS });
    return { messages: [message] };
  },
});
