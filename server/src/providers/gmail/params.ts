import { z } from 'zod';
import { MESSAGE_FORMATS } from './message-format.js';

/** Input fields several Gmail tools share, so their wording and bounds stay the same. */

export const messageIdField = z
  .string()
  .min(1)
  .describe('Gmail message id (the `id` of a message from gmail_fetch_mails or a thread), e.g. "18c2f0a1b2c3d4e5".');

export const threadIdField = z
  .string()
  .min(1)
  .describe('Gmail thread id (the `threadId` of a message, or the `id` from gmail_list_threads).');

export const draftIdField = z
  .string()
  .min(1)
  .describe('Draft id, as returned by gmail_list_drafts or gmail_create_draft.');

export const labelIdsField = z
  .array(z.string().min(1))
  .describe(
    'Label ids (not display names): system labels like INBOX, UNREAD, STARRED, IMPORTANT, SENT, DRAFT, SPAM, TRASH, CATEGORY_PERSONAL, or user label ids like "Label_12" from gmail_list_labels.',
  );

export const pageTokenField = z
  .string()
  .min(1)
  .describe('The `nextPageToken` of a previous call with the same filters, to get the next page.');

export const searchQueryField = z
  .string()
  .describe(
    'Gmail search query, same syntax as the Gmail search box, e.g. "from:alice@example.com is:unread newer_than:7d", "subject:invoice has:attachment", "in:sent after:2024/01/31".',
  );

export const includeSpamTrashField = z
  .boolean()
  .default(false)
  .describe('Also return messages in SPAM and TRASH (left out by default).');

export function maxResultsField(defaultValue: number, max: number, what: string) {
  return z
    .number()
    .int()
    .min(1)
    .max(max)
    .default(defaultValue)
    .describe(`How many ${what} to return per page (1-${max}).`);
}

export function messageFormatField(defaultValue: (typeof MESSAGE_FORMATS)[number]) {
  return z
    .enum(MESSAGE_FORMATS)
    .default(defaultValue)
    .describe(
      'How much of each message to return: "full" = headers, decoded plain-text body and attachment list; "full_html" = full plus the original HTML body; "metadata" = headers and snippet only (no body; fastest, works with the gmail.metadata scope); "minimal" = ids, labels, snippet and date only; "raw" = full plus html plus the RFC 822 source as base64url `raw` (a source too costly to decode here comes as `raw` only, with an empty body and a `note`).',
    );
}

/** Recipient list as Gmail's headers take it. */
export function recipientsField(what: string) {
  return z
    .string()
    .describe(
      `${what}: one or more email addresses separated by commas, each optionally with a display name, e.g. "alice@example.com, Bob Smith <bob@example.com>".`,
    );
}

export const contentTypeField = z
  .enum(['text/plain', 'text/html'])
  .default('text/plain')
  .describe(
    'Format of `body`: "text/plain" (default) or "text/html". HTML bodies are sent as multipart/alternative with a plain-text version generated from the HTML.',
  );
