import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { SETTINGS_READ_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const listFilters = defineTool({
  name: 'gmail_list_filters',
  description:
    "List the mailbox's filters (rules applied to incoming mail). Returns { filter: [{ id, criteria: { from?, to?, subject?, query?, hasAttachment?, … }, action: { addLabelIds?, removeLabelIds?, forward? } }] } — Gmail names the list `filter`.",
  input: z.object({}),
  annotations: readOnly('List email filters'),
  scopes: SETTINGS_READ_SCOPES,
  async run(_input, ctx) {
    const answer = await ctx.api.request<{ filter?: unknown[] }>({ url: gmailUrl('settings/filters') });
    return { filter: answer?.filter ?? [] };
  },
});
