import { AppError } from '../../errors.js';
import type { ToolContext } from '../types.js';
import { type GmailMessage, parseResponse, threadSchema } from './gmail-types.js';
import { decodeHeader, headerValue } from './message-format.js';
import { gmailUrl, segment } from './urls.js';

/**
 * What a reply needs to land in an existing thread. Gmail files a sent message or draft
 * into `threadId` only when In-Reply-To/References point at a message of that thread and
 * the Subject matches, so the tools fill these in for the caller.
 * https://developers.google.com/workspace/gmail/api/guides/threads#adding_drafts_and_messages_to_threads
 */
export interface ReplyHeaders {
  inReplyTo: string;
  references: string;
  /** The replied-to message's subject, decoded. */
  subject: string;
  /** Gmail id of the message replied to. */
  messageId: string;
}

const REPLY_HEADER_NAMES = ['Message-ID', 'References', 'In-Reply-To', 'Subject', 'From'];

/**
 * Reads the thread's headers and picks the message to reply to: the one named by
 * `replyTo` (a Gmail message id, or an RFC 822 Message-ID like `<abc@mail.example>`),
 * otherwise the thread's latest message.
 */
export async function replyHeaders(ctx: ToolContext, threadId: string, replyTo?: string): Promise<ReplyHeaders> {
  const thread = parseResponse(
    threadSchema,
    await ctx.api.request({
      url: gmailUrl(`threads/${segment(threadId)}`),
      query: { format: 'metadata', metadataHeaders: REPLY_HEADER_NAMES },
    }),
    'thread',
  );
  const messages = thread.messages ?? [];
  let target: GmailMessage | undefined;
  if (replyTo) {
    const wanted = replyTo.trim();
    const bare = wanted.replace(/^<|>$/g, '');
    target = messages.find(
      (message) =>
        message.id === wanted ||
        headerValue(message.payload?.headers, 'Message-ID')?.trim().replace(/^<|>$/g, '') === bare,
    );
    if (!target) {
      throw new AppError(
        'tool_input_invalid',
        `message ${wanted} is not in thread ${threadId}; pass a message id from that thread or leave it out`,
      );
    }
  } else {
    target = messages.at(-1);
  }
  if (!target) throw new AppError('tool_input_invalid', `thread ${threadId} has no message to reply to`);

  const headers = target.payload?.headers;
  const messageIdHeader = headerValue(headers, 'Message-ID')?.trim() ?? '';
  const earlier = headerValue(headers, 'References')?.trim() || headerValue(headers, 'In-Reply-To')?.trim() || '';
  return {
    inReplyTo: messageIdHeader,
    references: [earlier, messageIdHeader].filter(Boolean).join(' '),
    subject: decodeHeader(headerValue(headers, 'Subject') ?? ''),
    messageId: target.id,
  };
}

/** "Re: <subject>" unless the subject already starts with a reply prefix. */
export function replySubject(subject: string): string {
  return /^\s*re:/i.test(subject) ? subject : `Re: ${subject}`.trim();
}
