import { z } from 'zod';
import { defineTool } from '../../types.js';
import { creates } from '../annotations.js';
import { rawMessageParam } from '../mime-compose.js';
import { labelIdsField } from '../params.js';
import { INSERT_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const insertMessage = defineTool({
  name: 'gmail_insert_message',
  description: [
    "Put an existing email (full RFC 822 source) straight into the user's mailbox, like IMAP APPEND: no sending, no spam or filter processing.",
    'Use gmail_import_message instead to have it treated like received mail (spam checks, filters), and gmail_send_message to actually send mail.',
    'Without label_ids the message gets no labels and shows only in All Mail; pass ["INBOX", "UNREAD"] to make it appear as new mail.',
    'Returns the new message { id, threadId, labelIds }.',
  ].join(' '),
  input: z.object({
    raw_message: z
      .string()
      .min(1)
      .describe(
        'The complete email as RFC 822 text (headers, a blank line, then the body), e.g. "From: a@example.com\\r\\nTo: b@example.com\\r\\nSubject: Hi\\r\\n\\r\\nHello". Already base64/base64url-encoded source is accepted too.',
      ),
    label_ids: labelIdsField.optional().describe('Label ids to give the message, e.g. ["INBOX", "UNREAD"].'),
    internal_date_source: z
      .enum(['receivedTime', 'dateHeader'])
      .default('receivedTime')
      .describe(
        'Which time Gmail records as the message date: "receivedTime" (now, default) or "dateHeader" (the Date header of the message).',
      ),
  }),
  annotations: creates('Insert email into mailbox'),
  scopes: INSERT_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({
      method: 'POST',
      url: gmailUrl('messages'),
      query: { internalDateSource: input.internal_date_source },
      body: { raw: rawMessageParam(input.raw_message), labelIds: input.label_ids ?? [] },
    });
  },
});
