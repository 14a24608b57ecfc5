import { z } from 'zod';
import { defineTool } from '../../types.js';
import { assertFirstMessageFits, readWithinBudget } from '../budgeted-reads.js';
import { isMessageList, messageListSchema, parseResponse } from '../gmail-types.js';
import { resolveLabelIds } from '../label-resolver.js';
import type { CompactMessage } from '../message-format.js';
import { LIST_BODY_CHARS, readListedMessage } from '../message-reader.js';
import {
  includeSpamTrashField,
  labelIdsField,
  maxResultsField,
  messageFormatField,
  pageTokenField,
  searchQueryField,
} from '../params.js';
import { READ_METADATA_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

/** Messages read at once after listing: fast, yet far below Gmail's per-user concurrency limit. */
const READ_CONCURRENCY = 5;
/** Body characters across one answer; each message's share shrinks when many are asked for. */
const TOTAL_BODY_CHARS = 100_000;
const MIN_BODY_CHARS = 1_000;

export const fetchMails = defineTool({
  name: 'gmail_fetch_mails',
  description: [
    "Search and read emails in the user's Gmail mailbox, newest first, in one call: lists the messages matching a Gmail search query and/or labels, then returns each one with its content.",
    'Use it for "what are my latest emails", "find the invoice from Acme", "unread mail from Bob this week". Use gmail_get_message_by_id to read one known message in full, gmail_get_thread_by_id for a whole conversation, gmail_list_threads to browse conversations.',
    'Returns { messages: [{ id, threadId, labelIds, snippet, internalDate (ms since epoch), date (ISO 8601), from, to, cc?, bcc?, replyTo?, subject, body (decoded plain text; HTML-only mail is converted to text), html? (format "full_html"/"raw" only), attachments: [{ filename, mimeType, size, attachmentId }] }], nextPageToken?, resultSizeEstimate, truncated?, omittedMessageIds?, note? }.',
    'Bodies are trimmed to keep the answer readable: at most 8,000 characters each, less when many messages are requested (about 100,000 in total); a trimmed body ends with a note and has bodyTruncated: true. Attachments are only listed; fetch their content with gmail_get_attachment_by_id.',
    'When the messages would pass the size one answer may have (large mail in format "raw", mostly), it returns those that fit, with truncated: true and the ids of the others in omittedMessageIds: read those with gmail_get_message_by_id; nextPageToken still continues after all of them.',
  ].join(' '),
  input: z.object({
    query: searchQueryField.optional(),
    label_ids: labelIdsField
      .optional()
      .describe(
        'Only messages carrying ALL of these labels, e.g. ["INBOX", "UNREAD"]. Label ids are expected; the display name of a user label is accepted too and resolved to its id. Combine with `query` freely.',
      ),
    max_results: maxResultsField(10, 500, 'messages'),
    page_token: pageTokenField.optional(),
    include_spam_trash: includeSpamTrashField,
    format: messageFormatField('full'),
  }),
  annotations: {
    title: 'Fetch emails',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: READ_METADATA_SCOPES,
  async run(input, ctx) {
    const labelIds = await resolveLabelIds(ctx, input.label_ids ?? []);
    const listed = parseResponse(
      messageListSchema,
      await ctx.api.request({
        url: gmailUrl('messages'),
        query: {
          q: input.query?.trim() || undefined,
          labelIds: labelIds.length ? labelIds : undefined,
          maxResults: input.max_results,
          pageToken: input.page_token,
          includeSpamTrash: input.include_spam_trash || undefined,
        },
      }),
      'message list',
      isMessageList,
    );
    const refs = listed.messages ?? [];
    const maxBodyChars = Math.max(
      MIN_BODY_CHARS,
      Math.min(LIST_BODY_CHARS, Math.floor(TOTAL_BODY_CHARS / Math.max(1, refs.length))),
    );
    const nextPage = listed.nextPageToken ? { nextPageToken: listed.nextPageToken } : {};
    // Room for the answer around the messages, as if every one were left out.
    const envelope = {
      messages: [],
      ...nextPage,
      resultSizeEstimate: listed.resultSizeEstimate ?? refs.length,
      ...leftOutFields(refs.map((ref) => ref.id)),
    };
    const read = await readWithinBudget(
      refs,
      {
        concurrency: READ_CONCURRENCY,
        budgetBytes: ctx.maxResultBytes - Buffer.byteLength(JSON.stringify(envelope)),
        signal: ctx.signal,
      },
      (ref) => readListedMessage(ctx, ref.id, { format: input.format, maxBodyChars }),
    );
    assertFirstMessageFits(
      read,
      ctx.maxResultBytes,
      input.format === 'raw' ? 'ask for format "full" instead of "raw"' : 'ask for format "metadata" or "minimal"',
    );
    const messages: CompactMessage[] = read.kept;
    return {
      messages,
      ...nextPage,
      resultSizeEstimate: listed.resultSizeEstimate ?? messages.length,
      ...(read.leftOut.length ? leftOutFields(read.leftOut.map((ref) => ref.id)) : {}),
    };
  },
});

/** What an answer cut short at the result limit says about the messages it left out. */
function leftOutFields(ids: string[]) {
  return {
    truncated: true as const,
    omittedMessageIds: ids,
    note: `${ids.length} of the listed messages did not fit in this answer; read them with gmail_get_message_by_id, or ask for fewer messages or a smaller format.`,
  };
}
