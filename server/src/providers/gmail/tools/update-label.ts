import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { labelIdField, labelListVisibilityField, messageListVisibilityField } from '../label-fields.js';
import { LABEL_WRITE_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const updateLabel = defineTool({
  name: 'gmail_update_label',
  description:
    'Rename a user label or change where it shows; only the fields you pass change. System labels (INBOX, SENT, …) cannot be renamed. Returns the updated label { id, name, type, labelListVisibility, messageListVisibility }.',
  input: z.object({
    label_id: labelIdField,
    name: z.string().min(1).max(225).optional().describe('New display name.'),
    label_list_visibility: labelListVisibilityField.optional(),
    message_list_visibility: messageListVisibilityField.optional(),
  }),
  annotations: setsState('Update email label', true),
  scopes: LABEL_WRITE_SCOPES,
  async run(input, ctx) {
    const body = {
      name: input.name,
      labelListVisibility: input.label_list_visibility,
      messageListVisibility: input.message_list_visibility,
    };
    if (Object.values(body).every((value) => value === undefined)) {
      throw new AppError(
        'tool_input_invalid',
        'give at least one of name, label_list_visibility, message_list_visibility',
      );
    }
    return ctx.api.request({ method: 'PATCH', url: gmailUrl(`labels/${segment(input.label_id)}`), body });
  },
});
