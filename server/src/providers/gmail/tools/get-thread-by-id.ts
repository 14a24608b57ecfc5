import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { assertFirstMessageFits, readWithinBudget } from '../budgeted-reads.js';
import { parseResponse, threadSchema } from '../gmail-types.js';
import { compactFor, formatQuery, SINGLE_BODY_CHARS } from '../message-reader.js';
import { threadIdField } from '../params.js';
import { READ_METADATA_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

/** Body characters across a whole thread; long threads repeat themselves in quotes anyway. */
const THREAD_BODY_CHARS = 150_000;
const MIN_BODY_CHARS = 2_000;
/** Messages compacted at once: each may load its large text parts from Gmail. */
const COMPACT_CONCURRENCY = 5;

export const getThreadById = defineTool({
  name: 'gmail_get_thread_by_id',
  description: [
    'Read a whole email conversation: every message of the thread, oldest first, each with headers, decoded plain-text body and attachment list.',
    'Use it to understand a discussion before replying (then gmail_reply_to_thread). Bodies are trimmed to share about 150,000 characters across the thread (trimmed ones have bodyTruncated: true).',
    'Returns { id, historyId, messages: [{ id, threadId, labelIds, snippet, internalDate, date, from, to, cc?, subject, body, html?, attachments, headers? }], truncated?, omittedMessageIds?, note? }.',
    'When the messages would pass the size one answer may have, it returns the oldest that fit, with truncated: true and the ids of the others in omittedMessageIds: read those with gmail_get_message_by_id.',
  ].join(' '),
  input: z.object({
    thread_id: threadIdField,
    format: z
      .enum(['full', 'full_html', 'metadata', 'minimal'])
      .default('full')
      .describe(
        'How much of each message: "full" (headers, text body, attachments), "full_html" (full plus HTML body), "metadata" (headers and snippet only), "minimal" (ids, labels, snippet).',
      ),
    metadata_headers: z
      .array(z.string().min(1))
      .optional()
      .describe('Extra header names to return per message under `headers`, e.g. ["Message-ID", "List-Unsubscribe"].'),
  }),
  annotations: readOnly('Get email thread'),
  scopes: READ_METADATA_SCOPES,
  async run(input, ctx) {
    const thread = parseResponse(
      threadSchema,
      await ctx.api.request({
        url: gmailUrl(`threads/${segment(input.thread_id)}`),
        query: formatQuery(input.format, input.metadata_headers),
      }),
      'thread',
    );
    const raw = thread.messages ?? [];
    const maxBodyChars = Math.max(
      MIN_BODY_CHARS,
      Math.min(SINGLE_BODY_CHARS, Math.floor(THREAD_BODY_CHARS / Math.max(1, raw.length))),
    );
    const answer = { id: thread.id, historyId: thread.historyId ?? '' };
    // Room for the answer around the messages, as if every one were left out.
    const envelope = { ...answer, messages: [], ...leftOutFields(raw.map((message) => message.id)) };
    const read = await readWithinBudget(
      raw,
      {
        concurrency: COMPACT_CONCURRENCY,
        budgetBytes: ctx.maxResultBytes - Buffer.byteLength(JSON.stringify(envelope)),
        signal: ctx.signal,
      },
      (message) =>
        compactFor(ctx, message, { format: input.format, maxBodyChars, headerNames: input.metadata_headers }),
    );
    assertFirstMessageFits(read, ctx.maxResultBytes, 'ask for format "metadata" or "minimal"');
    return {
      ...answer,
      messages: read.kept,
      ...(read.leftOut.length ? leftOutFields(read.leftOut.map((message) => message.id)) : {}),
    };
  },
});

/** What an answer cut short at the result limit says about the messages it left out. */
function leftOutFields(ids: string[]) {
  return {
    truncated: true as const,
    omittedMessageIds: ids,
    note: `${ids.length} of the thread's messages did not fit in this answer; read them with gmail_get_message_by_id, or ask for a smaller format.`,
  };
}
