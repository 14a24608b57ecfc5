import { z } from 'zod';
import type { ToolContext } from '../types.js';
import { buildRawEmail } from './mime-compose.js';
import { contentTypeField, recipientsField, threadIdField } from './params.js';
import { type ReplyHeaders, replyHeaders } from './reply-headers.js';

/** The input fields gmail_send_message, gmail_create_draft and gmail_update_draft share. */
export const composeFields = {
  to: recipientsField('Recipients (To)').min(1),
  subject: z.string().describe('Subject line. Non-ASCII text is fine; it is encoded for you.'),
  body: z.string().describe('Message text, plain text or HTML as set by `content_type`.'),
  cc: recipientsField('Carbon-copy recipients (Cc)').optional(),
  bcc: recipientsField('Blind-copy recipients (Bcc), hidden from the other recipients').optional(),
  content_type: contentTypeField,
  thread_id: threadIdField
    .optional()
    .describe(
      "Put the message into this existing conversation (a reply): the reply headers pointing at the thread's latest message are set for you. Keep the thread's subject so Gmail groups it.",
    ),
};

export interface ComposeInput {
  to: string;
  subject: string;
  body: string;
  cc?: string | undefined;
  bcc?: string | undefined;
  content_type: 'text/plain' | 'text/html';
  thread_id?: string | undefined;
}

/** Gmail's Message resource for a new email: `raw`, plus `threadId` when it continues a thread. */
export async function composeMessage(
  ctx: ToolContext,
  input: ComposeInput,
  options: { replyTo?: string | undefined; reply?: ReplyHeaders | undefined } = {},
): Promise<{ raw: string; threadId?: string }> {
  const reply =
    options.reply ?? (input.thread_id ? await replyHeaders(ctx, input.thread_id, options.replyTo) : undefined);
  const raw = buildRawEmail(
    {
      to: input.to,
      cc: input.cc,
      bcc: input.bcc,
      subject: input.subject,
      body: input.body,
      contentType: input.content_type,
      inReplyTo: reply?.inReplyTo || undefined,
      references: reply?.references || undefined,
    },
    ctx.now(),
  );
  return input.thread_id ? { raw, threadId: input.thread_id } : { raw };
}
