import { z } from 'zod';
import { defineTool } from '../../types.js';
import { deletes } from '../annotations.js';
import { SETTINGS_BASIC_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const deleteFilter = defineTool({
  name: 'gmail_delete_filter',
  description:
    'Delete a filter, so it no longer applies to incoming mail (messages it already changed stay as they are). Returns { success: true, id }.',
  input: z.object({ filter_id: z.string().min(1).describe('Id of the filter to delete, from gmail_list_filters.') }),
  annotations: deletes('Delete email filter'),
  scopes: SETTINGS_BASIC_SCOPES,
  async run(input, ctx) {
    await ctx.api.request({ method: 'DELETE', url: gmailUrl(`settings/filters/${segment(input.filter_id)}`) });
    return { success: true, id: input.filter_id };
  },
});
