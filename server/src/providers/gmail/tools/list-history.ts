import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { maxResultsField, pageTokenField } from '../params.js';
import { READ_METADATA_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

interface HistoryList {
  history?: unknown[];
  nextPageToken?: string;
  historyId?: string;
}

export const listHistory = defineTool({
  name: 'gmail_list_history',
  description: [
    'List what changed in the mailbox since a known point (a historyId from gmail_get_profile, a message, a thread or gmail_watch_mailbox): messages added or deleted, labels added or removed.',
    'Use it to sync or to react to new mail without re-reading everything. An old start_history_id (about a week or more) fails with a not-found error; then start again from gmail_get_profile.',
    'Returns { history: [{ id, messages, messagesAdded?, messagesDeleted?, labelsAdded?, labelsRemoved? }], historyId (the current point), nextPageToken? }.',
  ].join(' '),
  input: z.object({
    start_history_id: z
      .string()
      .regex(/^\d+$/, 'a history id is a number, given as a string')
      .describe('Return changes after this history id, e.g. the historyId of gmail_get_profile.'),
    history_types: z
      .array(z.enum(['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved']))
      .optional()
      .describe('Only these kinds of change; all kinds when left out.'),
    label_id: z.string().min(1).optional().describe('Only changes to messages with this label id, e.g. "INBOX".'),
    max_results: maxResultsField(100, 500, 'history records'),
    page_token: pageTokenField.optional(),
  }),
  annotations: readOnly('List mailbox changes'),
  scopes: READ_METADATA_SCOPES,
  async run(input, ctx) {
    const answer = await ctx.api.request<HistoryList>({
      url: gmailUrl('history'),
      query: {
        startHistoryId: input.start_history_id,
        historyTypes: input.history_types?.length ? input.history_types : undefined,
        labelId: input.label_id,
        maxResults: input.max_results,
        pageToken: input.page_token,
      },
    });
    return { ...answer, history: answer?.history ?? [] };
  },
});
