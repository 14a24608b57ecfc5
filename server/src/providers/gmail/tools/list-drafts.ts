import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { maxResultsField, pageTokenField } from '../params.js';
import { DRAFT_READ_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

interface DraftList {
  drafts?: { id: string; message?: { id: string; threadId?: string } }[];
  nextPageToken?: string;
  resultSizeEstimate?: number;
}

export const listDrafts = defineTool({
  name: 'gmail_list_drafts',
  description:
    "List the user's drafts, newest first. Returns { drafts: [{ id, message: { id, threadId } }], nextPageToken?, resultSizeEstimate }; read one with gmail_get_draft.",
  input: z.object({
    max_results: maxResultsField(20, 500, 'drafts'),
    page_token: pageTokenField.optional(),
  }),
  annotations: readOnly('List email drafts'),
  scopes: DRAFT_READ_SCOPES,
  async run(input, ctx) {
    const answer = await ctx.api.request<DraftList>({
      url: gmailUrl('drafts'),
      query: { maxResults: input.max_results, pageToken: input.page_token },
    });
    return { ...answer, drafts: answer?.drafts ?? [], resultSizeEstimate: answer?.resultSizeEstimate ?? 0 };
  },
});
