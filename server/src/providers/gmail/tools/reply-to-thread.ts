import { z } from 'zod';
import { defineTool } from '../../types.js';
import { creates } from '../annotations.js';
import { composeMessage } from '../compose-request.js';
import { contentTypeField, recipientsField, threadIdField } from '../params.js';
import { replyHeaders, replySubject } from '../reply-headers.js';
import { SEND_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const replyToThread = defineTool({
  name: 'gmail_reply_to_thread',
  description: [
    'Send a reply inside an existing email conversation, so it appears threaded for everyone. Replies to the thread\'s latest message unless in_reply_to_message_id names another; the subject defaults to "Re: <original subject>".',
    'Recipients are not guessed: pass `to` (usually the original sender, the `from` of the message you answer). To only prepare a reply, use gmail_create_draft with thread_id.',
    'Returns the sent message { id, threadId, labelIds }.',
  ].join(' '),
  input: z.object({
    thread_id: threadIdField.describe('Id of the conversation to reply in.'),
    to: recipientsField('Recipients (To) of the reply').min(1),
    body: z.string().describe('Reply text, plain text or HTML as set by `content_type`.'),
    cc: recipientsField('Carbon-copy recipients (Cc)').optional(),
    bcc: recipientsField('Blind-copy recipients (Bcc)').optional(),
    content_type: contentTypeField,
    subject: z
      .string()
      .optional()
      .describe(
        'Subject line; defaults to "Re: " plus the subject of the message replied to. Changing it may split the thread for other recipients.',
      ),
    in_reply_to_message_id: z
      .string()
      .min(1)
      .optional()
      .describe(
        'The message in the thread to answer: a Gmail message id, or its RFC 822 Message-ID header like "<abc@mail.example.com>". Defaults to the latest message.',
      ),
  }),
  annotations: creates('Reply to email thread'),
  scopes: SEND_SCOPES,
  async run(input, ctx) {
    const reply = await replyHeaders(ctx, input.thread_id, input.in_reply_to_message_id);
    const subject = input.subject?.trim() ? input.subject : replySubject(reply.subject);
    const message = await composeMessage(ctx, { ...input, subject }, { reply });
    return ctx.api.request({ method: 'POST', url: gmailUrl('messages/send'), body: message });
  },
});
