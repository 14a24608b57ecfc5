import { z } from 'zod';
import { defineTool } from '../../types.js';
import { creates } from '../annotations.js';
import { rawMessageParam } from '../mime-compose.js';
import { labelIdsField } from '../params.js';
import { INSERT_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const importMessage = defineTool({
  name: 'gmail_import_message',
  description: [
    "Import an existing email (full RFC 822 source) into the user's mailbox as if it had been received: Gmail runs its usual spam classification and scanning on it, and nothing is sent.",
    'Use it to migrate mail from another account; use gmail_insert_message to place a message without any processing, and gmail_send_message to send mail.',
    'Returns the new message { id, threadId, labelIds }.',
  ].join(' '),
  input: z.object({
    raw_message: z
      .string()
      .min(1)
      .describe(
        'The complete email as RFC 822 text (headers, a blank line, then the body). Already base64/base64url-encoded source is accepted too.',
      ),
    label_ids: labelIdsField.optional().describe('Label ids to give the message, e.g. ["INBOX", "UNREAD"].'),
    internal_date_source: z
      .enum(['receivedTime', 'dateHeader'])
      .default('dateHeader')
      .describe(
        'Which time Gmail records as the message date: "dateHeader" (the Date header, default) or "receivedTime" (now).',
      ),
    never_mark_spam: z
      .boolean()
      .default(false)
      .describe('Never send this message to SPAM, whatever the spam classifier says.'),
    process_for_calendar: z
      .boolean()
      .default(false)
      .describe("Let Gmail add calendar invitations found in the message to the user's calendar."),
    deleted: z
      .boolean()
      .default(false)
      .describe(
        'Import it as deleted: visible only to Google Vault administrators, never to the user. Google Workspace only.',
      ),
  }),
  annotations: creates('Import email into mailbox'),
  scopes: INSERT_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({
      method: 'POST',
      url: gmailUrl('messages/import'),
      query: {
        internalDateSource: input.internal_date_source,
        neverMarkSpam: input.never_mark_spam,
        processForCalendar: input.process_for_calendar,
        deleted: input.deleted,
      },
      body: { raw: rawMessageParam(input.raw_message), labelIds: input.label_ids ?? [] },
    });
  },
});
