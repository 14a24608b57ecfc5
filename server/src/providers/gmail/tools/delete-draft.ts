import { z } from 'zod';
import { defineTool } from '../../types.js';
import { deletes } from '../annotations.js';
import { draftIdField } from '../params.js';
import { DRAFT_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const deleteDraft = defineTool({
  name: 'gmail_delete_draft',
  description: 'Delete a draft permanently (it does not go to the Trash). Returns { success: true, id }.',
  input: z.object({ draft_id: draftIdField.describe('Id of the draft to delete.') }),
  annotations: deletes('Delete email draft'),
  scopes: DRAFT_SCOPES,
  async run(input, ctx) {
    await ctx.api.request({ method: 'DELETE', url: gmailUrl(`drafts/${segment(input.draft_id)}`) });
    return { success: true, id: input.draft_id };
  },
});
