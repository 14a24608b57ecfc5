import { z } from 'zod';
import { defineTool } from '../../types.js';
import { deletes } from '../annotations.js';
import { labelIdField } from '../label-fields.js';
import { LABEL_WRITE_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const deleteLabel = defineTool({
  name: 'gmail_delete_label',
  description:
    'Delete a user label permanently and remove it from every message that carries it (the messages themselves stay). System labels cannot be deleted. Returns { success: true, id }.',
  input: z.object({ label_id: labelIdField.describe('Id of the user label to delete, e.g. "Label_12".') }),
  annotations: deletes('Delete email label'),
  scopes: LABEL_WRITE_SCOPES,
  async run(input, ctx) {
    await ctx.api.request({ method: 'DELETE', url: gmailUrl(`labels/${segment(input.label_id)}`) });
    return { success: true, id: input.label_id };
  },
});
