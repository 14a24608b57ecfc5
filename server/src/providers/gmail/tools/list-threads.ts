import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { resolveLabelIds } from '../label-resolver.js';
import { includeSpamTrashField, labelIdsField, maxResultsField, pageTokenField, searchQueryField } from '../params.js';
import { READ_METADATA_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

interface ThreadList {
  threads?: { id: string; snippet?: string; historyId?: string }[];
  nextPageToken?: string;
  resultSizeEstimate?: number;
}

export const listThreads = defineTool({
  name: 'gmail_list_threads',
  description: [
    'List email conversations (threads) matching a Gmail search query and/or labels, newest first. Cheap: returns only ids and a snippet per thread.',
    'Use gmail_get_thread_by_id to read a conversation, or gmail_fetch_mails when you want individual messages with their content in one call.',
    'Returns { threads: [{ id, snippet, historyId }], nextPageToken?, resultSizeEstimate }.',
  ].join(' '),
  input: z.object({
    query: searchQueryField.optional(),
    label_ids: labelIdsField
      .optional()
      .describe(
        'Only threads with a message carrying ALL of these labels, e.g. ["INBOX"]; ids expected, display names of user labels accepted.',
      ),
    max_results: maxResultsField(20, 500, 'threads'),
    page_token: pageTokenField.optional(),
    include_spam_trash: includeSpamTrashField,
  }),
  annotations: readOnly('List email threads'),
  scopes: READ_METADATA_SCOPES,
  async run(input, ctx) {
    const labelIds = await resolveLabelIds(ctx, input.label_ids ?? []);
    const answer = await ctx.api.request<ThreadList>({
      url: gmailUrl('threads'),
      query: {
        q: input.query?.trim() || undefined,
        labelIds: labelIds.length ? labelIds : undefined,
        maxResults: input.max_results,
        pageToken: input.page_token,
        includeSpamTrash: input.include_spam_trash || undefined,
      },
    });
    return { ...answer, threads: answer?.threads ?? [], resultSizeEstimate: answer?.resultSizeEstimate ?? 0 };
  },
});
