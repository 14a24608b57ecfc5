import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { SETTINGS_READ_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const getFilter = defineTool({
  name: 'gmail_get_filter',
  description:
    'Get one filter by id: what incoming mail it matches (criteria) and what it does to it (action). Returns { id, criteria: { from?, to?, subject?, query?, hasAttachment? }, action: { addLabelIds?, removeLabelIds?, forward? } }.',
  input: z.object({ filter_id: z.string().min(1).describe('Filter id, from gmail_list_filters.') }),
  annotations: readOnly('Get email filter'),
  scopes: SETTINGS_READ_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({ url: gmailUrl(`settings/filters/${segment(input.filter_id)}`) });
  },
});
